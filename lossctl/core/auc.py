"""ROC AUC and average precision from a mergeable histogram of scores (a sketch).

The ranking metrics need every score in order, which a stream cannot keep. As
TensorFlow's ``tf.keras.metrics.AUC`` does with its thresholds, each class (or
label) keeps the weight of all its rows and of its positives in
:data:`AUC_BINS` fixed bins of the probability; two sketches of any rows add
up. The bins are as fine near 0 and 1 as near 0.5, where a skewed data set puts
most of its rows: ``q = min(p, 1 - p)`` is cut by its float64 exponent (from
2^-33 to 2^-1) and its first 11 mantissa bits, so each bin spans 1/2048 of its
own ``q`` (about 0.0005 in log-odds), with no logarithm to compute; the two
halves mirror each other.

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

#: Bins per class or label (a power of two).
AUC_BINS = 1 << 17
#: Exponents of ``min(p, 1 - p)`` that have bins of their own: 2^-33 up to 2^-1.
EXPONENTS = 32
#: At most this many bins over all classes: a 5,000-class file gets fewer per class.
MAX_CELLS = 1 << 22


def bins_for(n_classes: int) -> int:
    """Bins per class for ``n_classes`` classes: :data:`AUC_BINS`, fewer when many (a power
    of two, at least 1,024)."""
    fit = MAX_CELLS // max(n_classes, 1)
    return int(max(1024, min(AUC_BINS, 1 << (fit.bit_length() - 1))))


def prob_bins(p: FloatArray, bins: int) -> IntArray:
    """The bin of each probability in [0, 1], in the order of p (see the module).

    >>> prob_bins(np.array([0.0, 1e-3, 0.5, 0.5 + 1e-9, 1.0]), 1024).tolist()
    [0, 368, 511, 512, 1023]
    """
    half = bins // 2
    shift = 52 - (half // EXPONENTS).bit_length() + 1  # keep the mantissa bits that fit
    base = np.float64(2.0 ** -(EXPONENTS + 1)).view(np.int64) >> shift
    q = np.minimum(p, 1.0 - p)
    index: IntArray = (q.view(np.int64) >> shift) - base
    np.clip(index, 0, half - 1, out=index)
    upper = p > 0.5
    np.subtract(bins - 1, index, out=index, where=upper)
    return index


class AucSketch:
    """Per class: the weight of all rows and of the positives in each probability bin.

    n_classes : 1 for binary, K for one-vs-rest multiclass, L for multilabel
    """

    def __init__(self, n_classes: int) -> None:
        self.bins = bins_for(n_classes)
        self.n_classes = n_classes
        self.counts = np.zeros((2, n_classes, self.bins))  # [all rows, positives]

    def add_column(
        self, j: int, p: FloatArray, w: FloatArray | None, positive: BoolArray | None = None
    ) -> None:
        """Class ``j``'s probability of each row; ``positive`` marks the rows of the class
        (else :meth:`add_positives` tells them)."""
        found = prob_bins(p, self.bins)
        self.counts[0, j] += np.bincount(found, weights=w, minlength=self.bins)
        if positive is not None:
            ww = None if w is None else w[positive]
            self.counts[1, j] += np.bincount(found[positive], weights=ww, minlength=self.bins)

    def add_matrix(self, p: FloatArray, w: FloatArray | None) -> None:
        """Every class's probability of each row at once: ``p`` (n, C). For many classes,
        where a bincount per class would cost more than the rows."""
        cells = prob_bins(p, self.bins) + self.bins * np.arange(self.n_classes)
        weights = 1.0 if w is None else np.tile(w, self.n_classes)  # column after column
        np.add.at(self.counts[0].reshape(-1), cells.ravel(order="F"), weights)

    def add_positives(self, classes: IntArray, p: FloatArray, w: FloatArray | None) -> None:
        """The rows of ``classes``, with their own class's probability ``p``."""
        cells = prob_bins(p, self.bins) + self.bins * classes
        positives = self.counts[1].reshape(-1)  # a view: one row per class
        np.add.at(positives, cells, 1.0 if w is None else w)

    def merge(self, other: AucSketch) -> None:
        self.counts += other.counts

    def result(self) -> tuple[list[float | None], list[float | None], float, float]:
        """Per class ROC AUC and average precision (None where a class lacks positives or
        negatives), and the largest error each allows over the classes."""
        roc, ap, roc_bound, ap_bound = [], [], 0.0, 0.0
        for k in range(self.n_classes):
            pos = self.counts[1, k]
            neg = np.maximum(self.counts[0, k] - pos, 0.0)
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
    (0.9444444444444444, 0.05555555555555555)
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
        before = above_p + above_n + neg  # 0: the bin holds positives alone
        low = np.where(before > 0, above_p / np.where(before > 0, before, 1.0), 1.0)
        high = (above_p + pos) / (above_p + above_n + pos)
    spread = np.where(pos > 0, np.maximum(high - precision, precision - low), 0.0)
    bound = float(np.sum(pos * np.nan_to_num(spread))) / total
    return min(max(value, 0.0), 1.0), bound
