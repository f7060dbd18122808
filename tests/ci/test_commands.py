"""``lossctl detect`` (the decision alone) and ``lossctl losses`` (the registry)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import lossctl
from lossctl.core.losses import LOSSES
from tests.ci.data import write_csv
from tests.cli.helpers import assert_input_error, run, sample_path

PAIRS = {
    "binary": ("binary_logits.csv", "binary_labels.csv"),
    "multiclass": ("multiclass_probs.csv", "multiclass_labels.csv"),
    "multilabel": ("multilabel_logits.csv", "multilabel_labels.csv"),
    "regression": ("regression_preds.csv.gz", "regression_targets.csv"),
}

#: The SPEC's table of tasks and activations.
ACTIVATIONS = {
    "binary": "sigmoid",
    "multiclass": "softmax",
    "multilabel": "sigmoid",
    "regression": "identity",
}

DETECT_KEYS = {
    "schema_version",
    "task",
    "activation",
    "prediction_kind",
    "loss",
    "target_encoding",
    "alignment",
    "reasons",
    "n_samples",
    "inputs",
}


@pytest.mark.parametrize("task", list(PAIRS))
def test_detect_json_equals_the_library(task: str) -> None:
    preds, targets = (sample_path(name) for name in PAIRS[task])
    result = run("detect", preds, targets, "--format", "json")
    assert (result.exit_code, result.stderr) == (0, "")
    doc = json.loads(result.stdout)
    assert doc == lossctl.detect(preds, targets).to_dict()
    assert set(doc) == DETECT_KEYS
    assert doc["task"] == task and doc["activation"] == ACTIVATIONS[task]


@pytest.mark.parametrize("task", list(PAIRS))
def test_detect_agrees_with_eval(task: str) -> None:
    preds, targets = (sample_path(name) for name in PAIRS[task])
    found = lossctl.detect(preds, targets).to_dict()
    report = lossctl.evaluate(preds, targets).to_dict()
    for key in ("task", "activation", "prediction_kind", "loss", "n_samples", "inputs"):
        assert found[key] == report[key], key
    detection = report["detection"]
    assert found["reasons"] == detection["reasons"]
    assert found["target_encoding"] == detection["target_encoding"]
    assert found["alignment"] == detection["alignment"]


def test_detect_table_shows_the_decision_and_no_losses() -> None:
    preds, targets = (sample_path(name) for name in PAIRS["multiclass"])
    result = run("detect", preds, targets, env={"COLUMNS": "200"})
    assert (result.exit_code, result.stderr) == (0, "")
    out = result.stdout
    assert "multiclass: softmax + categorical_cross_entropy" in out
    assert "one target column and 3 prediction columns" in out
    assert "every target is a prediction column name, so class names" in out
    assert "samples      150" in out
    assert "mean loss" not in out and "histogram" not in out.lower()


def test_detect_follows_the_overrides(tmp_path: Path) -> None:
    preds = write_csv(tmp_path / "p.csv", {"p": [0.2, 0.7, 0.9], "w": [1.0, 2.0, 1.0]})
    targets = write_csv(tmp_path / "t.csv", {"y": [0, 1, 1]})
    result = run(
        "detect",
        preds,
        targets,
        "--weight-col",
        "w",
        "--task",
        "regression",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert (doc["task"], doc["activation"]) == ("regression", "identity")
    assert doc["inputs"]["weight_column"] == "w" and doc["inputs"]["pred_columns"] == ["p"]
    logits = json.loads(
        run("detect", preds, targets, "--pred-col", "p", "--from-logits", "--format", "json").stdout
    )
    assert (logits["task"], logits["prediction_kind"]) == ("binary", "logits")


def test_detect_single_file_mode() -> None:
    path = sample_path("binary_single.csv")
    result = run(
        "detect", path, "--target-col", "churned", "--weight-col", "weight", "--format", "json"
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["task"] == "binary" and doc["inputs"]["targets"] is None
    assert doc == lossctl.detect(path, target_cols="churned", weight_col="weight").to_dict()


def test_detect_input_errors_exit_2(tmp_path: Path) -> None:
    preds = write_csv(tmp_path / "p.csv", {"p": [0.2, 0.7]})
    targets = write_csv(tmp_path / "t.csv", {"y": [0, 1, 1]})
    assert_input_error(run("detect", preds, targets), "2 rows", "3")
    assert_input_error(run("detect", preds, targets, "--pred-col", "q"), "'q'", "--pred-col")


def test_losses_lists_every_loss_of_the_registry() -> None:
    result = run("losses", env={"COLUMNS": "200"})
    assert (result.exit_code, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    for spec in LOSSES.values():
        row = next(
            line
            for line in lines
            if f" {spec.label} " in line and f" {spec.task} " in line and f" {spec.option} " in line
        )
        assert spec.activation in row


def test_losses_names_are_not_cut_at_80_columns() -> None:
    result = run("losses", env={"COLUMNS": "80"})
    assert result.exit_code == 0
    for spec in LOSSES.values():
        assert spec.label in result.stdout, spec.label


def test_losses_json_is_the_registry_and_what_eval_reports() -> None:
    result = run("losses", "--format", "json")
    assert (result.exit_code, result.stderr) == (0, "")
    rows = json.loads(result.stdout)["losses"]
    assert [r["task"] for r in rows[:4]] == ["binary", "multiclass", "multilabel", "regression"]
    assert [r["loss"] for r in rows] == [spec.label for spec in LOSSES.values()]
    keys = {"task", "activation", "loss", "option", "formula", "params", "domain", "null_model"}
    for i, row in enumerate(rows):
        assert set(row) == keys
        assert row["formula"] and row["domain"]
        preds, targets = (sample_path(name) for name in PAIRS[row["task"]])
        chosen = {} if i < 4 else {"loss": row["option"]}
        report = lossctl.evaluate(preds, targets, task=row["task"], **chosen)
        assert (report.task, report.activation, report.loss) == (
            row["task"],
            row["activation"],
            row["loss"],
        )
        assert np.isnan(report.null_loss) != row["null_model"]
        if i < 4:
            assert row["activation"] == ACTIVATIONS[row["task"]]


def test_losses_refuses_an_unknown_format() -> None:
    result = run("losses", "--format", "yaml")
    assert result.exit_code == 2
    assert result.stdout == ""
