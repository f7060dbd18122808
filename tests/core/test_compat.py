"""``--compat``: each convention written out with NumPy, its conflicts, and what the report says.

(The libraries' own numbers are in ``tests/test_reference_losses.py``.)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import lossctl
from lossctl.errors import CompatLacksLoss, ConflictingOptions, InvalidOption
from tests.cli.helpers import run_eval, sample_path

P = np.array([[0.7, 0.2, 0.1], [0.0, 0.5, 0.5], [0.2, 0.2, 0.5], [1.0, 0.0, 0.0]])
Y = np.array([0, 0, 2, 0])
ROWS = np.arange(Y.size)


def test_each_convention_on_multiclass_probabilities() -> None:
    got = {c: lossctl.evaluate(P, Y, compat=c).losses for c in ("sklearn", "torch", "keras")}
    eps = np.finfo(np.float64).eps
    np.testing.assert_allclose(got["sklearn"], -np.log(np.clip(P[ROWS, Y], eps, 1 - eps)))
    with np.errstate(divide="ignore"):  # log(0) = -inf, then clamped as PyTorch does
        torch = -np.maximum(np.log(P[ROWS, Y]), -100.0)
    np.testing.assert_allclose(got["torch"], torch)
    keras = np.clip(P / P.sum(axis=1, keepdims=True), 1e-7, 1 - 1e-7)
    np.testing.assert_allclose(got["keras"], -np.log(keras[ROWS, Y]))
    kaggle = np.clip(P, 1e-15, 1 - 1e-15)
    kaggle = kaggle / kaggle.sum(axis=1, keepdims=True)
    report = lossctl.evaluate(P, Y, compat="kaggle")
    assert report.losses is not None
    np.testing.assert_allclose(report.losses, -np.log(kaggle[ROWS, Y]))
    assert report.to_dict()["compat"] == "kaggle" and report.eps == 1e-15
    assert "divided by their sum (--compat kaggle)" in report.warnings[-1]


def test_logits_are_the_same_under_every_convention() -> None:
    z = np.array([[2.0, 1.0, 0.1], [1e4, -1e4, 0.0], [-3.0, 0.0, 3.0], [0.0, 0.0, 0.0]])
    base = lossctl.evaluate(z, Y).losses
    for compat in ("torch", "keras", "kaggle"):
        other = lossctl.evaluate(z, Y, compat=compat).losses
        assert base is not None and other is not None
        np.testing.assert_array_equal(other, base)


def test_multilabel_is_averaged_over_labels_by_the_libraries() -> None:
    p = np.array([[0.9, 0.2, 0.3], [0.1, 0.8, 0.6]])
    y = np.array([[1, 0, 1], [0, 1, 1]])
    summed = lossctl.evaluate(p, y)
    for compat in ("torch", "keras", "kaggle"):
        report = lossctl.evaluate(p, y, compat=compat)
        assert report.label_reduction == "mean"
        assert report.mean_loss == pytest.approx(summed.mean_loss / 3, rel=1e-6)
    assert lossctl.evaluate(p, y, compat="torch", label_reduction="mean").passed
    assert lossctl.evaluate(p, y, label_reduction="mean").label_reduction == "mean"


@pytest.mark.parametrize(
    ("options", "error", "words"),
    [
        ({"compat": "keras", "eps": 1e-5}, ConflictingOptions, "--compat keras clips"),
        (
            {"compat": "torch", "label_reduction": "sum"},
            ConflictingOptions,
            "--compat torch reduces",
        ),
        ({"compat": "kaggle", "loss": "focal"}, CompatLacksLoss, "--compat kaggle has no focal"),
        ({"compat": "jax"}, InvalidOption, "unknown --compat 'jax'"),
    ],
)
def test_conflicts(options: dict[str, object], error: type[Exception], words: str) -> None:
    with pytest.raises(error, match="^" + words):
        lossctl.evaluate(np.array([0.2, 0.7]), np.array([0, 1]), **options)  # type: ignore[arg-type]


def test_a_library_without_the_task_default_loss(tmp_path: Path) -> None:
    preds, targets = sample_path("regression_preds.csv"), sample_path("regression_targets.csv")
    result = run_eval(preds, targets, "--compat", "kaggle")
    assert result.exit_code == 2
    assert "--compat kaggle has no mse loss. Its losses are bce, ce" in result.stderr
    doc = json.loads(run_eval(preds, targets, "--compat", "torch", "--format", "json").stdout)
    assert doc["compat"] == "torch"


def test_the_table_says_the_convention() -> None:
    result = run_eval(
        sample_path("multiclass_probs.csv"),
        sample_path("multiclass_labels.csv"),
        "--compat",
        "torch",
    )
    assert result.exit_code == 0
    assert "compat       torch (no clip, logs clamped at -100" in result.stdout
    assert "(log clamped at -100)" in result.stdout
