"""What the loss alone does not say: the predicted class and the metrics beside the loss.

:class:`MetricsState` is part of the evaluation's mergeable state: ``update``
adds a chunk's sums, ``merge`` adds another state's, ``result`` divides. Every
metric is a ratio of sums (and ROC AUC and average precision come from a
histogram sketch, :mod:`lossctl.core.auc`), so any split of the rows gives the
same metrics. The predicted class is, as the article says, ``p > threshold``
for a sigmoid (binary, and per label) and the class of highest probability for
a softmax. Oracles: scikit-learn's metrics, with and without ``sample_weight``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lossctl.core.accumulate import KeyedTotals
from lossctl.core.activations import FloatArray, sigmoid, softmax
from lossctl.core.auc import AucSketch
from lossctl.core.calibration import ReliabilityBins
from lossctl.core.losses import IntArray

#: A multiclass confusion matrix of more classes is kept (and written) sparsely.
DENSE_CLASSES = 100
#: Up to this many classes, the work goes column by column (each contiguous); above, a
#: Python loop over the columns would cost more than the rows, and it goes matrix-wide.
BY_COLUMN = 64


@dataclass(frozen=True)
class MetricOptions:
    """threshold : binary and multilabel, predicted positive when ``p > threshold``;
    top_k : multiclass top-k accuracy (None: 5, given when K > 5); bins : of the ECE"""

    threshold: float = 0.5
    top_k: int | None = None
    bins: int = 15


@dataclass(frozen=True)
class Metrics:
    """The metrics of one evaluation, as the JSON report holds them (None: undefined)."""

    values: dict[str, float | None]
    per_class: dict[str, dict[str, Any]] = field(default_factory=dict)
    per_label: dict[str, dict[str, Any]] = field(default_factory=dict)
    per_group: dict[str, dict[str, Any]] = field(default_factory=dict)
    confusion: dict[str, Any] | None = None
    reliability: list[dict[str, Any]] | None = None
    auc: dict[str, Any] | None = None


def predicted(task: str, matrix: FloatArray, kind: str, threshold: float) -> IntArray:
    """The predicted class (binary, multiclass) or labels (multilabel) of each row."""
    if task == "multiclass":
        found: IntArray = np.argmax(matrix, axis=1)
        return found
    p = sigmoid(matrix) if kind == "logits" else matrix
    return (p > threshold).astype(np.intp)


def _argmax(columns: list[FloatArray]) -> tuple[IntArray, FloatArray]:
    """The first column of the highest value in each row, and that value (as argmax)."""
    best: FloatArray = np.maximum.reduce(columns)
    index = np.zeros(best.size, dtype=np.intp)
    found = np.zeros(best.size, dtype=bool)
    for j, column in enumerate(columns):
        first = column == best
        first &= ~found
        if j:
            index += j * first
        found |= first
    return index, best


def _argmax_matrix(p: FloatArray) -> tuple[IntArray, FloatArray]:
    index: IntArray = np.argmax(p, axis=1)
    best: FloatArray = p[np.arange(p.shape[0]), index]
    return index, best


def _in_top(columns: list[FloatArray], p_true: FloatArray, y: IntArray, k: int) -> FloatArray:
    """Whether the true class is among the k highest, ties broken as scikit-learn's
    ``top_k_accuracy_score`` does (the later class first). ``columns``: the matrix's
    columns, or the matrix alone."""
    ahead = np.zeros(p_true.size, dtype=np.intp)
    if len(columns) == 1 and columns[0].ndim == 2:
        p = columns[0]
        later = np.arange(p.shape[1]) > y[:, None]
        ahead += np.count_nonzero(p > p_true[:, None], axis=1)
        ahead += np.count_nonzero((p == p_true[:, None]) & later, axis=1)
    for j, column in enumerate(columns if columns[0].ndim == 1 else []):
        ahead += column > p_true
        ahead += (column == p_true) & (y < j)
    result: FloatArray = (ahead < k).astype(np.float64)
    return result


class MetricsState:
    """The sums behind the metrics of one task (see the module).

    names : the prediction columns (classes, labels or outputs)
    """

    def __init__(self, task: str, names: Sequence[str], options: MetricOptions) -> None:
        self.task = task
        self.names = tuple(names)
        self.options = options
        k = len(self.names)
        self.sums: dict[str, FloatArray] = {}
        self.extra: dict[str, FloatArray] = {}  # not added: maxima, or Chan's running moments
        self.sparse: dict[int, float] = {}
        self.groups = KeyedTotals()
        self.reliability: ReliabilityBins | None = None
        self.auc: AucSketch | None = None
        if task in ("binary", "multiclass"):
            self.reliability = ReliabilityBins(options.bins)
            self.auc = AucSketch(1 if task == "binary" else k)
        elif task == "multilabel":
            self.reliability = ReliabilityBins(options.bins, k)
            self.auc = AucSketch(k)

    def _add(self, name: str, value: FloatArray | IntArray | float) -> None:
        array = np.asarray(value, dtype=np.float64)
        if name in self.sums:
            self.sums[name] = self.sums[name] + array
        else:
            self.sums[name] = array.copy()

    # ------------------------------------------------------------------ update

    def update(
        self,
        matrix: FloatArray,
        y: FloatArray | IntArray,
        kind: str,
        weights: FloatArray | None,
        by: tuple[IntArray, Sequence[str | None]] | None = None,
    ) -> IntArray | None:
        """Add one chunk: ``matrix`` and ``y`` as the loss takes them. Returns the
        predicted class (or labels) of each row; None for regression."""
        if matrix.shape[0] == 0:
            return None
        w = np.ones(matrix.shape[0]) if weights is None else weights
        self._add("w", float(np.sum(w)))
        if self.task == "regression":
            self._regression(matrix, np.asarray(y, dtype=np.float64), w, by)
            return None
        if self.task == "multiclass":
            return self._multiclass(matrix, np.asarray(y, dtype=np.intp), kind, weights, w, by)
        return self._sigmoid(matrix, np.asarray(y, dtype=np.float64), kind, weights, w, by)

    def _sigmoid(
        self,
        matrix: FloatArray,
        y: FloatArray,
        kind: str,
        weights: FloatArray | None,
        w: FloatArray,
        by: tuple[IntArray, Sequence[str | None]] | None,
    ) -> IntArray:
        """Binary (one column) and multilabel (a column per label)."""
        n = matrix.shape[0]
        z = matrix.reshape(n, -1)
        y2 = y.reshape(n, -1)
        p = sigmoid(z) if kind == "logits" else z
        pred = (p > self.options.threshold).astype(np.intp)
        hit = (pred == y2).astype(np.float64)
        w2 = w[:, None]
        self._add("hits", np.sum(w2 * hit, axis=0))
        self._add("brier", np.sum(w2 * np.square(p - y2), axis=0))
        self._add("tp", np.sum(w2 * (pred * y2), axis=0))
        self._add("pred_pos", np.sum(w2 * pred, axis=0))
        self._add("true_pos", np.sum(w2 * y2, axis=0))
        exact = np.all(hit == 1.0, axis=1).astype(np.float64)
        self._add("subset", float(np.sum(w * exact)))
        if self.task == "binary":
            self._add(
                "confusion",
                np.bincount(2 * y2[:, 0].astype(np.intp) + pred[:, 0], weights=w, minlength=4),
            )
        assert self.reliability is not None and self.auc is not None
        self.reliability.update(p, y2, weights)
        for j in range(p.shape[1]):
            self.auc.add_column(j, p[:, j], weights, y2[:, j] > 0.5)
        if by is not None:
            self.groups.update(by[0], by[1], exact, w)
        result: IntArray = pred[:, 0] if self.task == "binary" else pred
        return result

    def _multiclass(
        self,
        matrix: FloatArray,
        y: IntArray,
        kind: str,
        weights: FloatArray | None,
        w: FloatArray,
        by: tuple[IntArray, Sequence[str | None]] | None,
    ) -> IntArray:
        """Column by column: the matrix is stored so (see ``stack_columns``)."""
        n, k = matrix.shape
        p = softmax(matrix) if kind == "logits" else matrix
        columns = [p[:, j] for j in range(k)] if k <= BY_COLUMN else [p]
        pred, conf = _argmax(columns) if k <= BY_COLUMN else _argmax_matrix(p)
        p_true = p[np.arange(n), y]
        hit = (pred == y).astype(np.float64)
        self._add("hits", float(np.sum(w * hit)))
        self._add("tp", np.bincount(y, weights=w * hit, minlength=k))
        self._add("true_pos", np.bincount(y, weights=w, minlength=k))
        self._add("pred_pos", np.bincount(pred, weights=w, minlength=k))
        self._add("support", np.bincount(y, minlength=k))
        self._add("pred_n", np.bincount(pred, minlength=k))
        squares = np.zeros(n)
        for column in columns:
            squares += np.sum(column * column, axis=1) if column.ndim == 2 else column * column
        self._add("brier", float(np.sum(w * (squares - 2.0 * p_true + 1.0))))
        top_k = self._top_k(k)
        if top_k < k:
            self._add("top_k", float(np.sum(w * _in_top(columns, p_true, y, top_k))))
        self._confusion(y * k + pred, w, k)
        assert self.reliability is not None and self.auc is not None
        self.reliability.update(conf[:, None], hit[:, None], weights)
        if k <= BY_COLUMN:
            for j, column in enumerate(columns):
                self.auc.add_column(j, column, weights)
        else:
            self.auc.add_matrix(p, weights)
        self.auc.add_positives(y, p_true, weights)
        if by is not None:
            self.groups.update(by[0], by[1], hit, w)
        return pred

    def _confusion(self, codes: IntArray, w: FloatArray, k: int) -> None:
        if k <= DENSE_CLASSES:
            self._add("confusion", np.bincount(codes, weights=w, minlength=k * k))
            return
        cells, inverse = np.unique(codes, return_inverse=True)
        sums = np.bincount(inverse, weights=w)
        for cell, value in zip(cells.tolist(), sums.tolist(), strict=True):
            self.sparse[cell] = self.sparse.get(cell, 0.0) + value

    def _top_k(self, k: int) -> int:
        return 5 if self.options.top_k is None else self.options.top_k

    def _regression(
        self,
        matrix: FloatArray,
        y: FloatArray,
        w: FloatArray,
        by: tuple[IntArray, Sequence[str | None]] | None,
    ) -> None:
        n = matrix.shape[0]
        pred, y2 = matrix.reshape(n, -1), y.reshape(n, -1)
        with np.errstate(over="ignore", invalid="ignore"):
            error = np.abs(pred - y2)
            self._add("abs", np.sum(w[:, None] * error, axis=0))
            self._add("sq", np.sum(w[:, None] * np.square(error), axis=0))
            top = np.max(error, axis=0)
            self.extra["max"] = np.maximum(self.extra.get("max", top), top)
            total = float(np.sum(w))
            mean = np.sum(w[:, None] * y2, axis=0) / total if total > 0 else np.zeros(y2.shape[1])
            m2 = np.sum(w[:, None] * np.square(y2 - mean), axis=0)
        self._moments(total, mean, m2)
        if by is not None:
            self.groups.update(by[0], by[1], np.mean(error, axis=1), w)

    def _moments(self, total: float, mean: FloatArray, m2: FloatArray) -> None:
        """Chan et al.'s pairwise update of the weighted mean and M2 of the targets."""
        if total <= 0.0:
            return
        if "y_w" not in self.extra:
            self.extra.update(y_w=np.array(total), y_mean=mean, y_m2=m2)
            return
        w_a = float(self.extra["y_w"])
        delta = mean - self.extra["y_mean"]
        w_ab = w_a + total
        self.extra["y_mean"] = self.extra["y_mean"] + delta * (total / w_ab)
        self.extra["y_m2"] = self.extra["y_m2"] + m2 + np.square(delta) * (w_a * total / w_ab)
        self.extra["y_w"] = np.array(w_ab)

    # ------------------------------------------------------------------- merge

    def merge(self, other: MetricsState) -> MetricsState:
        for name, value in other.sums.items():
            self._add(name, value)
        if "max" in other.extra:
            top = other.extra["max"]
            self.extra["max"] = np.maximum(self.extra.get("max", top), top)
        if "y_w" in other.extra:
            x = other.extra
            self._moments(float(x["y_w"]), x["y_mean"], x["y_m2"])
        for cell, weight in other.sparse.items():
            self.sparse[cell] = self.sparse.get(cell, 0.0) + weight
        self.groups.merge(other.groups)
        if self.reliability is not None and other.reliability is not None:
            self.reliability.merge(other.reliability)
        if self.auc is not None and other.auc is not None:
            self.auc.merge(other.auc)
        return self
