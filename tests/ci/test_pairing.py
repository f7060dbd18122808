"""Regressions: how the baseline is paired, and options the baseline does not need."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import lossctl
from lossctl.errors import UsageError
from tests.ci.data import write_csv
from tests.cli.helpers import assert_input_error, eval_json, run_eval, sample_path


def test_baseline_without_ids_pairs_on_target_rows(tmp_path: Path) -> None:
    """Candidate matched by id (labels shuffled), baseline by position: pair by target row."""
    from tests.ci.test_baseline import compare_to_baseline

    labels = sample_path("multiclass_labels.csv")
    probs = np.loadtxt(
        sample_path("multiclass_probs.csv"), delimiter=",", skiprows=1, usecols=(1, 2, 3)
    )
    no_ids = write_csv(
        tmp_path / "b.csv", {"cat": probs[:, 0], "dog": probs[:, 1], "bird": probs[:, 2]}
    )
    report = lossctl.evaluate(sample_path("multiclass_probs.csv"), labels, baseline=no_ids)
    candidate = lossctl.evaluate(sample_path("multiclass_probs.csv"), labels)
    by_position = lossctl.evaluate(no_ids, labels)  # sample i is target row i + 1
    assert candidate.losses is not None and by_position.losses is not None
    assert candidate.target_rows is not None
    paired = by_position.losses[candidate.target_rows - 1]
    oracle = compare_to_baseline(candidate.losses, paired, rows=candidate.target_rows - 1)
    assert report.baseline is not None
    assert report.baseline.ci_low == oracle.ci_low
    assert report.baseline.ci_high == oracle.ci_high
    # pairing by each file's own position would give another interval
    wrong = compare_to_baseline(
        candidate.losses, by_position.losses, rows=candidate.target_rows - 1
    )
    assert (wrong.ci_low, wrong.ci_high) != (oracle.ci_low, oracle.ci_high)


def test_by_and_weight_columns_only_in_predictions_do_not_bind_the_baseline(
    tmp_path: Path,
) -> None:
    y = [0, 1, 1, 0, 1, 0]
    targets = write_csv(tmp_path / "t.csv", {"y": y})
    preds = write_csv(
        tmp_path / "p.csv",
        {"p": [0.2, 0.7, 0.9, 0.4, 0.6, 0.1], "seg": list("aabbcc"), "w": [1.0, 2, 1, 2, 1, 2]},
    )
    base = write_csv(tmp_path / "b.csv", {"p": [0.3, 0.6, 0.8, 0.3, 0.5, 0.2]})
    doc = eval_json(preds, targets, "--baseline", base, "--by", "seg", "--weight-col", "w")
    assert [g["name"] for g in doc["groups"]] == ["a", "b", "c"]
    w = np.array([1.0, 2, 1, 2, 1, 2])
    yv = np.array(y, dtype=float)

    def bce(p: list[float]) -> np.ndarray:
        q = np.array(p)
        return -(yv * np.log(q) + (1 - yv) * np.log(1 - q))

    expected = np.average(bce([0.3, 0.6, 0.8, 0.3, 0.5, 0.2]), weights=w)
    assert doc["baseline"]["mean_loss"] == pytest.approx(expected, rel=1e-12)


def test_by_the_only_target_column_keeps_it_as_the_target() -> None:
    doc = eval_json(
        sample_path("multiclass_probs.csv"), sample_path("multiclass_labels.csv"), "--by", "label"
    )
    assert doc["task"] == "multiclass"
    assert doc["inputs"]["target_columns"] == ["label"]
    assert sorted(g["name"] for g in doc["groups"]) == ["bird", "cat", "dog"]


def test_baseline_lacking_rows_names_the_first_unpaired_target_row(tmp_path: Path) -> None:
    targets = write_csv(tmp_path / "t.csv", {"id": ["a", "b", "c", "d"], "y": [0, 1, 1, 0]})
    preds = write_csv(tmp_path / "p.csv", {"id": ["a", "b", "c", "d"], "p": [0.2, 0.6, 0.9, 0.4]})
    base = write_csv(tmp_path / "b.csv", {"id": ["a", "b", "d"], "p": [0.3, 0.6, 0.3]})
    result = run_eval(preds, targets, "--baseline", base)
    message = assert_input_error(result, base)
    assert "ids" in message  # the baseline's join with the targets says which are missing


@pytest.mark.parametrize("option", ["max_loss", "max_increase", "max_increase_pct", "min_d2"])
def test_nan_thresholds_are_usage_errors(option: str) -> None:
    with pytest.raises(UsageError, match="not a number"):
        lossctl.evaluate(
            np.array([0.2, 0.8]),
            np.array([0, 1]),
            baseline=np.array([0.3, 0.7]),
            **{option: float("nan")},
        )


def test_groups_whose_rows_are_all_dropped_are_not_reported(tmp_path: Path) -> None:
    targets = write_csv(tmp_path / "t.csv", {"y": [0, 1, 1, 0]})
    preds = write_csv(
        tmp_path / "p.csv", {"p": [0.2, float("nan"), 0.9, 0.4], "seg": ["a", "gone", "b", "b"]}
    )
    doc = eval_json(preds, targets, "--by", "seg", "--drop-missing")
    assert [(g["name"], g["n_samples"]) for g in doc["groups"]] == [("a", 1), ("b", 2)]
