"""The null model (the best constant prediction learned from the targets), D^2 and the
normalized entropy, against closed forms and scikit-learn.

Closed forms: binary, the entropy of the base rate; multiclass, the entropy of the
class frequencies; multilabel, the per-label entropies summed (or averaged);
regression, the variance of the targets (the mean of the variances for several
outputs). All of them weighted the way ``sample_weight`` weights.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import d2_log_loss_score, log_loss, mean_squared_error, r2_score

import lossctl
from lossctl.core.compare import NullState, d2_score
from lossctl.core.losses import LOSSES, TASK_LOSS
from tests.ci.data import write_csv
from tests.cli.helpers import run_eval, sample_path


def _entropy(p: np.ndarray) -> float:
    """Shannon entropy (nats) of the distribution p, 0 log 0 = 0."""
    p = p[p > 0]
    return float(-np.sum(p * np.log(p)))


def _bernoulli(rate: float) -> float:
    return _entropy(np.array([rate, 1.0 - rate]))


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _probs(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    raw = rng.uniform(0.05, 1.0, (n, k))
    return raw / raw.sum(axis=1, keepdims=True)


def _weighted_frame(pred: np.ndarray, w: np.ndarray) -> pd.DataFrame:
    columns = {"p": pred} if pred.ndim == 1 else {f"c{j}": pred[:, j] for j in range(pred.shape[1])}
    return pd.DataFrame({**columns, "w": w})


# --------------------------------------------------------------------------- binary


@pytest.mark.parametrize(("n", "positives"), [(4, 1), (10, 7), (1000, 123)])
def test_binary_null_loss_is_the_entropy_of_the_base_rate(n: int, positives: int) -> None:
    y = np.zeros(n, dtype=int)
    y[:positives] = 1
    p = _rng(n).uniform(0.05, 0.95, n)
    report = lossctl.evaluate(p, y)
    rate = positives / n
    assert report.task == "binary"
    assert report.null_loss == pytest.approx(_bernoulli(rate), rel=1e-12)
    assert report.null_loss == pytest.approx(log_loss(y, np.full(n, rate)), rel=1e-12)


def test_weighted_binary_null_loss_uses_the_weighted_base_rate() -> None:
    rng = _rng(1)
    y = (rng.uniform(size=200) < 0.3).astype(int)
    w = rng.uniform(0.0, 3.0, 200)
    p = rng.uniform(0.05, 0.95, 200)
    report = lossctl.evaluate(_weighted_frame(p, w), pd.Series(y, name="y"), weight_col="w")
    rate = np.average(y, weights=w)
    assert rate != pytest.approx(y.mean(), rel=1e-3)
    assert report.null_loss == pytest.approx(_bernoulli(rate), rel=1e-12)
    assert report.d2 == pytest.approx(d2_log_loss_score(y, p, sample_weight=w), rel=1e-10)


def test_binary_d2_and_normalized_entropy_match_scikit_learn() -> None:
    rng = _rng(2)
    y = (rng.uniform(size=300) < 0.4).astype(int)
    p = np.clip(0.5 * y + rng.uniform(0.0, 0.5, 300), 0.01, 0.99)
    report = lossctl.evaluate(p, y)
    assert report.d2 == pytest.approx(d2_log_loss_score(y, p), rel=1e-10)
    assert report.normalized_entropy == pytest.approx(log_loss(y, p) / _bernoulli(y.mean()))
    assert report.normalized_entropy == pytest.approx(1.0 - report.d2, rel=1e-12)
    doc = report.to_dict()
    assert doc["normalized_entropy"] == report.normalized_entropy
    assert (doc["null_loss"], doc["d2"]) == (report.null_loss, report.d2)


def test_binary_sample_file_through_the_cli() -> None:
    preds, targets = sample_path("binary_logits.csv"), sample_path("binary_labels.csv")
    result = run_eval(preds, targets, "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    y = pd.read_csv(targets)["churned"].to_numpy()
    assert doc["null_loss"] == pytest.approx(_bernoulli(y.mean()), rel=1e-12)
    assert doc["d2"] == pytest.approx(1.0 - doc["mean_loss"] / doc["null_loss"], rel=1e-12)
    assert doc["normalized_entropy"] == pytest.approx(doc["mean_loss"] / doc["null_loss"])


# --------------------------------------------------------------------------- multiclass


def test_multiclass_null_loss_is_the_entropy_of_the_class_frequencies() -> None:
    """Class 3 never occurs: it adds nothing (0 log 0 = 0)."""
    rng = _rng(3)
    y = rng.choice(3, size=250, p=[0.5, 0.3, 0.2])
    probs = _probs(rng, 250, 4)
    report = lossctl.evaluate(probs, y)
    assert report.task == "multiclass"
    freq = np.bincount(y, minlength=4) / y.size
    assert report.null_loss == pytest.approx(_entropy(freq), rel=1e-12)
    assert report.null_loss == pytest.approx(
        log_loss(y, np.tile(freq[:3], (250, 1)), labels=[0, 1, 2]), rel=1e-12
    )
    assert report.d2 == pytest.approx(d2_log_loss_score(y, probs, labels=[0, 1, 2, 3]), rel=1e-10)
    assert report.normalized_entropy is None
    assert "normalized_entropy" not in report.to_dict()


def test_weighted_multiclass_null_loss_and_d2() -> None:
    rng = _rng(4)
    y = rng.choice(3, size=300)
    w = rng.uniform(0.0, 2.0, 300) * (1.0 + 3.0 * (y == 2))
    probs = _probs(rng, 300, 3)
    report = lossctl.evaluate(
        _weighted_frame(probs, w), pd.Series(y, name="y"), weight_col="w", pred_cols="c0,c1,c2"
    )
    freq = np.bincount(y, weights=w, minlength=3) / w.sum()
    assert report.null_loss == pytest.approx(_entropy(freq), rel=1e-12)
    assert report.d2 == pytest.approx(d2_log_loss_score(y, probs, sample_weight=w), rel=1e-10)


def test_multiclass_sample_file_null_loss() -> None:
    targets = sample_path("multiclass_labels.csv")
    report = lossctl.evaluate(sample_path("multiclass_logits.csv"), targets)
    labels = pd.read_csv(targets)["label"]
    freq = labels.value_counts(normalize=True).to_numpy()
    assert report.null_loss == pytest.approx(_entropy(freq), rel=1e-12)


# --------------------------------------------------------------------------- multilabel


def _multilabel(seed: int, n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    rng = _rng(seed)
    y = (rng.uniform(size=(n, 4)) < [0.1, 0.5, 0.7, 0.3]).astype(int)
    return y, rng.uniform(0.05, 0.95, (n, 4))


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_multilabel_null_loss_sums_or_averages_the_per_label_entropies(reduction: str) -> None:
    y, p = _multilabel(5)
    report = lossctl.evaluate(p, y, task="multilabel", label_reduction=reduction)  # type: ignore[arg-type]
    per_label = [_bernoulli(rate) for rate in y.mean(axis=0)]
    expected = np.sum(per_label) if reduction == "sum" else np.mean(per_label)
    assert report.null_loss == pytest.approx(expected, rel=1e-12)
    oracle = [log_loss(y[:, j], np.full(y.shape[0], y[:, j].mean())) for j in range(4)]
    assert report.null_loss == pytest.approx(
        np.sum(oracle) if reduction == "sum" else np.mean(oracle), rel=1e-12
    )


def test_multilabel_d2_does_not_depend_on_the_label_reduction() -> None:
    y, p = _multilabel(6)
    summed = lossctl.evaluate(p, y, task="multilabel", label_reduction="sum")
    averaged = lossctl.evaluate(p, y, task="multilabel", label_reduction="mean")
    assert summed.null_loss == pytest.approx(4 * averaged.null_loss, rel=1e-12)
    assert summed.d2 == pytest.approx(averaged.d2, rel=1e-12)
    losses = [log_loss(y[:, j], p[:, j]) for j in range(4)]
    nulls = [_bernoulli(r) for r in y.mean(axis=0)]
    assert summed.d2 == pytest.approx(1.0 - np.sum(losses) / np.sum(nulls), rel=1e-10)


def test_weighted_multilabel_null_loss() -> None:
    y, p = _multilabel(7)
    w = _rng(8).uniform(0.0, 3.0, y.shape[0])
    report = lossctl.evaluate(
        _weighted_frame(p, w),
        pd.DataFrame({f"c{j}": y[:, j] for j in range(4)}),
        weight_col="w",
        task="multilabel",
    )
    rates = np.average(y, axis=0, weights=w)
    assert report.null_loss == pytest.approx(sum(_bernoulli(r) for r in rates), rel=1e-12)


# --------------------------------------------------------------------------- regression


def test_regression_null_loss_is_the_variance_and_d2_is_r2() -> None:
    rng = _rng(9)
    y = rng.normal(10.0, 3.0, 400)
    pred = y + rng.normal(0.0, 1.5, 400)
    report = lossctl.evaluate(pred, y)
    assert report.task == "regression"
    assert report.null_loss == pytest.approx(np.var(y), rel=1e-12)
    assert report.d2 == pytest.approx(r2_score(y, pred), rel=1e-12)
    assert report.normalized_entropy is None
    assert "normalized_entropy" not in report.to_dict()


def test_weighted_regression_null_loss_and_d2() -> None:
    rng = _rng(10)
    y = rng.normal(0.0, 2.0, 300)
    w = rng.uniform(0.0, 5.0, 300)
    pred = y + rng.normal(0.0, 1.0, 300)
    report = lossctl.evaluate(_weighted_frame(pred, w), pd.Series(y, name="y"), weight_col="w")
    mean = np.average(y, weights=w)
    assert report.null_loss == pytest.approx(np.average((y - mean) ** 2, weights=w), rel=1e-12)
    assert report.null_loss == pytest.approx(
        mean_squared_error(y, np.full(300, mean), sample_weight=w), rel=1e-12
    )
    assert report.d2 == pytest.approx(r2_score(y, pred, sample_weight=w), rel=1e-10)


def test_multi_output_regression_null_loss_is_the_mean_of_the_variances() -> None:
    rng = _rng(11)
    y = rng.normal([0.0, 50.0, -3.0], [1.0, 10.0, 0.1], (250, 3))
    pred = y + rng.normal(0.0, 0.5, (250, 3))
    report = lossctl.evaluate(pred, y)
    assert report.task == "regression"
    assert report.null_loss == pytest.approx(np.mean(np.var(y, axis=0)), rel=1e-12)
    # 1 - mean(MSE_j) / mean(Var_j): scikit-learn's variance-weighted R^2
    assert report.d2 == pytest.approx(r2_score(y, pred, multioutput="variance_weighted"), rel=1e-10)
    assert report.d2 != pytest.approx(r2_score(y, pred), rel=1e-3)


def test_regression_sample_file_through_the_cli() -> None:
    preds, targets = sample_path("regression_preds.csv"), sample_path("regression_targets.csv")
    result = run_eval(preds, targets, "--format", "json")
    doc = json.loads(result.stdout)
    p = pd.read_csv(preds)
    t = pd.read_csv(targets).set_index("id").loc[p["id"]]
    assert doc["null_loss"] == pytest.approx(np.var(t["price"].to_numpy()), rel=1e-12)
    assert doc["d2"] == pytest.approx(r2_score(t["price"], p["price"]), rel=1e-12)
    assert "normalized_entropy" not in doc


# --------------------------------------------------------------------------- edge cases


def test_a_model_worse_than_the_constant_has_negative_d2() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0])
    report = lossctl.evaluate(y[::-1].copy(), y)
    assert report.d2 == pytest.approx(r2_score(y, y[::-1]), rel=1e-12)
    assert report.d2 < 0.0


@pytest.mark.parametrize(
    ("pred", "d2"),
    [(np.array([5.0, 5.0, 5.0]), 1.0), (np.array([5.0, 6.0, 5.0]), 0.0)],
)
def test_constant_regression_targets_give_1_if_perfect_else_0(pred: np.ndarray, d2: float) -> None:
    y = np.array([5.0, 5.0, 5.0])
    report = lossctl.evaluate(pred, y, task="regression")
    assert report.null_loss == 0.0
    assert report.d2 == d2 == r2_score(y, pred)


@pytest.mark.parametrize(("logit", "d2"), [(1e4, 1.0), (2.0, 0.0)])
def test_constant_binary_targets_give_1_if_perfect_else_0(logit: float, d2: float) -> None:
    y = np.ones(3, dtype=int)
    report = lossctl.evaluate(np.full(3, logit), y)
    assert report.task == "binary" and report.null_loss == 0.0
    assert report.d2 == d2
    assert report.normalized_entropy is None
    assert report.to_dict()["normalized_entropy"] is None


def test_d2_score_closed_form() -> None:
    assert d2_score(0.25, 1.0) == 0.75
    assert d2_score(2.0, 1.0) == -1.0
    assert d2_score(0.0, 0.0) == 1.0
    assert d2_score(1e-300, 0.0) == 0.0


def null_loss(
    task: str, y: np.ndarray, w: np.ndarray | None = None, *, n_classes: int | None = None
) -> float:
    """The registry's null model of the task's loss, from the targets' totals."""
    state = NullState(n_classes).update(y, w)
    return LOSSES[TASK_LOSS[task]].null_loss(state)


def test_every_loss_of_the_registry_has_a_null_model_or_says_why_not() -> None:
    for spec in LOSSES.values():
        assert (spec.null is None) == bool(spec.no_null), spec.name
    assert all(LOSSES[name].null is not None for name in TASK_LOSS.values())


def test_null_loss_function_directly() -> None:
    y = np.array([0.0, 1.0, 1.0, 1.0])
    assert null_loss("binary", y) == pytest.approx(_bernoulli(0.75), rel=1e-15)
    w = np.array([3.0, 1.0, 1.0, 1.0])
    assert null_loss("binary", y, w) == pytest.approx(np.log(2.0), rel=1e-15)
    cls = np.array([0, 0, 1, 2])
    assert null_loss("multiclass", cls, n_classes=5) == pytest.approx(
        _entropy(np.array([0.5, 0.25, 0.25])), rel=1e-15
    )
    assert null_loss("regression", np.array([1.0, 3.0]), np.array([1.0, 3.0])) == pytest.approx(
        0.75, rel=1e-15
    )


def test_null_loss_and_d2_in_every_json_report(tmp_path: Path) -> None:
    t = write_csv(tmp_path / "t.csv", {"y": [1.0, 2.0, 4.0, 8.0]})
    p = write_csv(tmp_path / "p.csv", {"y": [1.5, 2.0, 3.0, 9.0]})
    doc = json.loads(run_eval(p, t, "--format", "json").stdout)
    y, pred = np.array([1.0, 2.0, 4.0, 8.0]), np.array([1.5, 2.0, 3.0, 9.0])
    assert doc["null_loss"] == pytest.approx(np.var(y), rel=1e-12)
    assert doc["d2"] == pytest.approx(r2_score(y, pred), rel=1e-12)
