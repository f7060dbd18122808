"""Per-sample losses, from probabilities and from logits.

Every function returns one loss per sample (row) and leaves the reduction to
the caller, like optax. Arguments follow scikit-learn: ``(y_true, y_pred)``,
options keyword-only. Inputs are float64 arrays; targets are already
validated (0/1 for binary and multilabel, class indices for multiclass).

``TASKS`` is the registry of what lossctl computes for each task; the report,
``lossctl losses`` and the common tests all read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from lossctl.core.activations import FloatArray, softplus
from lossctl.core.defaults import DEFAULT_EPS

IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

Task = Literal["binary", "multiclass", "multilabel", "regression"]
PredictionKind = Literal["probabilities", "logits", "values"]
LabelReduction = Literal["sum", "mean"]


@dataclass(frozen=True)
class LossSpec:
    """What lossctl computes for one task."""

    task: Task
    activation: str
    loss: str
    formula: str


TASKS: dict[str, LossSpec] = {
    spec.task: spec
    for spec in (
        LossSpec(
            "binary",
            "sigmoid",
            "binary_cross_entropy",
            "-(y log p + (1 - y) log(1 - p)),  p = sigmoid(z) for logits",
        ),
        LossSpec(
            "multiclass",
            "softmax",
            "categorical_cross_entropy",
            "-log p[y],  p = softmax(z) for logits",
        ),
        LossSpec(
            "multilabel",
            "sigmoid",
            "multilabel_log_loss",
            "sum over labels of the binary cross-entropy (mean with --label-reduction mean)",
        ),
        LossSpec(
            "regression",
            "identity",
            "squared_error",
            "(y - y_hat)^2, averaged over output columns",
        ),
    )
}


def clipped(p: FloatArray, *, eps: float) -> BoolArray:
    """Which probabilities lie outside ``[eps, 1 - eps]`` and so get clipped."""
    return (p < eps) | (p > 1.0 - eps)


def binary_cross_entropy(y_true: FloatArray, p: FloatArray, *, eps: float) -> FloatArray:
    """Binary cross-entropy from probabilities, clipped to ``[eps, 1 - eps]``.

    y_true : ndarray of shape (n_samples,) or (n_samples, n_labels), values 0 or 1
    p : ndarray of the same shape, P(label = 1)

    ``log1p(-p)`` keeps ``log(1 - p)`` accurate for small ``p``.

    >>> binary_cross_entropy(np.array([1.0, 0.0]), np.array([0.5, 0.0]), eps=DEFAULT_EPS)
    array([6.93147181e-01, 2.22044605e-16])
    """
    pc = np.clip(p, eps, 1.0 - eps)
    result: FloatArray = np.where(y_true > 0.5, -np.log(pc), -np.log1p(-pc))
    return result


def sigmoid_binary_cross_entropy(y_true: FloatArray, logits: FloatArray) -> FloatArray:
    """Binary cross-entropy from logits, never forming the probability.

    For y in {0, 1} the loss is ``softplus(z)`` when y = 0 and ``softplus(-z)``
    when y = 1: the same as ``max(z, 0) - z y + log1p(exp(-|z|))`` but without
    its cancellation for confident, correct predictions.

    >>> sigmoid_binary_cross_entropy(np.array([1.0, 0.0]), np.array([-800.0, 1e4])).tolist()
    [800.0, 10000.0]
    """
    return softplus(np.where(y_true > 0.5, -logits, logits))


def _take_class(values: FloatArray, y_index: IntArray) -> FloatArray:
    result: FloatArray = np.take_along_axis(values, y_index[:, None], axis=1)[:, 0]
    return result


def categorical_cross_entropy(y_index: IntArray, p: FloatArray, *, eps: float) -> FloatArray:
    """``-log p[y]`` with ``p[y]`` clipped to ``[eps, 1 - eps]``; rows are used as given.

    y_index : ndarray of shape (n_samples,), class indices 0..K-1
    p : ndarray of shape (n_samples, K)
    """
    return -np.log(np.clip(_take_class(p, y_index), eps, 1.0 - eps))


def softmax_cross_entropy(y_index: IntArray, logits: FloatArray) -> FloatArray:
    """``logsumexp(z) - z[y]`` with the row maximum subtracted first.

    The largest term of the sum is exactly 1 and is left out of it, so
    ``log1p`` of the rest stays accurate when the model is confident.

    >>> z = np.array([[1e4, -1e4, 0.0]] * 3)
    >>> softmax_cross_entropy(np.array([0, 1, 2]), z).tolist()
    [0.0, 20000.0, 10000.0]
    """
    top = np.argmax(logits, axis=1)
    m = _take_class(logits, top)
    e = np.exp(logits - m[:, None])
    np.put_along_axis(e, top[:, None], 0.0, axis=1)
    result: FloatArray = (m - _take_class(logits, y_index)) + np.log1p(np.sum(e, axis=1))
    return result


def squared_error(y_true: FloatArray, y_pred: FloatArray) -> FloatArray:
    """Squared error per sample, averaged over output columns when there are several."""
    with np.errstate(over="ignore", invalid="ignore"):  # the engine reports overflow
        err = np.square(y_pred - y_true)
        return err if err.ndim == 1 else np.mean(err, axis=1)


@dataclass(frozen=True)
class SampleLosses:
    """Per-sample losses of one chunk, with what the report needs beside them.

    loss : (n_samples,)
    clipped : (n_samples,) bool, whether clipping changed the sample's loss input
    per_label : (n_samples, n_labels) for multilabel, else None
    """

    loss: FloatArray
    clipped: BoolArray
    per_label: FloatArray | None = None


def sample_losses(
    task: Task,
    kind: PredictionKind,
    y_true: FloatArray | IntArray,
    y_pred: FloatArray,
    *,
    eps: float = DEFAULT_EPS,
    label_reduction: LabelReduction = "sum",
) -> SampleLosses:
    """Dispatch to the task's loss; the one entry point the engine uses.

    y_true : binary (n,) 0/1; multiclass (n,) class indices; multilabel (n, L) 0/1;
        regression (n,) or (n, K)
    y_pred : binary (n,); multiclass and multilabel (n, K); regression like y_true
    """
    n = y_pred.shape[0]
    no_clip = np.zeros(n, dtype=bool)
    from_logits = kind == "logits"
    if task == "regression":
        return SampleLosses(squared_error(y_true.astype(np.float64), y_pred), no_clip)
    if task == "multiclass":
        y_index = y_true.astype(np.intp, copy=False)
        if from_logits:
            return SampleLosses(softmax_cross_entropy(y_index, y_pred), no_clip)
        was_clipped = clipped(_take_class(y_pred, y_index), eps=eps)
        return SampleLosses(categorical_cross_entropy(y_index, y_pred, eps=eps), was_clipped)
    y = y_true.astype(np.float64, copy=False)
    if task == "multilabel":  # one label is still a matrix of labels
        y, y_pred = y.reshape(n, -1), y_pred.reshape(n, -1)
    if from_logits:
        elementwise = sigmoid_binary_cross_entropy(y, y_pred)
        was_clipped = no_clip
    else:
        elementwise = binary_cross_entropy(y, y_pred, eps=eps)
        mask = clipped(y_pred, eps=eps)
        was_clipped = mask if mask.ndim == 1 else np.any(mask, axis=1)
    if task == "binary":
        return SampleLosses(elementwise, was_clipped)
    reduce = np.sum if label_reduction == "sum" else np.mean
    return SampleLosses(reduce(elementwise, axis=1), was_clipped, per_label=elementwise)
