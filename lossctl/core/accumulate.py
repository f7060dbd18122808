"""Running totals of per-sample losses: ``update(chunk)``, ``merge(other)``, ``result()``.

Every number in the report that depends on the losses comes from here, so a
file evaluated in chunks gives the same report as the whole file at once.
The histogram has fixed, data-independent edges (half-decades from 1e-6 to
1e6) so that two accumulators can always be merged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossctl.core.activations import FloatArray, weighted_sums
from lossctl.core.losses import BoolArray, IntArray

#: 0, then 1e-6, 10**-5.5, ..., 1e6, then infinity.
HISTOGRAM_EDGES: FloatArray = np.concatenate(([0.0], 10.0 ** np.arange(-6.0, 6.25, 0.5), [np.inf]))


@dataclass(frozen=True)
class GroupLoss:
    """Mean loss of one class (by true class) or one label."""

    name: str
    n_samples: int
    sum_weights: float
    mean_loss: float


class GroupTotals:
    """Count, weight and weighted loss per group: a class, a label, or a ``--by`` value."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.n = np.zeros(len(names), dtype=np.int64)
        self.w = np.zeros(len(names))
        self.wl = np.zeros(len(names))

    @np.errstate(over="ignore", invalid="ignore")  # see LossAccumulator.update
    def update(self, codes: IntArray, loss: FloatArray, w: FloatArray) -> None:
        """Rows whose group is ``codes`` (indices into ``names``; more groups than names
        while the names are still being found, see :meth:`named`)."""
        k = max(len(self.n), int(codes.max()) + 1 if codes.size else 0)
        if k > len(self.n):
            grow = k - len(self.n)
            self.n = np.concatenate((self.n, np.zeros(grow, dtype=np.int64)))
            self.w = np.concatenate((self.w, np.zeros(grow)))
            self.wl = np.concatenate((self.wl, np.zeros(grow)))
        self.n += np.bincount(codes, minlength=k)
        self.w += np.bincount(codes, weights=w, minlength=k)
        self.wl += np.bincount(codes, weights=w * loss, minlength=k)

    @np.errstate(over="ignore", invalid="ignore")  # see LossAccumulator.update
    def update_columns(self, per_column: FloatArray, w: FloatArray) -> None:
        """Every row counts in every group, with the group's own loss column."""
        self.n += per_column.shape[0]
        self.w += float(np.sum(w))
        self.wl += weighted_sums(w, per_column)

    def named(self, names: tuple[str, ...], order: IntArray) -> GroupTotals:
        """The totals of groups found as codes 0, 1, ..., in the order ``order``, named."""
        named = GroupTotals(names)
        for attribute in ("n", "w", "wl"):
            values = getattr(self, attribute)
            padded = np.zeros(len(order), dtype=values.dtype)
            padded[: values.size] = values
            setattr(named, attribute, padded[order])
        return named

    def merge(self, other: GroupTotals) -> None:
        self.n += other.n
        self.w += other.w
        self.wl += other.wl

    def result(self) -> tuple[GroupLoss, ...]:
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = self.wl / self.w
        return tuple(
            GroupLoss(name, int(n), float(w), float(m))
            for name, n, w, m in zip(self.names, self.n, self.w, mean, strict=True)
        )


@dataclass(frozen=True)
class LossSummary:
    """Everything the report says about the losses, from one accumulator.

    groups : per class (multiclass, by true class) or per label (multilabel)
    by_groups : per value of the ``--by`` column
    """

    n_samples: int
    sum_weights: float
    mean_loss: float
    unweighted_mean_loss: float
    min_loss: float
    max_loss: float
    n_clipped: int
    histogram_edges: tuple[float, ...]
    histogram_counts: tuple[int, ...]
    worst: tuple[tuple[int, float], ...]
    groups: tuple[GroupLoss, ...]
    by_groups: tuple[GroupLoss, ...] = ()


class LossAccumulator:
    """Sums, counts, extremes, a histogram, the worst rows and per-group sums.

    groups : names of the classes (multiclass, grouped by true class) or the
        labels (multilabel); empty for the other tasks
    by : names of the values of the ``--by`` column, if any
    worst_k : how many of the largest losses to keep, with their row index
    """

    def __init__(
        self, groups: tuple[str, ...] = (), worst_k: int = 5, by: tuple[str, ...] = ()
    ) -> None:
        self.worst_k = worst_k
        self.n = 0
        self.sum_w = 0.0
        self.sum_wl = 0.0
        self.sum_l = 0.0
        self.min = np.inf
        self.max = -np.inf
        self.n_clipped = 0
        self.hist = np.zeros(HISTOGRAM_EDGES.size - 1, dtype=np.int64)
        self.worst_index: IntArray = np.empty(0, dtype=np.intp)
        self.worst_loss: FloatArray = np.empty(0)
        self.groups = GroupTotals(groups)
        self.by = GroupTotals(by)

    # A squared error can overflow to infinity (an honest float64 result); its sums
    # are then infinite, and times a zero weight NaN: no warning for either.
    @np.errstate(over="ignore", invalid="ignore")
    def update(
        self,
        loss: FloatArray,
        *,
        offset: int,
        weights: FloatArray | None = None,
        clipped: BoolArray | None = None,
        y_index: IntArray | None = None,
        per_label: FloatArray | None = None,
        by_codes: IntArray | None = None,
    ) -> None:
        """Add one chunk of losses whose first row has aligned index ``offset``.

        y_index : true class of each row (multiclass), for the per-class sums
        per_label : (n, L) per-label losses (multilabel), for the per-label sums
        by_codes : each row's group of the ``--by`` column
        """
        if loss.size == 0:
            return
        w = np.ones_like(loss) if weights is None else weights
        self.n += loss.size
        self.sum_w += float(np.sum(w))
        self.sum_wl += float(np.sum(w * loss))
        self.sum_l += float(np.sum(loss))
        self.min = min(self.min, float(np.min(loss)))
        self.max = max(self.max, float(np.max(loss)))
        if clipped is not None:
            self.n_clipped += int(np.count_nonzero(clipped))
        # np.histogram's bins, by binary search (three times as fast); inf in the last
        bins = np.minimum(
            np.searchsorted(HISTOGRAM_EDGES, loss, side="right") - 1, self.hist.size - 1
        )
        self.hist += np.bincount(bins, minlength=self.hist.size)
        self._keep_worst(np.arange(offset, offset + loss.size), loss)
        if y_index is not None and self.groups.names:
            self.groups.update(y_index, loss, w)
        if per_label is not None and self.groups.names:
            self.groups.update_columns(per_label, w)
        if by_codes is not None:
            self.by.update(by_codes, loss, w)

    def _keep_worst(self, index: IntArray, loss: FloatArray) -> None:
        if self.worst_k <= 0:
            return
        if self.worst_loss.size == self.worst_k:  # only a loss as large as the k-th can enter
            enter = np.flatnonzero(loss >= self.worst_loss[-1])
            index, loss = index[enter], loss[enter]
        if loss.size > self.worst_k:
            top = np.argpartition(loss, loss.size - self.worst_k)[-self.worst_k :]
            # argpartition picks any of tied values; keep every tie with the cut-off,
            # so the earliest rows win below.
            top = np.flatnonzero(loss >= loss[top].min())
            index, loss = index[top], loss[top]
        all_index = np.concatenate((self.worst_index, index))
        all_loss = np.concatenate((self.worst_loss, loss))
        order = np.lexsort((all_index, -all_loss))[: self.worst_k]
        self.worst_index, self.worst_loss = all_index[order], all_loss[order]

    def merge(self, other: LossAccumulator) -> LossAccumulator:
        """Fold ``other`` (a later or disjoint chunk of the same input) into this one."""
        self.n += other.n
        self.sum_w += other.sum_w
        self.sum_wl += other.sum_wl
        self.sum_l += other.sum_l
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)
        self.n_clipped += other.n_clipped
        self.hist += other.hist
        self._keep_worst(other.worst_index, other.worst_loss)
        self.groups.merge(other.groups)
        self.by.merge(other.by)
        return self

    def result(self) -> LossSummary:
        counts = self.hist
        nonzero = np.flatnonzero(counts)
        lo, hi = (int(nonzero[0]), int(nonzero[-1]) + 1) if nonzero.size else (0, 0)
        return LossSummary(
            n_samples=self.n,
            sum_weights=self.sum_w,
            mean_loss=self.sum_wl / self.sum_w if self.sum_w > 0 else float("nan"),
            unweighted_mean_loss=self.sum_l / self.n if self.n else float("nan"),
            min_loss=self.min,
            max_loss=self.max,
            n_clipped=self.n_clipped,
            histogram_edges=tuple(float(e) for e in HISTOGRAM_EDGES[lo : hi + 1]),
            histogram_counts=tuple(int(c) for c in counts[lo:hi]),
            worst=tuple(
                (int(i), float(v)) for i, v in zip(self.worst_index, self.worst_loss, strict=True)
            ),
            groups=self.groups.result(),
            by_groups=self.by.result(),
        )
