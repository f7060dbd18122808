"""Properties of the activations, losses and accumulator, checked with hypothesis.

Oracles are SciPy's ``expit`` / ``log_softmax`` and NumPy's ``logaddexp``;
every check runs with NumPy's overflow, invalid and divide errors raised.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.special import expit
from scipy.special import log_softmax as scipy_log_softmax

from lossctl.core.accumulate import LossAccumulator
from lossctl.core.activations import sigmoid, softmax, softplus
from lossctl.core.losses import (
    DEFAULT_EPS,
    LOSSES,
    binary_cross_entropy,
    categorical_cross_entropy,
    sigmoid_binary_cross_entropy,
    softmax_cross_entropy,
)

MAX_BCE = 36.04365338911715  # -log(eps)
BIG = 1e6

fast = settings(max_examples=100, deadline=None)

logit_values = st.floats(-BIG, BIG, allow_nan=False, allow_infinity=False)
prob_values = st.floats(0.0, 1.0, allow_nan=False)


@contextmanager
def strict_numpy() -> Iterator[None]:
    """Any overflow, invalid operation or division by zero is an error (underflow is fine)."""
    with (
        np.errstate(over="raise", invalid="raise", divide="raise"),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("error")
        yield


def matrices(elements: st.SearchStrategy[float] = logit_values) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=8),
        elements=elements,
    )


def vectors(elements: st.SearchStrategy[float] = logit_values) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, st.integers(1, 30), elements=elements)


@st.composite
def logits_and_classes(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """(n, K) logits with K >= 2 and a class index per row."""
    n = draw(st.integers(1, 12))
    k = draw(st.integers(2, 6))
    z = draw(hnp.arrays(np.float64, (n, k), elements=logit_values))
    y = draw(hnp.arrays(np.intp, (n,), elements=st.integers(0, k - 1)))
    return z, y


@st.composite
def logits_and_labels(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Logits of any shape (n,) or (n, L) and 0/1 targets of the same shape."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=8))
    z = draw(hnp.arrays(np.float64, shape, elements=logit_values))
    y = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0])))
    return z, y


# --- activations -------------------------------------------------------------------------


@fast
@given(matrices())
def test_softmax_rows_are_distributions(z: np.ndarray) -> None:
    with strict_numpy():
        p = softmax(z)
    assert p.shape == z.shape
    assert np.all((p >= 0.0) & (p <= 1.0))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    # the largest logit gets the largest probability
    assert np.all(p[np.arange(z.shape[0]), np.argmax(z, axis=1)] == p.max(axis=1))


@fast
@given(vectors())
def test_sigmoid_is_a_probability_and_matches_scipy(z: np.ndarray) -> None:
    with strict_numpy():
        p = sigmoid(z)
        q = sigmoid(-z)
    assert np.all((p >= 0.0) & (p <= 1.0))
    # (below exp(-708) SciPy flushes to 0 where lossctl keeps the subnormal value)
    np.testing.assert_allclose(p, expit(z), rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(p + q, 1.0, rtol=0, atol=1e-15)


@fast
@given(vectors())
def test_softplus_matches_logaddexp(z: np.ndarray) -> None:
    with strict_numpy():
        sp = softplus(z)
    assert np.all(np.isfinite(sp)) and np.all(sp >= 0.0)
    np.testing.assert_allclose(sp, np.logaddexp(0.0, z), rtol=1e-14, atol=0)


# --- losses ------------------------------------------------------------------------------


@fast
@given(logits_and_labels())
def test_binary_cross_entropy_from_logits_is_finite_nonnegative_and_exact(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    z, y = data
    with strict_numpy():
        loss = sigmoid_binary_cross_entropy(y, z)
    assert loss.shape == z.shape
    assert np.all(np.isfinite(loss)) and np.all(loss >= 0.0)
    # log(1 + e^z) - y z, written with NumPy's own stable logaddexp
    oracle = np.where(y == 1.0, np.logaddexp(0.0, -z), np.logaddexp(0.0, z))
    np.testing.assert_allclose(loss, oracle, rtol=1e-13, atol=0)


@fast
@given(logits_and_classes())
def test_softmax_cross_entropy_is_finite_nonnegative_and_matches_scipy(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    z, y = data
    with strict_numpy():
        loss = softmax_cross_entropy(y, z)
    assert loss.shape == y.shape
    assert np.all(np.isfinite(loss)) and np.all(loss >= 0.0)
    oracle = -scipy_log_softmax(z, axis=1)[np.arange(y.size), y]
    scale = 1.0 + np.max(np.abs(z))
    np.testing.assert_allclose(loss, oracle, rtol=1e-12, atol=1e-12 * scale)


@fast
@given(logits_and_classes(), st.floats(-1e3, 1e3))
def test_softmax_cross_entropy_ignores_a_shift_of_the_logits(
    data: tuple[np.ndarray, np.ndarray], shift: float
) -> None:
    z, y = data
    with strict_numpy():
        base = softmax_cross_entropy(y, z)
        shifted = softmax_cross_entropy(y, z + shift)
    scale = 1.0 + np.max(np.abs(z)) + abs(shift)
    np.testing.assert_allclose(shifted, base, rtol=1e-12, atol=1e-12 * scale)


@fast
@given(vectors(), st.data())
def test_binary_cross_entropy_equals_two_class_categorical_on_logits(
    z: np.ndarray, data: st.DataObject
) -> None:
    """sigmoid(z) = softmax([0, z])[1], so BCE(y, z) = CCE(y, [0, z])."""
    y = data.draw(hnp.arrays(np.intp, z.shape, elements=st.integers(0, 1)))
    with strict_numpy():
        binary = sigmoid_binary_cross_entropy(y.astype(np.float64), z)
        two_class = softmax_cross_entropy(y, np.column_stack([np.zeros_like(z), z]))
    np.testing.assert_allclose(binary, two_class, rtol=1e-12, atol=0)


@fast
@given(vectors(prob_values), st.data())
def test_binary_cross_entropy_equals_two_class_categorical_on_probabilities(
    p: np.ndarray, data: st.DataObject
) -> None:
    y = data.draw(hnp.arrays(np.intp, p.shape, elements=st.integers(0, 1)))
    with strict_numpy():
        binary = binary_cross_entropy(y.astype(np.float64), p, eps=DEFAULT_EPS)
        two_class = categorical_cross_entropy(y, np.column_stack([1.0 - p, p]), eps=DEFAULT_EPS)
    # 1 - p rounds for small p, so compare with an absolute floor of a few ulps of 1
    np.testing.assert_allclose(binary, two_class, rtol=1e-9, atol=1e-15)


@fast
@given(vectors(prob_values), st.data())
def test_losses_from_probabilities_lie_in_zero_to_minus_log_eps(
    p: np.ndarray, data: st.DataObject
) -> None:
    y = data.draw(hnp.arrays(np.float64, p.shape, elements=st.sampled_from([0.0, 1.0])))
    with strict_numpy():
        result = LOSSES["binary_cross_entropy"](y, p, kind="probabilities", eps=DEFAULT_EPS)
    assert np.all(np.isfinite(result.loss))
    assert np.all((result.loss > 0.0) & (result.loss <= MAX_BCE * (1 + 1e-15)))
    clipped = (p < DEFAULT_EPS) | (p > 1.0 - DEFAULT_EPS)
    assert result.clipped.tolist() == clipped.tolist()


@fast
@given(matrices(), st.data())
def test_multilabel_sum_and_mean_from_logits(z: np.ndarray, data: st.DataObject) -> None:
    y = data.draw(hnp.arrays(np.float64, z.shape, elements=st.sampled_from([0.0, 1.0])))
    with strict_numpy():
        loss = LOSSES["multilabel_log_loss"]
        summed = loss(y, z, kind="logits", label_reduction="sum")
        mean = loss(y, z, kind="logits", label_reduction="mean")
    assert np.all(np.isfinite(summed.loss)) and np.all(summed.loss >= 0.0)
    per_label = np.where(y == 1.0, np.logaddexp(0.0, -z), np.logaddexp(0.0, z))
    np.testing.assert_allclose(summed.loss, per_label.sum(axis=1), rtol=1e-12, atol=0)
    np.testing.assert_allclose(mean.loss, summed.loss / z.shape[1], rtol=1e-12, atol=0)
    assert not summed.clipped.any()


@fast
@given(logits_and_classes())
def test_multiclass_sample_losses_from_logits_are_finite_and_nonnegative(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    z, y = data
    with strict_numpy():
        result = LOSSES["categorical_cross_entropy"](y, z, kind="logits")
    assert np.all(np.isfinite(result.loss)) and np.all(result.loss >= 0.0)
    assert not result.clipped.any()


# --- accumulator -------------------------------------------------------------------------


@st.composite
def loss_batches(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Losses (with ties), positive weights, class indices for 3 groups, and a split point."""
    n = draw(st.integers(1, 40))
    losses = draw(
        hnp.arrays(
            np.float64,
            n,
            elements=st.one_of(
                st.sampled_from([0.0, 1.0, 36.04365338911715]),
                st.floats(0.0, 1e7, allow_nan=False),
            ),
        )
    )
    weights = draw(hnp.arrays(np.float64, n, elements=st.floats(0.01, 100.0)))
    classes = draw(hnp.arrays(np.intp, n, elements=st.integers(0, 2)))
    split = draw(st.integers(0, n))
    return losses, weights, classes, split


@fast
@given(loss_batches(), st.integers(0, 6))
def test_accumulator_merge_equals_one_pass_and_numpy(
    batch: tuple[np.ndarray, np.ndarray, np.ndarray, int], worst_k: int
) -> None:
    losses, weights, classes, split = batch
    groups = ("a", "b", "c")

    whole = LossAccumulator(groups, worst_k=worst_k)
    whole.update(losses, rows=0, weights=weights, y_index=classes)
    left = LossAccumulator(groups, worst_k=worst_k)
    left.update(losses[:split], rows=0, weights=weights[:split], y_index=classes[:split])
    right = LossAccumulator(groups, worst_k=worst_k)
    right.update(losses[split:], rows=split, weights=weights[split:], y_index=classes[split:])
    merged = left.merge(right).result()
    one_pass = whole.result()

    for summary in (merged, one_pass):
        assert summary.n_samples == losses.size
        assert np.isclose(
            summary.mean_loss, np.average(losses, weights=weights), rtol=1e-12, atol=0
        )
        assert np.isclose(summary.unweighted_mean_loss, np.mean(losses), rtol=1e-12, atol=0)
        assert (summary.min_loss, summary.max_loss) == (losses.min(), losses.max())
        assert sum(summary.histogram_counts) == losses.size
        expected_worst = np.argsort(-losses, kind="stable")[:worst_k]
        assert [i for i, _ in summary.worst] == expected_worst.tolist()
        for k, group in enumerate(summary.groups):
            rows = classes == k
            assert group.n_samples == int(np.count_nonzero(rows))
            if rows.any():
                assert np.isclose(
                    group.mean_loss,
                    np.average(losses[rows], weights=weights[rows]),
                    rtol=1e-12,
                    atol=0,
                )
    assert merged.histogram_counts == one_pass.histogram_counts
    assert merged.histogram_edges == one_pass.histogram_edges
    assert merged.worst == one_pass.worst
