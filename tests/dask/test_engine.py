"""The dask engine gives the local engine's report: on a LocalCluster of two worker
processes (started once for the module: see conftest.py), every task, --by, weights, a
baseline and gates, the second pass of detection, --drop-missing, and errors; --output as a
directory of parts.

Dask is a test dependency: these tests run wherever the tests do, never skipped."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import lossctl
from lossctl.errors import MissingExtra, MissingValue, SchedulerUnreachable
from tests.cli.helpers import run_eval
from tests.dask.data import assert_same, task_frames, write_parts

TASKS = ("binary", "multiclass", "multilabel", "regression")
COLUMNS = {
    "binary": ["p"],
    "multiclass": ["a", "b", "c"],
    "multilabel": ["l0", "l1", "l2"],
    "regression": ["v"],
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str]]:
    root = tmp_path_factory.mktemp("parts")
    found = {}
    for i, task in enumerate(TASKS):
        preds, targets = task_frames(task, seed=i)
        found[task] = (
            write_parts(root, f"{task}_preds", preds),
            write_parts(root, f"{task}_targets", targets),
        )
    preds, _ = task_frames("binary", seed=9)
    found["baseline"] = (write_parts(root, "binary_baseline", preds), "")
    return found


def both(preds: str, targets: str | None, scheduler: str, **options: Any) -> dict[str, Any]:
    """The report of each engine, checked to be the same; the local one."""
    local = lossctl.evaluate(preds, targets, **options).to_dict()
    dask = lossctl.evaluate(preds, targets, engine="dask", scheduler=scheduler, **options)
    assert_same(local, dask.to_dict())
    assert not any("dask engine" in reason for reason in local["detection"]["reasons"])
    return local


@pytest.mark.parametrize("task", TASKS)
def test_every_task_with_weights_and_groups(
    task: str, inputs: dict[str, tuple[str, str]], scheduler: str
) -> None:
    preds, targets = inputs[task]
    doc = both(preds, targets, scheduler, pred_cols=COLUMNS[task], weight_col="w", by="g")
    assert doc["task"] == task and doc["n_samples"] == 3_412


LOSSES = [
    ("binary", {"loss": "focal", "gamma": 1.5, "alpha": 0.25}),
    ("binary", {"pos_weight": 3.0, "compat": "torch"}),
    ("multiclass", {"class_weight": "balanced", "label_smoothing": 0.1}),
    ("multilabel", {"compat": "keras"}),
    ("regression", {"loss": "huber", "delta": 0.5}),
]


@pytest.mark.parametrize(("task", "options"), LOSSES, ids=lambda v: str(v))
def test_the_loss_options(
    task: str, options: dict[str, Any], inputs: dict[str, tuple[str, str]], scheduler: str
) -> None:
    """--loss, its parameters, class weights (a first pass) and --compat on the cluster."""
    preds, targets = inputs[task]
    doc = both(
        preds, targets, scheduler, pred_cols=COLUMNS[task], weight_col="w", by="g", **options
    )
    assert (doc["task"], doc["compat"]) == (task, options.get("compat", "sklearn"))


def test_a_baseline_and_gates(inputs: dict[str, tuple[str, str]], scheduler: str) -> None:
    preds, targets = inputs["binary"]
    doc = both(
        preds,
        targets,
        scheduler,
        pred_cols=["p"],
        weight_col="w",
        baseline=inputs["baseline"][0],
        max_increase_pct=1.0,
        max_loss=0.5,
        min_d2=0.1,
        max_accuracy_drop=0.05,
        max_auc_drop=0.05,
        n_bootstrap=200,
    )
    names = ["max_loss", "max_increase_pct", "min_d2", "max_accuracy_drop", "max_auc_drop"]
    assert [g["name"] for g in doc["gates"]] == names
    assert doc["baseline"]["n_samples"] == 3_412
    assert {"metrics", "confusion_matrix", "reliability"} <= set(doc["baseline"])


def test_detection_over_every_partition_takes_a_second_pass(tmp_path: Path, scheduler: str) -> None:
    """Parts 0-2 lie in [0, 1], part 3 does not: the whole input holds logits."""
    rng = np.random.default_rng(3)
    preds = [pd.DataFrame({"p": rng.uniform(0, 1, 400)}) for _ in range(3)]
    preds.append(pd.DataFrame({"p": rng.normal(0, 3, 400)}))
    targets = [pd.DataFrame({"y": rng.integers(0, 2, 400)}) for _ in range(4)]
    doc = both(write_parts(tmp_path, "p", preds), write_parts(tmp_path, "t", targets), scheduler)
    assert doc["prediction_kind"] == "logits"


def test_missing_values_dropped_or_named(tmp_path: Path, scheduler: str) -> None:
    preds, targets = task_frames("binary", seed=4)
    preds[2].loc[[5, 17], "p"] = np.nan
    p, t = write_parts(tmp_path, "p", preds, "csv"), write_parts(tmp_path, "t", targets, "csv")
    doc = both(p, t, scheduler, pred_cols=["p"], drop_missing=True)
    assert doc["n_dropped"] == 2
    with pytest.raises(MissingValue) as local:
        lossctl.evaluate(p, t, pred_cols=["p"])
    with pytest.raises(MissingValue) as dask:
        lossctl.evaluate(p, t, pred_cols=["p"], engine="dask", scheduler=scheduler)
    assert str(dask.value) == str(local.value)
    assert "part-02.csv" in str(dask.value) and "row 6" in str(dask.value)


def test_one_file_with_the_targets_in_it(tmp_path: Path, scheduler: str) -> None:
    preds, targets = task_frames("regression", seed=5)
    joined = [p.assign(t=t["t"]) for p, t in zip(preds, targets, strict=True)]
    both(write_parts(tmp_path, "j", joined), None, scheduler, target_cols=["t"], pred_cols=["v"])


def test_targets_split_at_other_rows_are_read_on_the_client(tmp_path: Path, scheduler: str) -> None:
    """Aligned by position, parts of the predictions against one file of targets: the
    client reads them, and the reasons say so."""
    preds, targets = task_frames("binary", seed=7)
    p = write_parts(tmp_path, "p", preds)
    t = tmp_path / "t.parquet"
    pd.concat(targets).to_parquet(t, index=False)
    local = lossctl.evaluate(p, str(t), pred_cols=["p"]).to_dict()
    dask = lossctl.evaluate(p, str(t), pred_cols=["p"], engine="dask", scheduler=scheduler)
    doc = dask.to_dict()
    note = (
        "the dask engine read the inputs on the client: the parts of the two inputs do not "
        "hold the same rows"
    )
    assert note in doc["detection"]["reasons"]
    doc["detection"]["reasons"].remove(note)
    doc["detection"]["text"] = doc["detection"]["text"].replace(f"; {note}", "")
    assert_same(local, doc)


def test_the_cli_writes_a_directory_of_parts(
    inputs: dict[str, tuple[str, str]], tmp_path: Path, scheduler: str
) -> None:
    preds, targets = inputs["multiclass"]
    args = [preds, targets, "--pred-col", "a,b,c", "--format", "json"]
    local = run_eval(*args, "--output", str(tmp_path / "local.parquet"))
    out = tmp_path / "scored.parquet"
    dask = run_eval(*args, "--engine", "dask", "--scheduler", scheduler, "--output", str(out))
    assert (local.exit_code, dask.exit_code, dask.stderr) == (0, 0, "")
    assert_same(json.loads(local.stdout), json.loads(dask.stdout))
    assert sorted(os.listdir(out)) == [f"part-{i:05d}.parquet" for i in range(4)]
    whole = pd.read_parquet(tmp_path / "local.parquet")
    parted = pd.read_parquet(out)  # (pyarrow reads the parts in order)
    assert list(parted.columns) == list(whole.columns) == ["loss", "predicted"]
    np.testing.assert_allclose(parted["loss"], whole["loss"], rtol=1e-12)
    assert list(parted["predicted"]) == list(whole["predicted"])
    assert sorted(os.listdir(tmp_path)) == ["local.parquet", "scored.parquet"]


def test_an_error_leaves_no_directory(tmp_path: Path, scheduler: str) -> None:
    preds, targets = task_frames("binary", seed=6)
    preds[3].loc[4, "p"] = np.nan
    p, t = write_parts(tmp_path, "p", preds), write_parts(tmp_path, "t", targets)
    out = tmp_path / "out.csv"
    result = run_eval(
        p, t, "--pred-col", "p", "--engine", "dask", "--scheduler", scheduler, "--output", str(out)
    )
    assert result.exit_code == 2 and "part-03.parquet, column 'p', row 5" in result.stderr
    assert sorted(os.listdir(tmp_path)) == ["p", "t"]


def test_an_unreachable_scheduler_is_one_line(sample: Any) -> None:
    files = sample("binary_probs.csv"), sample("binary_labels.csv")
    with pytest.raises(SchedulerUnreachable) as error:
        lossctl.evaluate(*files, engine="dask", scheduler="tcp://127.0.0.1:9")
    assert str(error.value).startswith("tcp://127.0.0.1:9: cannot reach the Dask scheduler")


def test_without_dask_the_engine_names_the_extra(
    sample: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(__import__("sys").modules, "distributed", None)
    files = sample("binary_probs.csv"), sample("binary_labels.csv")
    with pytest.raises(MissingExtra) as error:
        lossctl.evaluate(*files, engine="dask")
    assert "pip install 'lossctl[dask]'" in str(error.value)
