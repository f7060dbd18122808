"""Every task's loss against an oracle: scikit-learn where it has the loss, closed forms elsewhere.

scikit-learn's ``log_loss`` and ``mean_squared_error`` (with ``sample_weight``)
are the reference for the mean; for logits scikit-learn gets ``expit(z)`` or
``softmax(z)`` from SciPy, never a lossctl function. Closed forms cover what
scikit-learn cannot show: huge logits, the eps clip, confident-correct logits.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy.special import expit
from scipy.special import softmax as scipy_softmax
from sklearn.metrics import log_loss, mean_squared_error

import lossctl
from lossctl.core.losses import (
    binary_cross_entropy,
    categorical_cross_entropy,
    sigmoid_binary_cross_entropy,
    softmax_cross_entropy,
)

RTOL = 1e-9
N = 240
SEEDS = (0, 1, 2)
#: How the inputs reach lossctl: NumPy arrays, DataFrames, DataFrames with a weight column,
#: pyarrow Tables with a weight column.
MODES = ("arrays", "frames", "weighted", "arrow")
EPS = float(np.finfo(np.float64).eps)
MAX_BCE = 36.04365338911715  # -log(eps), the SPEC's largest per-sample loss from probabilities
#: Rows whose per-sample loss is checked one by one against scikit-learn.
PER_SAMPLE_ROWS = 20


def _frame(values: np.ndarray, name: str) -> pd.DataFrame:
    """A DataFrame named as lossctl names arrays: one column ``name``, or "0", "1", ..."""
    if values.ndim == 1:
        return pd.DataFrame({name: values})
    return pd.DataFrame({str(j): values[:, j] for j in range(values.shape[1])})


def _weights(rng: np.random.Generator, mode: str) -> np.ndarray | None:
    if mode not in ("weighted", "arrow"):
        return None
    w = rng.uniform(0.0, 3.0, N)
    w[::11] = 0.0  # zero weights are allowed as long as some are positive
    return w


def _evaluate(
    pred: np.ndarray, target: np.ndarray, weights: np.ndarray | None, mode: str, **options: Any
) -> lossctl.Report:
    """lossctl on arrays, or on tables with the weights as a target column ``w``."""
    if mode == "arrays":
        return lossctl.evaluate(pred, target, **options)
    preds, targets = _frame(pred, "predictions"), _frame(target, "targets")
    if weights is not None:
        targets["w"] = weights
        options["weight_col"] = "w"
    if mode == "arrow":
        return lossctl.evaluate(
            pa.Table.from_pandas(preds, preserve_index=False),
            pa.Table.from_pandas(targets, preserve_index=False),
            **options,
        )
    return lossctl.evaluate(preds, targets, **options)


def _assert_per_sample(report: lossctl.Report, oracle: list[float]) -> None:
    assert report.losses is not None
    np.testing.assert_allclose(report.losses[: len(oracle)], oracle, rtol=RTOL, atol=0)


# --- binary ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", SEEDS)
def test_binary_probabilities_match_sklearn(seed: int, mode: str) -> None:
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.0, 1.0, N)
    y = rng.integers(0, 2, N)
    w = _weights(rng, mode)

    report = _evaluate(p, y, w, mode)

    assert (report.task, report.prediction_kind) == ("binary", "probabilities")
    expected = log_loss(y, p, sample_weight=w, labels=[0, 1])
    assert report.mean_loss == pytest.approx(expected, rel=RTOL)
    assert report.to_dict()["mean_loss"] == pytest.approx(expected, rel=RTOL)
    _assert_per_sample(
        report,
        [log_loss(y[i : i + 1], p[i : i + 1], labels=[0, 1]) for i in range(PER_SAMPLE_ROWS)],
    )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", SEEDS)
def test_binary_logits_match_sklearn_on_their_sigmoid(seed: int, mode: str) -> None:
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, 3.0, N)
    y = rng.integers(0, 2, N)
    w = _weights(rng, mode)

    report = _evaluate(z, y, w, mode)

    assert (report.task, report.prediction_kind) == ("binary", "logits")
    p = expit(z)
    assert report.mean_loss == pytest.approx(
        log_loss(y, p, sample_weight=w, labels=[0, 1]), rel=RTOL
    )
    _assert_per_sample(
        report,
        [log_loss(y[i : i + 1], p[i : i + 1], labels=[0, 1]) for i in range(PER_SAMPLE_ROWS)],
    )
    assert report.n_clipped == 0


# --- multiclass --------------------------------------------------------------------------

K = 4


def _multiclass_targets(rng: np.random.Generator, absent: bool) -> np.ndarray:
    """Class indices; with ``absent`` the last class never occurs."""
    return rng.integers(0, K - 1 if absent else K, N)


@pytest.mark.parametrize("absent", [False, True], ids=["all-classes", "class-absent"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", SEEDS)
def test_multiclass_probabilities_match_sklearn(seed: int, mode: str, absent: bool) -> None:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(K), N)
    y = _multiclass_targets(rng, absent)
    w = _weights(rng, mode)

    report = _evaluate(p, y, w, mode)

    assert (report.task, report.prediction_kind) == ("multiclass", "probabilities")
    labels = list(range(K))
    assert report.mean_loss == pytest.approx(
        log_loss(y, p, sample_weight=w, labels=labels), rel=RTOL
    )
    _assert_per_sample(
        report,
        [log_loss(y[i : i + 1], p[i : i + 1], labels=labels) for i in range(PER_SAMPLE_ROWS)],
    )
    assert report.n_not_summing == 0


@pytest.mark.parametrize("absent", [False, True], ids=["all-classes", "class-absent"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", SEEDS)
def test_multiclass_logits_match_sklearn_on_their_softmax(
    seed: int, mode: str, absent: bool
) -> None:
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, 3.0, (N, K))
    y = _multiclass_targets(rng, absent)
    w = _weights(rng, mode)

    report = _evaluate(z, y, w, mode)

    assert (report.task, report.prediction_kind) == ("multiclass", "logits")
    p = scipy_softmax(z, axis=1)
    labels = list(range(K))
    assert report.mean_loss == pytest.approx(
        log_loss(y, p, sample_weight=w, labels=labels), rel=RTOL
    )
    _assert_per_sample(
        report,
        [log_loss(y[i : i + 1], p[i : i + 1], labels=labels) for i in range(PER_SAMPLE_ROWS)],
    )


@pytest.mark.parametrize("logits", [False, True], ids=["probs", "logits"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", SEEDS)
def test_multiclass_one_hot_targets_match_sklearn(seed: int, mode: str, logits: bool) -> None:
    rng = np.random.default_rng(seed)
    pred = rng.normal(0.0, 3.0, (N, K)) if logits else rng.dirichlet(np.ones(K), N)
    y = rng.integers(0, K, N)
    w = _weights(rng, mode)

    report = _evaluate(pred, np.eye(K, dtype=np.int64)[y], w, mode)

    assert report.task == "multiclass"
    assert report.target_encoding == "one-hot"
    p = scipy_softmax(pred, axis=1) if logits else pred
    assert report.mean_loss == pytest.approx(
        log_loss(y, p, sample_weight=w, labels=list(range(K))), rel=RTOL
    )


@pytest.mark.parametrize("mode", ["frames", "weighted", "arrow"])
@pytest.mark.parametrize("seed", SEEDS)
def test_multiclass_per_class_means_match_sklearn_on_each_class(seed: int, mode: str) -> None:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(K), N)
    y = rng.integers(0, K, N)
    w = _weights(rng, mode)

    groups = _evaluate(p, y, w, mode).summary.groups

    assert [g.name for g in groups] == [str(k) for k in range(K)]
    for k, group in enumerate(groups):
        rows = y == k
        assert group.n_samples == int(np.count_nonzero(rows))
        expected = log_loss(
            y[rows], p[rows], sample_weight=None if w is None else w[rows], labels=list(range(K))
        )
        assert group.mean_loss == pytest.approx(expected, rel=RTOL)


@pytest.mark.parametrize("seed", SEEDS)
def test_multiclass_class_names_map_to_their_columns_in_any_order(seed: int) -> None:
    """Text targets name the prediction columns; the columns need not be in sorted order."""
    rng = np.random.default_rng(seed)
    names = ["cat", "dog", "emu"]  # sorted, as scikit-learn orders the classes
    p = rng.dirichlet(np.ones(3), N)
    y = rng.choice(names, N)
    shuffled = ["emu", "cat", "dog"]
    preds = pd.DataFrame({name: p[:, names.index(name)] for name in shuffled})

    report = lossctl.evaluate(preds, pd.DataFrame({"animal": y}))

    assert report.target_encoding == "class name"
    assert report.mean_loss == pytest.approx(log_loss(y, p, labels=names), rel=RTOL)


def test_sklearn_docstring_example() -> None:
    """scikit-learn's own log_loss example: 0.21616..., with class-name targets."""
    y = ["spam", "ham", "ham", "spam"]
    p = [[0.1, 0.9], [0.9, 0.1], [0.8, 0.2], [0.35, 0.65]]
    expected = log_loss(y, p)
    assert round(expected, 5) == 0.21616  # the published value

    preds = pd.DataFrame(p, columns=["ham", "spam"])
    report = lossctl.evaluate(preds, pd.DataFrame({"label": y}))

    assert (report.task, report.prediction_kind) == ("multiclass", "probabilities")
    assert report.mean_loss == pytest.approx(expected, rel=1e-12)


# --- multilabel --------------------------------------------------------------------------

LABELS = 3


def _multilabel_targets(rng: np.random.Generator) -> np.ndarray:
    y = rng.integers(0, 2, (N, LABELS))
    y[0] = 1  # multi-hot, so the targets are never read as one-hot classes
    return y


def _sum_of_label_log_losses(y: np.ndarray, p: np.ndarray, w: np.ndarray | None) -> float:
    return sum(
        log_loss(y[:, j], p[:, j], sample_weight=w, labels=[0, 1]) for j in range(y.shape[1])
    )


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("logits", [False, True], ids=["probs", "logits"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", SEEDS)
def test_multilabel_is_the_sum_of_per_label_log_losses(
    seed: int, mode: str, logits: bool, reduction: str
) -> None:
    rng = np.random.default_rng(seed)
    pred = rng.normal(0.0, 3.0, (N, LABELS)) if logits else rng.uniform(0.0, 1.0, (N, LABELS))
    y = _multilabel_targets(rng)
    w = _weights(rng, mode)

    report = _evaluate(pred, y, w, mode, label_reduction=reduction)

    assert report.task == "multilabel"
    assert report.prediction_kind == ("logits" if logits else "probabilities")
    p = expit(pred) if logits else pred
    expected = _sum_of_label_log_losses(y, p, w) / (LABELS if reduction == "mean" else 1)
    assert report.mean_loss == pytest.approx(expected, rel=RTOL)
    per_sample = [_sum_of_label_log_losses(y[i : i + 1], p[i : i + 1], None) for i in range(20)]
    _assert_per_sample(report, [v / (LABELS if reduction == "mean" else 1) for v in per_sample])
    # each label's group is that label's own log loss, whatever the reduction
    for j, group in enumerate(report.summary.groups):
        assert group.name == str(j)
        assert group.mean_loss == pytest.approx(
            log_loss(y[:, j], p[:, j], sample_weight=w, labels=[0, 1]), rel=RTOL
        )


# --- regression --------------------------------------------------------------------------


@pytest.mark.parametrize("outputs", [1, 3])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", SEEDS)
def test_regression_matches_sklearn_mean_squared_error(seed: int, mode: str, outputs: int) -> None:
    rng = np.random.default_rng(seed)
    shape = (N,) if outputs == 1 else (N, outputs)
    y = rng.normal(0.0, 5.0, shape)
    yhat = y + rng.normal(0.0, 1.0, shape)
    w = _weights(rng, mode)

    report = _evaluate(yhat, y, w, mode)

    assert (report.task, report.prediction_kind, report.activation) == (
        "regression",
        "values",
        "identity",
    )
    assert report.mean_loss == pytest.approx(mean_squared_error(y, yhat, sample_weight=w), rel=RTOL)
    _assert_per_sample(
        report, [mean_squared_error(y[i : i + 1], yhat[i : i + 1]) for i in range(PER_SAMPLE_ROWS)]
    )
    assert report.n_clipped == 0


# --- closed forms ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("z", "y", "expected"),
    [
        (-800.0, 1, 800.0),
        (800.0, 0, 800.0),
        (1e4, 0, 1e4),
        (-1e4, 1, 1e4),
        (1e4, 1, 0.0),
        (-1e4, 0, 0.0),
        (0.0, 1, np.log(2.0)),
        (0.0, 0, np.log(2.0)),
    ],
)
def test_binary_cross_entropy_of_huge_logits_is_exact(z: float, y: int, expected: float) -> None:
    core = sigmoid_binary_cross_entropy(np.array([float(y)]), np.array([z]))
    assert core[0] == pytest.approx(expected, rel=1e-15, abs=1e-300)

    # through evaluate, with a second row so the column is detected as logits
    report = lossctl.evaluate(np.array([z, -3.0]), np.array([y, 0]))
    assert report.prediction_kind == "logits"
    assert report.losses is not None
    assert np.isfinite(report.losses).all()
    assert report.losses[0] == pytest.approx(expected, rel=1e-15, abs=1e-300)


def test_logits_whose_column_sum_overflows_are_not_missing() -> None:
    # the column's sum is infinite, though every value is finite: all rows are kept
    z = np.array([1e308, 1e308, -1e308, -1e308])
    report = lossctl.evaluate(z, np.array([1, 0, 0, 1]))
    assert report.prediction_kind == "logits"
    assert report.losses is not None
    assert report.losses.tolist() == [0.0, 1e308, 0.0, 1e308]  # softplus: closed form
    assert report.n_samples == 4


def test_multiclass_huge_logits_give_exact_losses() -> None:
    z = np.array([[1e4, -1e4, 0.0]] * 3)
    y = np.array([0, 1, 2])
    assert softmax_cross_entropy(y, z).tolist() == [0.0, 20000.0, 10000.0]

    report = lossctl.evaluate(z, y)
    assert (report.task, report.prediction_kind) == ("multiclass", "logits")
    assert report.losses is not None
    assert report.losses.tolist() == [0.0, 20000.0, 10000.0]
    assert report.mean_loss == pytest.approx(10000.0, rel=1e-15)
    assert report.n_clipped == 0


@pytest.mark.parametrize(("z", "y"), [(40.0, 1), (-40.0, 0), (25.0, 1), (-700.0, 0)])
def test_confident_correct_logit_has_no_cancellation(z: float, y: int) -> None:
    """The loss is log1p(exp(-|z|)), tiny but exact: not 0, not a rounding residue."""
    expected = np.log1p(np.exp(-abs(z)))
    assert expected > 0.0
    report = lossctl.evaluate(np.array([z, 3.0]), np.array([y, 1]))
    assert report.losses is not None
    assert report.losses[0] == pytest.approx(expected, rel=1e-12)
    assert sigmoid_binary_cross_entropy(np.array([float(y)]), np.array([z]))[0] == pytest.approx(
        expected, rel=1e-12
    )


def test_confident_correct_multiclass_logits_have_no_cancellation() -> None:
    z = np.array([[40.0, 0.0, 0.0], [0.0, -5.0, 30.0]])
    expected = [np.log1p(2.0 * np.exp(-40.0)), np.log1p(np.exp(-30.0) + np.exp(-35.0))]
    report = lossctl.evaluate(z, np.array([0, 2]))
    assert report.losses is not None
    np.testing.assert_allclose(report.losses, expected, rtol=1e-12, atol=0)


def test_clipped_probabilities_give_minus_log_eps_and_are_counted() -> None:
    p = np.array([0.0, 1.0, 1.0, 0.0, 0.5, 1e-300])
    y = np.array([1, 1, 0, 0, 1, 1])
    report = lossctl.evaluate(p, y)

    assert report.prediction_kind == "probabilities"
    assert report.losses is not None
    expected = [MAX_BCE, -np.log1p(-EPS), MAX_BCE, -np.log1p(-EPS), np.log(2.0), MAX_BCE]
    np.testing.assert_allclose(report.losses, expected, rtol=1e-12, atol=0)
    assert report.losses[0] == pytest.approx(-np.log(EPS), rel=1e-15)
    assert report.n_clipped == 5  # every sample but the 0.5 one
    assert report.to_dict()["n_clipped"] == 5
    assert any("clipped" in warning for warning in report.warnings)
    # scikit-learn clips the same way
    assert report.mean_loss == pytest.approx(log_loss(y, p, labels=[0, 1]), rel=1e-12)


def test_probabilities_at_exactly_eps_are_not_clipped() -> None:
    report = lossctl.evaluate(np.array([EPS, 1.0 - EPS, 0.5]), np.array([1, 1, 0]))
    assert report.n_clipped == 0
    assert report.losses is not None
    assert report.losses[0] == pytest.approx(MAX_BCE, rel=1e-15)


def test_custom_eps_bounds_the_loss() -> None:
    eps = 1e-7
    report = lossctl.evaluate(np.array([0.0, 1e-9, 0.5, 1.0]), np.array([1, 1, 1, 0]), eps=eps)
    assert report.losses is not None
    # p = 1 is clipped to the float 1 - eps, so its loss is -log(1 - fl(1 - eps))
    expected = [-np.log(eps), -np.log(eps), np.log(2.0), -np.log1p(-(1.0 - eps))]
    np.testing.assert_allclose(report.losses, expected, rtol=1e-12, atol=0)
    assert report.n_clipped == 3


def test_multiclass_clipping_is_counted_per_sample() -> None:
    p = np.array([[0.0, 1.0, 0.0], [0.2, 0.3, 0.5], [1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    y = np.array([0, 2, 0, 1])
    report = lossctl.evaluate(p, y)
    assert report.losses is not None
    expected = [MAX_BCE, -np.log(0.5), -np.log1p(-EPS), np.log(2.0)]
    np.testing.assert_allclose(report.losses, expected, rtol=1e-12, atol=0)
    # counted: rows whose true-class probability was clipped (0 or 1); the last row's
    # clipped 0 is another class's and leaves the loss alone
    assert report.n_clipped == 2
    assert report.mean_loss == pytest.approx(log_loss(y, p, labels=[0, 1, 2]), rel=1e-12)


def test_multilabel_clipping_counts_samples_not_labels() -> None:
    p = np.array([[0.0, 0.0, 0.5], [0.5, 0.5, 0.5], [1.0, 0.5, 0.5]])
    y = np.array([[1, 1, 0], [1, 0, 1], [1, 1, 1]])
    report = lossctl.evaluate(p, y)
    assert report.task == "multilabel"
    assert report.losses is not None
    ln2 = np.log(2.0)
    expected = [2 * MAX_BCE + ln2, 3 * ln2, -np.log1p(-EPS) + 2 * ln2]
    np.testing.assert_allclose(report.losses, expected, rtol=1e-12, atol=0)
    assert report.n_clipped == 2


def test_multiclass_rows_not_summing_to_one_are_used_as_given() -> None:
    p = np.array([[0.5, 0.3, 0.1], [0.2, 0.3, 0.5], [0.6, 0.6, 0.6]])
    y = np.array([0, 2, 1])
    report = lossctl.evaluate(p, y)
    assert report.losses is not None
    np.testing.assert_allclose(report.losses, -np.log([0.5, 0.5, 0.6]), rtol=1e-12, atol=0)
    assert report.n_not_summing == 2
    assert report.to_dict()["n_not_summing_to_one"] == 2
    assert any("do not sum to 1" in warning for warning in report.warnings)


def test_core_probability_losses_match_closed_forms() -> None:
    y = np.array([1.0, 0.0, 1.0, 0.0])
    p = np.array([0.25, 0.25, 0.0, 1.0])
    np.testing.assert_allclose(
        binary_cross_entropy(y, p, eps=EPS),
        [np.log(4.0), np.log(4.0 / 3.0), MAX_BCE, MAX_BCE],
        rtol=1e-12,
        atol=0,
    )
    probs = np.array([[0.25, 0.75], [0.1, 0.9], [0.0, 1.0]])
    np.testing.assert_allclose(
        categorical_cross_entropy(np.array([0, 1, 0]), probs, eps=EPS),
        [np.log(4.0), -np.log(0.9), MAX_BCE],
        rtol=1e-12,
        atol=0,
    )
