"""Rows matched by id on the dask engine: parts side by side join in step on the workers;
any other split is joined through Dask. Each gives the local engine's report (the first
and worst rows, the per-sample losses in the order of PREDICTIONS, their ids and target
rows), or its error message; which way ran is told by the tasks that ran."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import distributed
import numpy as np
import pandas as pd
import pytest

import lossctl
from lossctl.errors import DuplicateIds, EmptyId, LossctlError, MissingIds, MissingValue
from lossctl.report.model import Report
from tests.cli.helpers import run_eval
from tests.dask.data import SIZES, assert_same, task_frames, write_parts

Tasks = Callable[[], AbstractContextManager[set[str]]]
N = sum(SIZES)
OPTIONS: dict[str, Any] = {
    "pred_cols": ["a", "b", "c"],
    "weight_col": "w",
    "by": "g",
    "id_col": "id",
}
JOINED = "join_bucket"  # the task that joins a bucket of ids through Dask
CHECKED = "unique_bucket"  # the task that checks a bucket of the predictions' ids


def frames(
    ids: list[Any] | np.ndarray, seed: int = 0
) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """Multiclass predictions (with a weight ``w`` and a group ``g``) and targets in parts
    of :data:`SIZES` rows, each row with its id from ``ids``; the rows of each target part
    in another order than its prediction part's."""
    preds, targets = task_frames("multiclass", seed)
    rng = np.random.default_rng(seed + 100)
    start = 0
    for k, n in enumerate(SIZES):
        part_ids = list(ids[start : start + n])
        preds[k].insert(0, "id", part_ids)
        targets[k].insert(0, "id", part_ids)
        targets[k] = targets[k].iloc[rng.permutation(n)].reset_index(drop=True)
        start += n
    return preds, targets


def same(local: Report, dask: Report) -> None:
    """The same report: the JSON document, the first and worst rows, and the per-sample
    losses in the same order, with the same ids, weights and target rows."""
    assert_same(local.to_dict(), dask.to_dict())
    assert_same(
        [[dataclasses.asdict(s) for s in rows] for rows in local.samples],
        [[dataclasses.asdict(s) for s in rows] for rows in dask.samples],
    )
    assert local.losses is not None and dask.losses is not None
    np.testing.assert_allclose(dask.losses, local.losses, rtol=1e-12, atol=1e-12)
    for name in ("ids", "weights", "target_rows"):
        np.testing.assert_array_equal(getattr(dask, name), getattr(local, name), err_msg=name)


def both(preds: str, targets: str, scheduler: str, **options: Any) -> Report:
    """The report of each engine, checked to be the same (read on the cluster); the local one."""
    local = lossctl.evaluate(preds, targets, **options)
    dask = lossctl.evaluate(preds, targets, engine="dask", scheduler=scheduler, **options)
    same(local, dask)
    assert not any("dask engine" in reason for reason in dask.reasons), dask.reasons
    return local


def same_error(preds: str, targets: str, scheduler: str, error: type[LossctlError]) -> str:
    with pytest.raises(error) as local:
        lossctl.evaluate(preds, targets, **OPTIONS)
    with pytest.raises(error) as dask:
        lossctl.evaluate(preds, targets, engine="dask", scheduler=scheduler, **OPTIONS)
    assert str(dask.value) == str(local.value)
    return str(local.value)


@pytest.mark.parametrize("kind", ["int", "text"])
def test_parts_side_by_side_join_in_step(
    kind: str, tmp_path: Path, scheduler: str, tasks: Tasks
) -> None:
    """Ids that increase across the parts: each partition joins its own rows (in another
    order within the part), and the ranges of the ids prove that no id is in two."""
    ids = np.arange(N) * 3 if kind == "int" else [f"img-{i:05d}" for i in range(N)]
    preds, targets = frames(ids)
    p, t = write_parts(tmp_path, "p", preds), write_parts(tmp_path, "t", targets)
    with tasks() as ran:
        report = both(p, t, scheduler, **OPTIONS)
    assert report.n_samples == N
    assert "partition_pass" in ran and not {JOINED, CHECKED} & ran


def test_ids_in_no_order_are_checked_in_buckets(
    tmp_path: Path, scheduler: str, tasks: Tasks
) -> None:
    """Ids in no order: the ranges of the parts overlap, so the buckets of the
    predictions' ids tell that none is in two parts; the partitions joined in step."""
    ids = np.random.default_rng(1).permutation(10 * N)[:N]
    preds, targets = frames(ids, seed=1)
    p, t = write_parts(tmp_path, "p", preds), write_parts(tmp_path, "t", targets)
    with tasks() as ran:
        both(p, t, scheduler, **OPTIONS)
    assert CHECKED in ran and JOINED not in ran


def _one_file(targets: list[pd.DataFrame], path: Path, seed: int) -> str:
    whole = pd.concat(targets, ignore_index=True)
    whole = whole.iloc[np.random.default_rng(seed).permutation(len(whole))]
    if path.suffix == ".csv":
        whole.to_csv(path, index=False)
    else:
        whole.to_parquet(path, index=False)
    return str(path)


def _other_boundaries(targets: list[pd.DataFrame], root: Path) -> str:
    whole = pd.concat(targets, ignore_index=True).iloc[::-1]
    cuts = [0, 1000, 2000, 3000, N]
    return write_parts(root, "t", [whole.iloc[a:b] for a, b in itertools.pairwise(cuts)])


def _rows_swapped(targets: list[pd.DataFrame], root: Path) -> str:
    """The same rows in each part, but ten of part 0 and ten of part 1 change places."""
    first, second = targets[0], targets[1]
    targets[0] = pd.concat([first.iloc[10:], second.iloc[:10]], ignore_index=True)
    targets[1] = pd.concat([second.iloc[10:], first.iloc[:10]], ignore_index=True)
    return write_parts(root, "t", targets)


SPLITS: dict[str, Callable[[list[pd.DataFrame], Path], str]] = {
    "one CSV file in another order": lambda t, root: _one_file(t, root / "t.csv", 2),
    "parts at other rows": _other_boundaries,
    "parts of the same sizes, ids in other parts": _rows_swapped,
}


@pytest.mark.parametrize("split", SPLITS)
def test_other_splits_are_joined_through_dask(
    split: str, tmp_path: Path, scheduler: str, tasks: Tasks, dask_client: distributed.Client
) -> None:
    """The same report; and once it is made, the cluster holds nothing of the run (the
    aligned targets are let go of with the run)."""
    ids = [f"r{i}" for i in np.random.default_rng(2).permutation(N)]
    preds, targets = frames(ids, seed=2)
    p = write_parts(tmp_path, "p", preds)
    t = SPLITS[split](targets, tmp_path)
    with tasks() as ran:
        both(p, t, scheduler, **OPTIONS)
    assert JOINED in ran
    left = dask_client.run_on_scheduler(_tasks_held)
    for _ in range(50):
        if not left:
            break
        time.sleep(0.1)
        left = dask_client.run_on_scheduler(_tasks_held)
    assert left == 0


def _tasks_held(dask_scheduler: Any) -> int:
    return len(dask_scheduler.tasks)


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel", "regression"])
def test_every_task_joined_through_dask(task: str, tmp_path: Path, scheduler: str) -> None:
    """Each task's target columns (three of them for multilabel) through the join."""
    preds, targets = task_frames(task, seed=12)
    start = 0
    for pred, target in zip(preds, targets, strict=True):
        ids = [f"s{i}" for i in range(start, start + len(pred))]
        pred.insert(0, "id", ids)
        target.insert(0, "id", ids)
        start += len(pred)
    names = [c for c in preds[0].columns if c not in ("id", "w", "g")]
    t = _one_file(targets, tmp_path / "t.parquet", 12)
    options = {"pred_cols": names, "weight_col": "w", "by": "g", "id_col": "id"}
    assert both(write_parts(tmp_path, "p", preds), t, scheduler, **options).task == task


def test_weights_and_groups_of_the_targets_go_through_the_join(
    tmp_path: Path, scheduler: str
) -> None:
    preds, targets = frames(np.arange(N), seed=3)
    for pred, target in zip(preds, targets, strict=True):
        order = target["id"].to_numpy()
        target["w2"] = pred.set_index("id").loc[order, "w"].to_numpy() + 1
        target["g2"] = pred.set_index("id").loc[order, "g"].to_numpy()
    t = _one_file(targets, tmp_path / "t.parquet", 3)
    options = {**OPTIONS, "weight_col": "w2", "by": "g2"}
    report = both(write_parts(tmp_path, "p", preds), t, scheduler, **options)
    assert report.weights is not None and report.inputs.by_column == "g2"


def test_a_baseline_joined_by_id(tmp_path: Path, scheduler: str) -> None:
    preds, targets = frames(np.arange(N), seed=4)
    base, _ = frames(np.arange(N), seed=5)
    t = _one_file(targets, tmp_path / "t.parquet", 4)
    p, b = write_parts(tmp_path, "p", preds), write_parts(tmp_path, "b", base)
    report = both(p, t, scheduler, **OPTIONS, baseline=b, max_increase_pct=1.0, n_bootstrap=100)
    assert report.baseline is not None and report.baseline.n_samples == N


def _duplicate_within_a_part(preds: list[pd.DataFrame], targets: list[pd.DataFrame]) -> None:
    preds[2].loc[9, "id"] = preds[2].loc[5, "id"]


def _duplicate_across_parts(preds: list[pd.DataFrame], targets: list[pd.DataFrame]) -> None:
    """The same id in parts 1 and 3 of both inputs: each partition joins, in step."""
    for frames_ in (preds, targets):
        frames_[3].loc[frames_[3]["id"] == 3000, "id"] = 800


def _missing(preds: list[pd.DataFrame], targets: list[pd.DataFrame]) -> None:
    targets[1].loc[4, "id"] = 10 * N  # no prediction has it, and one prediction loses its target


def _empty(preds: list[pd.DataFrame], targets: list[pd.DataFrame]) -> None:
    preds[1]["id"] = preds[1]["id"].astype("Int64")
    preds[1].loc[3, "id"] = None


ERRORS = {
    "a duplicate within a part": (_duplicate_within_a_part, DuplicateIds, "ids appear more"),
    "a duplicate across parts": (_duplicate_across_parts, DuplicateIds, "the first, 800,"),
    "an id on one side only": (_missing, MissingIds, "1 ids of"),
    "an empty id": (_empty, EmptyId, "part-01.parquet, column 'id', row 4"),
}


@pytest.mark.parametrize("case", ERRORS)
@pytest.mark.parametrize("targets_as", ["parts", "one file"])
def test_id_errors_are_the_local_engines(
    case: str, targets_as: str, tmp_path: Path, scheduler: str
) -> None:
    spoil, error, words = ERRORS[case]
    preds, targets = frames(np.arange(N), seed=6)
    spoil(preds, targets)
    p = write_parts(tmp_path, "p", preds)
    if targets_as == "parts":
        t = write_parts(tmp_path, "t", targets)
    else:
        t = _one_file(targets, tmp_path / "t.parquet", 6)
    message = same_error(p, t, scheduler, error)
    assert words in message


def test_output_after_the_join_through_dask(tmp_path: Path, scheduler: str) -> None:
    """--output: a part per prediction part, its rows in their order, with their ids, as
    the local engine's file; --format csv: the local engine's."""
    preds, targets = frames([f"r{i}" for i in range(N)], seed=7)
    p = write_parts(tmp_path, "p", preds)
    t = _one_file(targets, tmp_path / "t.parquet", 7)
    args = [p, t, "--pred-col", "a,b,c", "--id", "id", "--weight-col", "w"]
    local = run_eval(*args, "--format", "csv", "--output", str(tmp_path / "local.parquet"))
    out = tmp_path / "scored.parquet"
    dask = run_eval(
        *args, "--format", "csv", "--engine", "dask", "--scheduler", scheduler, "--output", str(out)
    )
    assert (local.exit_code, dask.exit_code, dask.stderr) == (0, 0, "")
    assert dask.stdout == local.stdout
    assert sorted(os.listdir(out)) == [f"part-{i:05d}.parquet" for i in range(4)]
    whole = pd.read_parquet(tmp_path / "local.parquet")
    for k, pred in enumerate(preds):
        part = pd.read_parquet(out / f"part-{k:05d}.parquet")
        assert list(part["id"]) == list(pred["id"])
    parted = pd.read_parquet(out)
    assert list(parted.columns) == list(whole.columns) == ["id", "loss", "predicted"]
    np.testing.assert_allclose(parted["loss"], whole["loss"], rtol=1e-12)
    assert list(parted["id"]) == list(whole["id"])


@pytest.mark.parametrize("matched", ["by position", "by id, side by side", "by id, through Dask"])
def test_an_empty_part(matched: str, tmp_path: Path, scheduler: str) -> None:
    """A part with a header and no rows, among others: nothing to evaluate in it."""
    preds, targets = frames(np.arange(N), seed=8)
    if matched == "by position":
        targets = [t.sort_values("id").reset_index(drop=True) for t in targets]
    preds.insert(2, preds[0].iloc[:0])
    targets.insert(2, targets[0].iloc[:0])
    if matched == "by id, through Dask":
        whole = pd.concat(targets, ignore_index=True)
        targets = [whole.iloc[:1000], whole.iloc[:0], whole.iloc[1000:]]
    p, t = write_parts(tmp_path, "p", preds, "csv"), write_parts(tmp_path, "t", targets, "csv")
    by_id = matched != "by position"
    options = {**OPTIONS, "id_col": "id" if by_id else None, "no_id": not by_id}
    assert both(p, t, scheduler, **options).n_samples == N


def test_the_cli_json_after_the_join(tmp_path: Path, scheduler: str) -> None:
    preds, targets = frames(np.arange(N), seed=9)
    p = write_parts(tmp_path, "p", preds)
    t = _one_file(targets, tmp_path / "t.csv", 9)
    args = [p, t, "--pred-col", "a,b,c", "--format", "json"]
    local = run_eval(*args)
    dask = run_eval(*args, "--engine", "dask", "--scheduler", scheduler)
    assert (local.exit_code, dask.exit_code, dask.stderr) == (0, 0, "")
    assert_same(json.loads(local.stdout), json.loads(dask.stdout))


def test_a_missing_target_is_named_through_the_join(tmp_path: Path, scheduler: str) -> None:
    """The rows of the targets keep their numbers through the join: a missing target is
    named by its row in its file, and --drop-missing drops it as the local engine does."""
    preds, targets = frames(np.arange(N), seed=10)
    targets[2].loc[7, "y"] = None
    p = write_parts(tmp_path, "p", preds)
    t = _one_file(targets, tmp_path / "t.csv", 10)
    message = same_error(p, t, scheduler, MissingValue)
    assert "t.csv, column 'y', row " in message
    report = both(p, t, scheduler, **OPTIONS, drop_missing=True)
    assert report.n_dropped == 1
