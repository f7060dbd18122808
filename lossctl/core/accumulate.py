"""Running totals of per-sample losses: ``update(chunk)``, ``merge(other)``, ``result()``.

Every number in the report that depends on the losses comes from here, so a
file evaluated in chunks gives the same report as the whole file at once.
The histogram has fixed, data-independent edges (half-decades from 1e-6 to
1e6) so that two accumulators can always be merged.
"""

from __future__ import annotations

from collections.abc import Sequence
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
        """Rows whose group is ``codes`` (indices into ``names``)."""
        k = len(self.n)
        self.n += np.bincount(codes, minlength=k)
        self.w += np.bincount(codes, weights=w, minlength=k)
        self.wl += np.bincount(codes, weights=w * loss, minlength=k)

    @np.errstate(over="ignore", invalid="ignore")  # see LossAccumulator.update
    def update_columns(self, per_column: FloatArray, w: FloatArray) -> None:
        """Every row counts in every group, with the group's own loss column."""
        self.n += per_column.shape[0]
        self.w += float(np.sum(w))
        self.wl += weighted_sums(w, per_column)

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


class KeyedTotals:
    """Count, weight and weighted loss per value of the ``--by`` column, keyed by the
    value itself (its text; None for an empty cell), so that totals of any two parts
    of the input merge, whatever order their values first appeared in."""

    def __init__(self) -> None:
        self.slots: dict[str | None, int] = {}
        self.totals = GroupTotals(())

    def _slots(self, values: Sequence[str | None]) -> IntArray:
        for value in values:
            self.slots.setdefault(value, len(self.slots))
        grow = len(self.slots) - len(self.totals.n)
        if grow:
            t = self.totals
            t.n = np.concatenate((t.n, np.zeros(grow, dtype=np.int64)))
            t.w = np.concatenate((t.w, np.zeros(grow)))
            t.wl = np.concatenate((t.wl, np.zeros(grow)))
        return np.array([self.slots[v] for v in values], dtype=np.intp)

    @np.errstate(over="ignore", invalid="ignore")  # see LossAccumulator.update
    def update(
        self, codes: IntArray, values: Sequence[str | None], loss: FloatArray, w: FloatArray
    ) -> None:
        """Rows whose value is ``values[codes[i]]``."""
        local = GroupTotals(tuple("" for _ in values))
        local.update(codes, loss, w)
        self._add(values, local)

    def _add(self, values: Sequence[str | None], local: GroupTotals) -> None:
        slots = self._slots(values)  # distinct values: distinct slots
        self.totals.n[slots] += local.n
        self.totals.w[slots] += local.w
        self.totals.wl[slots] += local.wl

    def merge(self, other: KeyedTotals) -> None:
        self._add(list(other.slots), other.totals)

    def result(self) -> tuple[GroupLoss, ...]:
        """Sorted by value: as numbers when every value is one, else as text; the empty
        cells last, as a group named ``(missing)``."""
        seen = {v for v, slot in self.slots.items() if self.totals.n[slot]}  # (rows dropped)
        values: list[str] = [v for v in self.slots if v is not None and v in seen]
        numbers = [_number(v) for v in values]
        ordered: list[str | None] = []
        if values and not any(np.isnan(numbers)):
            ordered += [v for _, v in sorted(zip(numbers, values, strict=True))]
        else:
            ordered += sorted(values)
        if None in seen:
            ordered.append(None)
        order = np.array([self.slots[v] for v in ordered], dtype=np.intp)
        named = GroupTotals(tuple("(missing)" if v is None else v for v in ordered))
        t = self.totals
        named.n, named.w, named.wl = t.n[order], t.w[order], t.wl[order]
        return named.result()


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return np.nan


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
    worst_k : how many of the largest losses to keep, with their row number
    """

    def __init__(self, groups: tuple[str, ...] = (), worst_k: int = 5) -> None:
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
        self.by = KeyedTotals()

    # A squared error can overflow to infinity (an honest float64 result); its sums
    # are then infinite, and times a zero weight NaN: no warning for either.
    @np.errstate(over="ignore", invalid="ignore")
    def update(
        self,
        loss: FloatArray,
        *,
        rows: int | IntArray,
        weights: FloatArray | None = None,
        clipped: BoolArray | None = None,
        y_index: IntArray | None = None,
        per_label: FloatArray | None = None,
        by: tuple[IntArray, Sequence[str | None]] | None = None,
    ) -> None:
        """Add one chunk of losses.

        rows : each row's number (the worst rows are kept by it, the earliest of ties
            first): an array, or the number of the first of rows that follow in order
        y_index : true class of each row (multiclass), for the per-class sums
        per_label : (n, L) per-label losses (multilabel), for the per-label sums
        by : each row's group of the ``--by`` column, as codes into its values
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
        index = np.arange(rows, rows + loss.size) if isinstance(rows, int) else rows
        self._keep_worst(index, loss)
        if y_index is not None and self.groups.names:
            self.groups.update(y_index, loss, w)
        if per_label is not None and self.groups.names:
            self.groups.update_columns(per_label, w)
        if by is not None:
            self.by.update(by[0], by[1], loss, w)

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
