"""Per-sample losses, from probabilities and from logits.

Every function returns one loss per sample (row) and leaves the reduction to
the caller, like optax. Arguments follow scikit-learn: ``(y_true, y_pred)``,
options keyword-only. Inputs are float64 arrays; targets are already
validated (0/1 for binary and multilabel, class indices for multiclass).

``LOSSES`` is the registry of the losses, keyed by name: the task each serves,
its activation, the per-sample function, its parameters, its null model and the
text ``lossctl losses`` prints. The engine looks a loss up there (``TASK_LOSS``
names each task's default), and the common tests iterate over it.
"""

from __future__ import annotations

import numpy as np

from lossctl.core import classification as cls
from lossctl.core.activations import FloatArray, softplus
from lossctl.core.catalogue import DEFAULT_LOSS, LOSS_NAMES, WEIGHTING
from lossctl.core.compat import CONVENTIONS, binary_neg_logs, class_neg_log
from lossctl.core.defaults import DEFAULT_EPS
from lossctl.core.regression import REGRESSION_LOSSES, null_squared
from lossctl.core.spec import (
    BoolArray,
    IntArray,
    LabelReduction,
    LossSpec,
    NullTotals,
    PredictionKind,
    SampleLosses,
    Task,
    no_clip,
)

__all__ = [
    "LOSSES",
    "TASK_LOSS",
    "BoolArray",
    "IntArray",
    "LabelReduction",
    "LossSpec",
    "NullTotals",
    "PredictionKind",
    "SampleLosses",
    "Task",
    "loss_for",
]


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


def _binary_elementwise(
    y: FloatArray, pred: FloatArray, kind: PredictionKind, eps: float, compat: str = "sklearn"
) -> tuple[FloatArray, BoolArray]:
    """The binary cross-entropy of each value, and which values were clipped."""
    if kind == "logits":
        return sigmoid_binary_cross_entropy(y, pred), no_clip(pred.shape[0])
    if compat != "sklearn":
        pos, neg, changed = binary_neg_logs(pred, CONVENTIONS[compat])
        return np.where(y > 0.5, pos, neg), changed
    mask = clipped(pred, eps=eps)
    rows: BoolArray = mask if mask.ndim == 1 else np.any(mask, axis=1)
    return binary_cross_entropy(y, pred, eps=eps), rows


def binary_loss(
    y: FloatArray,
    pred: FloatArray,
    *,
    kind: PredictionKind,
    eps: float = DEFAULT_EPS,
    pos_weight: object = None,
    compat: str = "sklearn",
) -> SampleLosses:
    """Binary cross-entropy of one column: y (n,) 0/1, pred (n,) P(positive) or logit;
    ``pos_weight`` weighs the positive term (PyTorch ``BCEWithLogitsLoss(pos_weight=)``);
    ``compat`` the library whose way with probabilities to follow."""
    if pos_weight is not None:
        return cls.weighted_bce(y, pred, kind=kind, eps=eps, pos_weight=pos_weight, compat=compat)
    y = y.astype(np.float64, copy=False)
    loss, was_clipped = _binary_elementwise(y, pred, kind, eps, compat)
    return SampleLosses(loss, was_clipped)


def multilabel_loss(
    y: FloatArray,
    pred: FloatArray,
    *,
    kind: PredictionKind,
    eps: float = DEFAULT_EPS,
    label_reduction: LabelReduction = "sum",
    pos_weight: object = None,
    compat: str = "sklearn",
) -> SampleLosses:
    """The binary cross-entropy of each label, summed (or averaged) over labels.

    y, pred : (n, L); one label is still a matrix of labels
    pos_weight : one weight of the positive term per label, or None
    """
    n = pred.shape[0]
    if pos_weight is not None:
        return cls.weighted_bce(
            y.reshape(n, -1),
            pred.reshape(n, -1),
            kind=kind,
            eps=eps,
            pos_weight=pos_weight,
            label_reduction=label_reduction,
            compat=compat,
        )
    y = y.astype(np.float64, copy=False).reshape(n, -1)
    per_label, was_clipped = _binary_elementwise(y, pred.reshape(n, -1), kind, eps, compat)
    reduce = np.sum if label_reduction == "sum" else np.mean
    return SampleLosses(reduce(per_label, axis=1), was_clipped, per_label=per_label)


def categorical_loss(
    y: IntArray,
    pred: FloatArray,
    *,
    kind: PredictionKind,
    eps: float = DEFAULT_EPS,
    label_smoothing: float = 0.0,
    compat: str = "sklearn",
) -> SampleLosses:
    """Categorical cross-entropy: y (n,) class indices, pred (n, K) probabilities or logits;
    with ``label_smoothing`` s, against the target ``(1 - s) onehot(y) + s / K``."""
    if y.ndim == 2:  # class probabilities as targets
        return cls.soft_cross_entropy(
            y.astype(np.float64),
            pred,
            kind=kind,
            eps=eps,
            label_smoothing=label_smoothing,
            compat=compat,
        )
    if label_smoothing:
        return cls.smoothed_cross_entropy(
            y, pred, kind=kind, eps=eps, label_smoothing=label_smoothing, compat=compat
        )
    y_index = y.astype(np.intp, copy=False)
    if kind == "logits":
        return SampleLosses(softmax_cross_entropy(y_index, pred), no_clip(pred.shape[0]))
    if compat != "sklearn":
        return SampleLosses(*class_neg_log(pred, y_index, CONVENTIONS[compat]))
    was_clipped = clipped(_take_class(pred, y_index), eps=eps)
    return SampleLosses(categorical_cross_entropy(y_index, pred, eps=eps), was_clipped)


def regression_loss(y: FloatArray, pred: FloatArray, *, kind: PredictionKind) -> SampleLosses:
    """Squared error, averaged over the output columns: y and pred (n,) or (n, K)."""
    loss = squared_error(y.astype(np.float64, copy=False), pred)
    return SampleLosses(loss, no_clip(pred.shape[0]))


# ----------------------------------------------------------------- null models
# Each takes the totals of the targets (see lossctl.core.compare.NullState) and gives
# the mean loss of the best constant prediction, in closed form.


def _entropy(p: FloatArray) -> FloatArray:
    """``-p log p`` elementwise, 0 where p is 0."""
    safe = np.where(p > 0.0, p, 1.0)
    result: FloatArray = -p * np.log(safe)
    return result


def binary_entropies(mean: FloatArray) -> FloatArray:
    """The binary cross-entropy of predicting each column's rate of 1s: its entropy."""
    return _entropy(mean) + _entropy(1.0 - mean)


# ------------------------------------------------------------------- registry

LOSSES: dict[str, LossSpec] = {
    spec.name: spec
    for spec in (
        LossSpec(
            "binary_cross_entropy",
            "binary",
            "sigmoid",
            "-(W y log p + (1 - y) log(1 - p)),  p = sigmoid(z) for logits, W = --pos-weight",
            binary_loss,
            ("eps", "pos_weight", "compat"),
            cls.null_bce,
            "bce",
            "y in {0, 1}; p in [0, 1] (clipped to [eps, 1 - eps]) or any logit",
        ),
        LossSpec(
            "categorical_cross_entropy",
            "multiclass",
            "softmax",
            "-log p[y] ((1 - s) (-log p[y]) + (s / K) sum_k (-log p_k) with --label-smoothing s),"
            "  p = softmax(z) for logits",
            categorical_loss,
            ("eps", "label_smoothing", "compat"),
            cls.null_smoothed,
            "ce",
            "y a class; p rows in [0, 1] (p[y] clipped to [eps, 1 - eps]) or any logits",
        ),
        LossSpec(
            "multilabel_log_loss",
            "multilabel",
            "sigmoid",
            "sum over labels of the binary cross-entropy (mean with --label-reduction mean)",
            multilabel_loss,
            ("eps", "label_reduction", "pos_weight", "compat"),
            cls.null_bce,
            "bce",
            "y in {0, 1} per label; p in [0, 1] (clipped) or any logits",
        ),
        LossSpec(
            "squared_error",
            "regression",
            "identity",
            "(y - y_hat)^2, averaged over output columns",
            regression_loss,
            (),
            null_squared,
            "mse",
            "any real y and y_hat",
        ),
        *cls.CLASSIFICATION_LOSSES,
        *REGRESSION_LOSSES,
    )
}

#: The loss each task computes by default.
TASK_LOSS: dict[str, str] = {
    "binary": "binary_cross_entropy",
    "multiclass": "categorical_cross_entropy",
    "multilabel": "multilabel_log_loss",
    "regression": "squared_error",
}


def loss_for(option: str | None, task: str) -> LossSpec | None:
    """The loss that ``--loss option`` computes for ``task`` (None: it does not serve it)."""
    wanted = DEFAULT_LOSS[task] if option is None else option
    for spec in LOSSES.values():
        if spec.option == wanted and spec.task == task:
            return spec
    return None


assert {spec.option for spec in LOSSES.values()} == set(LOSS_NAMES)
assert all(
    set(LOSS_NAMES[spec.option].params) - set(WEIGHTING) <= set(spec.params)
    for spec in LOSSES.values()
)
