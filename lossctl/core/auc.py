"""ROC AUC and average precision from a mergeable histogram of scores (a sketch).

The ranking metrics need every score in order, which a stream cannot keep. As
TensorFlow's ``tf.keras.metrics.AUC`` does with its thresholds, each class (or
label) keeps the weight of its positives and of its negatives in
:data:`AUC_BINS` fixed bins of the score; two sketches of any rows add up. The
bins are equal-width in log-odds over [-:data:`LOGIT_RANGE`, +LOGIT_RANGE]
(a width of 0.0006; the end bins also take the scores beyond), so that
probabilities near 0 or 1, where a skewed data set puts most of its rows, are
told apart as finely as those near 0.5.

The sketch computes scikit-learn's ``roc_auc_score`` and
``average_precision_score`` exactly for the scores rounded to their bins; only
pairs of a positive and a negative in the same bin can be ordered otherwise in
the exact value. :func:`roc_auc` and :func:`average_precision` return, beside
each value, the largest error that the rows in shared bins allow (a guarantee,
from the counts alone): the JSON report states it.
"""

from __future__ import annotations

import numpy as np

from lossctl.core.activations import FloatArray
from lossctl.core.losses import BoolArray, IntArray

#: Bins per class or label (a power of two), and the log-odds they cover.
AUC_BINS = 65536
LOGIT_RANGE = 20.0
#: At most this many bins over all classes: a 5,000-class file gets fewer per class.
MAX_CELLS = 1 << 22


def bins_for(n_classes: int) -> int:
    """Bins per class for ``n_classes`` classes: :data:`AUC_BINS`, fewer when many."""
    return int(max(1024, min(AUC_BINS, MAX_CELLS // max(n_classes, 1))))


@np.errstate(divide="ignore")
def log_odds(p: FloatArray) -> FloatArray:
    """``log(p / (1 - p))``: -inf at 0 and +inf at 1 (bins see the same order as p)."""
    result: FloatArray = np.log(p) - np.log1p(-p)
    return result


def score_bins(score: FloatArray, bins: int) -> IntArray:
    """The bin of each log-odds score (NaN cannot occur: missing values are checked)."""
    scaled = (score + LOGIT_RANGE) * (bins / (2.0 * LOGIT_RANGE))
    index: IntArray = np.clip(scaled, 0.0, bins - 1.0).astype(np.intp)
    return index


class AucSketch:
    """Per class: the weight of positives and negatives in each score bin.

    n_classes : 1 for binary, K for one-vs-rest multiclass, L for multilabel
    """

    def __init__(self, n_classes: int) -> None:
        self.bins = bins_for(n_classes)
        self.n_classes = n_classes
        self.counts = np.zeros((2, n_classes, self.bins))  # [negative, positive]

    def update(self, score: FloatArray, positive: BoolArray, w: FloatArray | None) -> None:
        """score, positive : (n, C) log-odds and whether the row is of the class;
        w : (n,) weights, or None for weights of 1."""
        c, b = self.n_classes, self.bins
        cell = score_bins(score, b) + b * np.arange(c) + (c * b) * positive
        weights = None if w is None else np.broadcast_to(w[:, None], score.shape).ravel()
        found = np.bincount(cell.ravel(), weights=weights, minlength=2 * c * b)
        self.counts += found.reshape(2, c, b)

    def merge(self, other: AucSketch) -> None:
        self.counts += other.counts

    def result(self) -> tuple[list[float | None], list[float | None], float, float]:
        """Per class ROC AUC and average precision (None where a class lacks positives or
        negatives), and the largest error each allows over the classes."""
        roc, ap, roc_bound, ap_bound = [], [], 0.0, 0.0
        for k in range(self.n_classes):
            neg, pos = self.counts[0, k], self.counts[1, k]
            value, bound = roc_auc(pos, neg)
            roc.append(value)
            roc_bound = max(roc_bound, bound)
            value, bound = average_precision(pos, neg)
            ap.append(value)
            ap_bound = max(ap_bound, bound)
        return roc, ap, roc_bound, ap_bound


def roc_auc(pos: FloatArray, neg: FloatArray) -> tuple[float | None, float]:
    """ROC AUC of a histogram (bins in increasing score), ties counted one half, and
    ``0.5 * sum(pos_b * neg_b) / (P * N)``: the most that orders within bins can change it.

    >>> roc_auc(np.array([0.0, 1.0, 2.0]), np.array([2.0, 1.0, 0.0]))
    (0.875, 0.125)
    """
    p, n = float(pos.sum()), float(neg.sum())
    if p <= 0.0 or n <= 0.0:
        return None, 0.0
    below = np.cumsum(neg) - neg  # negatives in lower bins
    value = float(np.sum(pos * (below + 0.5 * neg))) / (p * n)
    bound = 0.5 * float(np.sum(pos * neg)) / (p * n)
    return min(max(value, 0.0), 1.0), bound


def average_precision(pos: FloatArray, neg: FloatArray) -> tuple[float | None, float]:
    """Average precision (step-wise, as scikit-learn) of a histogram, and the most that
    orders within bins can change it: for each bin, its positives' share of recall
    times how far a precision inside the bin can be from the bin's.

    >>> average_precision(np.array([0.0, 1.0]), np.array([1.0, 0.0]))
    (1.0, 0.0)
    """
    total = float(pos.sum())
    if total <= 0.0:
        return None, 0.0
    used = (pos + neg) > 0
    pos, neg = pos[used][::-1], neg[used][::-1]  # the highest scores first
    tp, fp = np.cumsum(pos), np.cumsum(neg)
    precision = tp / (tp + fp)
    value = float(np.sum(pos * precision)) / total
    above_p, above_n = tp - pos, fp - neg
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.nan_to_num(above_p / (above_p + above_n + neg))
        high = (above_p + pos) / (above_p + above_n + pos)
    spread = np.where(pos > 0, np.maximum(high - precision, precision - low), 0.0)
    bound = float(np.sum(pos * np.nan_to_num(spread))) / total
    return min(max(value, 0.0), 1.0), bound
