"""``--by COL``: mean loss, count and weight per group, in JSON and in the table; and the
per-class and per-label breakdowns in JSON. Oracles: pandas groupby over per-sample
losses computed here with NumPy and scikit-learn."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import log_loss

import lossctl
from tests.ci.data import write_csv
from tests.cli.helpers import assert_input_error, run_eval, sample_path

REGIONS = ["north", "south", "east", "west"]
COLUMNS = ["--pred-col", "p", "--target-col", "y"]


def _bce(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    return -(y * np.log(p) + (1 - y) * np.log1p(-p))


class Binary:
    """Binary predictions with a ``segment`` column; targets (in another row order,
    matched by id) with a ``region`` column and weights."""

    def __init__(self, directory: Path, n: int = 120, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.ids = [f"u{k:04d}" for k in range(n)]
        self.y = (rng.uniform(size=n) < 0.4).astype(int)
        self.p = np.round(rng.uniform(0.02, 0.98, n), 6)
        self.w = np.round(rng.uniform(0.0, 3.0, n), 3)
        self.segment = rng.choice(["a", "b", "c"], n)
        self.region = rng.choice(REGIONS, n)
        self.loss = _bce(self.y, self.p)
        order = rng.permutation(n)
        self.preds = write_csv(
            directory / "preds.csv", {"id": self.ids, "p": self.p, "segment": self.segment}
        )
        self.targets = write_csv(
            directory / "targets.csv",
            {
                "id": [self.ids[i] for i in order],
                "y": self.y[order],
                "w": self.w[order],
                "region": self.region[order],
            },
        )

    def oracle(self, by: np.ndarray, weighted: bool) -> dict[str, dict[str, float]]:
        w = self.w if weighted else np.ones_like(self.loss)
        frame = pd.DataFrame({"g": by, "w": w, "wl": w * self.loss})
        sums = frame.groupby("g").agg(n=("w", "size"), w=("w", "sum"), wl=("wl", "sum"))
        return {
            str(g): {"n_samples": int(r.n), "sum_weights": r.w, "mean_loss": r.wl / r.w}
            for g, r in sums.iterrows()
        }


@pytest.fixture
def data(tmp_path: Path) -> Binary:
    return Binary(tmp_path)


def _json(*args: str) -> dict[str, Any]:
    result = run_eval(*args, "--format", "json")
    assert (result.exit_code, result.stderr) == (0, ""), result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def _check_groups(groups: list[dict[str, Any]], oracle: dict[str, dict[str, float]]) -> None:
    assert {g["name"] for g in groups} == set(oracle)
    for group in groups:
        expected = oracle[group["name"]]
        assert group["n_samples"] == expected["n_samples"]
        assert group["sum_weights"] == pytest.approx(expected["sum_weights"], rel=1e-12)
        assert group["mean_loss"] == pytest.approx(expected["mean_loss"], rel=1e-10)


def _weighted_mean_of_groups(groups: list[dict[str, Any]]) -> float:
    weights = np.array([g["sum_weights"] for g in groups])
    means = np.array([g["mean_loss"] for g in groups])
    return float(np.sum(weights * means) / np.sum(weights))


def test_by_a_column_of_the_predictions(data: Binary) -> None:
    doc = _json(data.preds, data.targets, "--by", "segment", "--target-col", "y")
    assert doc["by"] == "segment"
    assert doc["inputs"]["pred_columns"] == ["p"]  # the grouping column is no prediction
    _check_groups(doc["groups"], data.oracle(data.segment, weighted=False))
    assert doc["mean_loss"] == pytest.approx(data.loss.mean(), rel=1e-12)


def test_by_a_column_of_the_targets_is_matched_by_id(data: Binary) -> None:
    doc = _json(data.preds, data.targets, "--by", "region", "--weight-col", "w", "--pred-col", "p")
    assert doc["inputs"]["target_columns"] == ["y"]  # the grouping column is no target
    _check_groups(doc["groups"], data.oracle(data.region, weighted=True))
    assert [g["name"] for g in doc["groups"]] == sorted(REGIONS)


@pytest.mark.parametrize("by", ["segment", "region"])
@pytest.mark.parametrize("weighted", [False, True])
def test_groups_add_back_up_to_the_overall_mean(data: Binary, by: str, weighted: bool) -> None:
    weights = ["--weight-col", "w"] if weighted else []
    doc = _json(data.preds, data.targets, "--by", by, *weights, *COLUMNS)
    groups = doc["groups"]
    assert _weighted_mean_of_groups(groups) == pytest.approx(doc["mean_loss"], rel=1e-12)
    assert sum(g["n_samples"] for g in groups) == doc["n_samples"] == 120
    assert sum(g["sum_weights"] for g in groups) == pytest.approx(doc["sum_weights"], rel=1e-12)
    expected = np.average(data.loss, weights=data.w if weighted else None)
    assert doc["mean_loss"] == pytest.approx(expected, rel=1e-12)


def test_the_table_shows_the_groups(data: Binary) -> None:
    result = run_eval(
        data.preds,
        data.targets,
        "--by",
        "region",
        "--weight-col",
        "w",
        *COLUMNS,
        env={"COLUMNS": "120"},
    )
    assert result.exit_code == 0, result.stderr
    oracle = data.oracle(data.region, weighted=True)
    lines = result.stdout.splitlines()
    start = lines.index(next(line for line in lines if "Mean loss by region" in line))
    section = lines[start:]
    for name, expected in oracle.items():
        row = next(line for line in section if line.split()[:1] == [name])
        cells = row.split()
        assert int(cells[1]) == expected["n_samples"]
        assert float(cells[2]) == pytest.approx(expected["sum_weights"], rel=1e-5)
        assert float(cells[3]) == pytest.approx(expected["mean_loss"], rel=1e-5)


def test_missing_group_values_form_their_own_group_last(tmp_path: Path) -> None:
    targets = write_csv(tmp_path / "t.csv", {"y": [1, 0, 1, 0, 1], "g": ["x", "", "y", "", "x"]})
    p = np.array([0.8, 0.3, 0.6, 0.1, 0.9])
    preds = write_csv(tmp_path / "p.csv", {"p": p})
    doc = _json(preds, targets, "--by", "g")
    loss = _bce(np.array([1, 0, 1, 0, 1]), p)
    assert [(g["name"], g["n_samples"]) for g in doc["groups"]] == [
        ("x", 2),
        ("y", 1),
        ("(missing)", 2),
    ]
    assert doc["groups"][2]["mean_loss"] == pytest.approx(loss[[1, 3]].mean(), rel=1e-12)
    assert doc["inputs"]["target_columns"] == ["y"]


def test_numeric_group_values(tmp_path: Path) -> None:
    targets = write_csv(tmp_path / "t.csv", {"y": [1.0, 2.0, 3.0, 4.0], "bucket": [10, 2, 10, 2]})
    preds = write_csv(tmp_path / "p.csv", {"y": [1.5, 2.0, 5.0, 4.0]})
    doc = _json(preds, targets, "--by", "bucket")
    groups = {g["name"]: g for g in doc["groups"]}
    assert set(groups) == {"2", "10"}
    assert groups["10"]["mean_loss"] == pytest.approx((0.25 + 4.0) / 2, rel=1e-15)
    assert groups["2"]["mean_loss"] == 0.0


def test_dropped_rows_leave_their_groups(tmp_path: Path) -> None:
    preds = write_csv(tmp_path / "p.csv", {"p": ["0.8", "nan", "0.6"], "g": ["a", "b", "a"]})
    targets = write_csv(tmp_path / "t.csv", {"y": [1, 0, 0]})
    doc = _json(preds, targets, "--by", "g", "--drop-missing")
    assert doc["n_dropped"] == 1
    counts = {g["name"]: g["n_samples"] for g in doc["groups"]}
    assert counts["a"] == 2 and counts.get("b", 0) == 0  # "b" only had the dropped row
    (a,) = [g for g in doc["groups"] if g["name"] == "a"]
    assert a["mean_loss"] == pytest.approx(log_loss([1, 0], [0.8, 0.6]), rel=1e-12)


def test_by_naming_a_missing_column_is_an_input_error(data: Binary) -> None:
    result = run_eval(data.preds, data.targets, "--by", "regoin", *COLUMNS)
    assert_input_error(result, "'regoin'", "--by", "region")


def test_by_in_the_library(data: Binary) -> None:
    report = lossctl.evaluate(data.preds, data.targets, by="segment", target_cols="y")
    groups = report.to_dict()["groups"]
    _check_groups(groups, data.oracle(data.segment, weighted=False))
    assert [g.name for g in report.summary.by_groups] == ["a", "b", "c"]


def test_without_by_there_are_no_groups(data: Binary) -> None:
    result = run_eval(data.preds, data.targets, *COLUMNS, "--format", "json")
    doc = json.loads(result.stdout)
    assert "groups" not in doc and "by" not in doc


# --------------------------------------------------------------------------- per class / label


def test_per_class_in_json_matches_groupby_of_the_true_class() -> None:
    preds = pd.read_csv(sample_path("multiclass_probs.csv"))
    labels = pd.read_csv(sample_path("multiclass_labels.csv")).set_index("id").loc[preds["id"]]
    doc = _json(sample_path("multiclass_probs.csv"), sample_path("multiclass_labels.csv"))
    classes = ["cat", "dog", "bird"]
    y = labels["label"].map({c: i for i, c in enumerate(classes)}).to_numpy()
    loss = -np.log(preds[classes].to_numpy()[np.arange(len(y)), y])
    expected = pd.Series(loss).groupby(labels["label"].to_numpy()).agg(["size", "mean"])
    assert [g["name"] for g in doc["per_class"]] == classes
    for group in doc["per_class"]:
        assert group["n_samples"] == expected.loc[group["name"], "size"]
        assert group["mean_loss"] == pytest.approx(expected.loc[group["name"], "mean"], rel=1e-12)
    assert "per_label" not in doc


def test_per_label_in_json_is_each_labels_log_loss() -> None:
    preds = pd.read_csv(sample_path("multilabel_probs.csv"))
    labels = pd.read_csv(sample_path("multilabel_labels.csv")).set_index("id").loc[preds["id"]]
    doc = _json(sample_path("multilabel_probs.csv"), sample_path("multilabel_labels.csv"))
    names = ["action", "comedy", "drama", "horror"]
    assert [g["name"] for g in doc["per_label"]] == names
    for group in doc["per_label"]:
        name = group["name"]
        assert group["n_samples"] == len(preds)
        assert group["mean_loss"] == pytest.approx(
            log_loss(labels[name], preds[name], labels=[0, 1]), rel=1e-10
        )
    assert sum(g["mean_loss"] for g in doc["per_label"]) == pytest.approx(doc["mean_loss"])
    assert "per_class" not in doc
