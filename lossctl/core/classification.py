"""The classification losses of ``--loss`` beyond the plain cross-entropies, and their
registry entries: ``bce`` with ``--pos-weight`` (PyTorch ``BCEWithLogitsLoss``),
``focal`` (torchvision ``sigmoid_focal_loss``; Lin et al. 2017 for multiclass),
``hinge`` (scikit-learn ``hinge_loss``) and ``ce`` with ``--label-smoothing``
(PyTorch ``CrossEntropyLoss``).

From logits nothing forms the probability first: ``-log sigmoid(z) = softplus(-z)``,
``1 - sigmoid(z) = exp(-softplus(z))``, and the multiclass forms use the log-softmax
with the row maximum subtracted. From probabilities, the logs take probabilities
clipped to ``[eps, 1 - eps]``, as the plain cross-entropies do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lossctl.core.activations import FloatArray, softplus
from lossctl.core.compat import CONVENTIONS, binary_neg_logs, class_neg_log, log_probs
from lossctl.core.spec import (
    BoolArray,
    IntArray,
    LabelReduction,
    LossSpec,
    NullTotals,
    PredictionKind,
    SampleLosses,
    no_clip,
)


def _clipped_rows(p: FloatArray, eps: float) -> BoolArray:
    mask = (p < eps) | (p > 1.0 - eps)
    rows: BoolArray = mask if mask.ndim == 1 else np.any(mask, axis=1)
    return rows


def _log_sigmoids(
    pred: FloatArray, kind: PredictionKind, eps: float, compat: str
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """``(-log p, -log(1 - p))`` of each value, and the rows clipped."""
    if kind == "logits":
        return softplus(-pred), softplus(pred), no_clip(pred.shape[0])
    if compat != "sklearn":
        return binary_neg_logs(pred, CONVENTIONS[compat])
    pc = np.clip(pred, eps, 1.0 - eps)
    return -np.log(pc), -np.log1p(-pc), _clipped_rows(pred, eps)


def _reduce(
    per_label: FloatArray, was_clipped: BoolArray, label_reduction: LabelReduction | None
) -> SampleLosses:
    if per_label.ndim == 1:
        return SampleLosses(per_label, was_clipped)
    reduce = np.sum if label_reduction in (None, "sum") else np.mean
    return SampleLosses(reduce(per_label, axis=1), was_clipped, per_label=per_label)


def weighted_bce(
    y: FloatArray,
    pred: FloatArray,
    *,
    kind: PredictionKind,
    eps: float,
    pos_weight: Any = None,
    label_reduction: LabelReduction | None = None,
    compat: str = "sklearn",
) -> SampleLosses:
    """``-(W y log p + (1 - y) log(1 - p))`` per label (PyTorch ``BCEWithLogitsLoss``);
    ``pos_weight`` W: one per label (None: 1)."""
    y = y.astype(np.float64, copy=False).reshape(pred.shape)
    pos, neg, was_clipped = _log_sigmoids(pred, kind, eps, compat)
    w = 1.0 if pos_weight is None else np.asarray(pos_weight, dtype=np.float64)
    per_label = np.where(y > 0.5, w * pos, neg)
    return _reduce(per_label, was_clipped, label_reduction)


def sigmoid_focal(
    y: FloatArray,
    pred: FloatArray,
    *,
    kind: PredictionKind,
    eps: float,
    gamma: float = 2.0,
    alpha: Any = None,
    label_reduction: LabelReduction | None = None,
    compat: str = "sklearn",
) -> SampleLosses:
    """``alpha_t (1 - p_t)^gamma (-log p_t)`` per label, ``p_t`` the probability of the
    target (torchvision ``sigmoid_focal_loss``; ``alpha_t = alpha`` for 1, ``1 - alpha`` for
    0, left out with no alpha)."""
    y = y.astype(np.float64, copy=False).reshape(pred.shape)
    pos, neg, was_clipped = _log_sigmoids(pred, kind, eps, compat)
    ce = np.where(y > 0.5, pos, neg)
    if kind == "logits":
        miss = np.exp(-np.where(y > 0.5, neg, pos))  # 1 - p_t = sigmoid(-z) or sigmoid(z)
    else:
        miss = np.where(y > 0.5, 1.0 - pred, pred)
    per_label = ce * _power(miss, gamma)
    if alpha is not None:
        a = np.asarray(alpha, dtype=np.float64)
        per_label = per_label * np.where(y > 0.5, a, 1.0 - a)
    return _reduce(per_label, was_clipped, label_reduction)


def _power(base: FloatArray, gamma: float) -> FloatArray:
    """``base ** gamma`` with ``0 ** 0 = 1`` (PyTorch's ``pow``)."""
    result: FloatArray = np.power(np.maximum(base, 0.0), gamma)
    return result


def log_softmax(logits: FloatArray) -> FloatArray:
    """``z - logsumexp(z)`` per row: the row maximum subtracted, and its term (exactly 1)
    left out of the sum so that ``log1p`` of the rest stays exact for confident rows."""
    top = np.argmax(logits, axis=1)[:, None]
    m = np.take_along_axis(logits, top, axis=1)
    e = np.exp(logits - m)
    np.put_along_axis(e, top, 0.0, axis=1)
    result: FloatArray = (logits - m) - np.log1p(np.sum(e, axis=1, keepdims=True))
    return result


def _log_probs(
    pred: FloatArray, kind: PredictionKind, eps: float, compat: str
) -> tuple[FloatArray, BoolArray]:
    """``log p`` of every class (clipped for probabilities), and the rows clipped."""
    if kind == "logits":
        return log_softmax(pred), no_clip(pred.shape[0])
    if compat != "sklearn":
        return log_probs(pred, CONVENTIONS[compat])
    return np.log(np.clip(pred, eps, 1.0 - eps)), _clipped_rows(pred, eps)


def _take(values: FloatArray, y_index: IntArray) -> FloatArray:
    result: FloatArray = np.take_along_axis(values, y_index[:, None], axis=1)[:, 0]
    return result


def smoothed_cross_entropy(
    y: IntArray,
    pred: FloatArray,
    *,
    kind: PredictionKind,
    eps: float,
    label_smoothing: float = 0.0,
    compat: str = "sklearn",
) -> SampleLosses:
    """``(1 - s) (-log p[y]) + (s / K) sum_k (-log p_k)``: the cross-entropy with the target
    ``(1 - s) onehot(y) + s / K`` (PyTorch ``CrossEntropyLoss(label_smoothing=s)``)."""
    y_index = y.astype(np.intp, copy=False)
    logp, was_clipped = _log_probs(pred, kind, eps, compat)
    k = pred.shape[1]
    s = label_smoothing
    loss = -(1.0 - s) * _take(logp, y_index) - (s / k) * np.sum(logp, axis=1)
    if s == 0.0 and kind == "probabilities" and compat == "sklearn":  # only p[y] enters
        was_clipped = _clipped_rows(_take(pred, y_index), eps)
    return SampleLosses(loss, was_clipped)


def soft_cross_entropy(
    t: FloatArray,
    pred: FloatArray,
    *,
    kind: PredictionKind,
    eps: float,
    label_smoothing: float = 0.0,
    compat: str = "sklearn",
) -> SampleLosses:
    """``-sum_k t'_k log p_k`` for class probabilities t (n, K) as targets, ``t' = (1 - s) t
    + s / K`` (PyTorch ``CrossEntropyLoss`` with probabilities as targets)."""
    logp, was_clipped = _log_probs(pred, kind, eps, compat)
    target = (1.0 - label_smoothing) * t + label_smoothing / pred.shape[1]
    loss: FloatArray = -np.sum(np.where(target > 0.0, target * logp, 0.0), axis=1)
    return SampleLosses(loss, was_clipped)


def kl_divergence(
    y: FloatArray | IntArray,
    pred: FloatArray,
    *,
    kind: PredictionKind,
    eps: float,
    compat: str = "sklearn",
) -> SampleLosses:
    """``sum_k t_k (log t_k - log p_k)``, 0 where t_k = 0 (PyTorch ``KLDivLoss`` of log p,
    summed over classes); class indices are one-hot targets, whose KL is ``-log p[y]``."""
    t = y if y.ndim == 2 else np.eye(pred.shape[1])[y.astype(np.intp)]
    logp, was_clipped = _log_probs(pred, kind, eps, compat)
    safe = np.where(t > 0.0, t, 1.0)
    loss: FloatArray = np.sum(np.where(t > 0.0, t * (np.log(safe) - logp), 0.0), axis=1)
    return SampleLosses(np.maximum(loss, 0.0), was_clipped)


def row_entropy(y: FloatArray | IntArray, **_: object) -> FloatArray:
    """The entropy of each target row (0 for class indices): the null model of ``kl``."""
    if y.ndim == 1:
        return np.zeros(y.shape[0])
    result: FloatArray = -np.sum(_xlogx(y.astype(np.float64)), axis=1)
    return result


def softmax_focal(
    y: IntArray,
    pred: FloatArray,
    *,
    kind: PredictionKind,
    eps: float,
    gamma: float = 2.0,
    alpha: Any = None,
    compat: str = "sklearn",
) -> SampleLosses:
    """``-alpha[y] (1 - p[y])^gamma log p[y]`` (Lin et al. 2017, the softmax form);
    ``alpha`` one weight per class (None: 1)."""
    y_index = y.astype(np.intp, copy=False)
    if kind == "logits":
        logp = _take(log_softmax(pred), y_index)
        miss = -np.expm1(logp)  # 1 - p[y], exact when p[y] is small or near 1
        was_clipped = no_clip(pred.shape[0])
    elif compat != "sklearn":
        neg_log, was_clipped = class_neg_log(pred, y_index, CONVENTIONS[compat])
        logp, miss = -neg_log, 1.0 - _take(pred, y_index)
    else:
        p = _take(pred, y_index)
        logp = np.log(np.clip(p, eps, 1.0 - eps))
        miss = 1.0 - p
        was_clipped = _clipped_rows(p, eps)
    loss = -_power(miss, gamma) * logp
    if alpha is not None:
        loss = loss * np.asarray(alpha, dtype=np.float64)[y_index]
    return SampleLosses(loss, was_clipped)


def hinge(y: FloatArray, pred: FloatArray, *, kind: PredictionKind) -> SampleLosses:
    """``max(0, 1 - t f)``, ``t`` = -1 for 0 and +1 for 1, ``f`` the score as given
    (scikit-learn ``hinge_loss``)."""
    t = np.where(y.astype(np.float64, copy=False) > 0.5, 1.0, -1.0)
    loss: FloatArray = np.maximum(0.0, 1.0 - t * pred)
    return SampleLosses(loss, no_clip(pred.shape[0]))


# -------------------------------------------------------------------- null models


def _xlogx(p: FloatArray) -> FloatArray:
    safe = np.where(p > 0.0, p, 1.0)
    result: FloatArray = p * np.log(safe)
    return result


def weighted_bce_null(rate: FloatArray, pos_weight: Any = None) -> FloatArray:
    """The weighted BCE of the best constant ``p* = W pi / (W pi + 1 - pi)`` per label."""
    w = 1.0 if pos_weight is None else np.asarray(pos_weight, dtype=np.float64)
    best = w * rate / (w * rate + 1.0 - rate)
    pos = np.where(rate > 0.0, -np.log(np.where(best > 0.0, best, 1.0)), 0.0)
    neg = np.where(rate < 1.0, -np.log1p(-np.where(best < 1.0, best, 0.0)), 0.0)
    result: FloatArray = w * rate * pos + (1.0 - rate) * neg
    return result


def null_bce(
    totals: NullTotals, *, pos_weight: Any = None, label_reduction: str = "sum", **_: object
) -> float:
    per_label = weighted_bce_null(totals.mean, pos_weight)
    return float(np.sum(per_label) if label_reduction == "sum" else np.mean(per_label))


def null_smoothed(totals: NullTotals, *, label_smoothing: float = 0.0, **_: object) -> float:
    """The entropy of the mean smoothed target ``(1 - s) pi + s / K``."""
    k = totals.class_weights.size
    target = (1.0 - label_smoothing) * totals.class_weights / totals.weight + label_smoothing / k
    return float(-np.sum(_xlogx(target)))


def null_kl(totals: NullTotals, **_: object) -> float:
    """``H(mean target) - mean H(target)``: the KL of predicting the mean distribution."""
    rate = totals.class_weights / totals.weight
    return float(-np.sum(_xlogx(rate)) - float(np.sum(totals.extra)) / totals.weight)


def null_hinge(totals: NullTotals, **_: object) -> float:
    """``2 min(pi, 1 - pi)``: the mean hinge loss of the constant score +1 or -1."""
    rate = float(totals.mean[0])
    return 2.0 * min(rate, 1.0 - rate)


# ----------------------------------------------------------------------- registry

_PROBS = "y in {0, 1}; p in [0, 1] (clipped to [eps, 1 - eps]) or any logit"
_FOCAL = "alpha_t (1 - p_t)^gamma (-log p_t),  p_t = p if y = 1 else 1 - p"

#: The registry's entries for these losses (the defaults' entries are in lossctl.core.losses).
CLASSIFICATION_LOSSES = (
    LossSpec(
        "focal",
        "binary",
        "sigmoid",
        _FOCAL + ";  alpha_t = alpha if y = 1 else 1 - alpha (1 without --alpha)",
        sigmoid_focal,
        ("eps", "gamma", "alpha", "compat"),
        option="focal",
        domain=_PROBS,
    ),
    LossSpec(
        "focal:multilabel",
        "multilabel",
        "sigmoid",
        "sum over labels (mean with --label-reduction mean) of the binary focal loss",
        sigmoid_focal,
        ("eps", "gamma", "alpha", "label_reduction", "compat"),
        option="focal",
        domain="y in {0, 1} per label; p in [0, 1] (clipped) or any logits",
        report_as="focal",
    ),
    LossSpec(
        "focal:multiclass",
        "multiclass",
        "softmax",
        "-alpha[y] (1 - p[y])^gamma log p[y],  p = softmax(z) for logits",
        softmax_focal,
        ("eps", "gamma", "alpha", "compat"),
        option="focal",
        domain="y a class; p rows in [0, 1] (p[y] clipped) or any logits",
        report_as="focal",
    ),
    LossSpec(
        "kl",
        "multiclass",
        "softmax",
        "sum_k t_k (log t_k - log p_k),  t the target distribution (one-hot for a class)",
        kl_divergence,
        ("eps", "compat"),
        null_kl,
        option="kl",
        domain="y a class or K probabilities summing to 1; p rows in [0, 1] or any logits",
        null_term=row_entropy,
    ),
    LossSpec(
        "hinge",
        "binary",
        "identity",
        "max(0, 1 - t f),  t = -1 for 0 and +1 for 1, f the score as given",
        hinge,
        (),
        null_hinge,
        option="hinge",
        domain="y in {0, 1} (or -1/+1 with --task binary); any real score",
    ),
)
