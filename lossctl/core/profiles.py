"""What detection learns from each chunk: small summaries that merge (``of`` / ``merge``).

A profile holds ranges and, for each rule a value can break, a :class:`Count`
of the rows that break it with the first such row, so the decision
(:func:`lossctl.core.tasks.decide`) is made over the whole input, never over
one chunk, and any split of the rows gives the same profile.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from lossctl.core.activations import FloatArray, stack_columns
from lossctl.core.labels import (
    affixes,
    label_number,
    matches,
    number_text,
    smallest,
    smallest_numbers,
)
from lossctl.core.losses import IntArray

#: How far a probability row may sum from 1 and still count as summing to 1.
SUM_TOLERANCE = 1e-6


@dataclass(frozen=True)
class TargetColumn:
    """One target column: numbers, or text (codes into categories) for class names.

    values : (n,) float64, the number each row holds; NaN where its text is not a number
    codes, categories : text columns only; row i holds ``categories[codes[i]]``
    boolean : a column of booleans (its values are 0.0 and 1.0)
    """

    name: str
    values: FloatArray
    codes: IntArray | None = None
    categories: tuple[str, ...] = ()
    boolean: bool = False

    def text(self, index: int) -> str:
        """The value of row ``index`` as the file shows it."""
        if self.codes is not None:
            return self.categories[int(self.codes[index])]
        return number_text(float(self.values[index]))

    def distinct(self) -> tuple[tuple[str, ...], bool]:
        """The smallest distinct values, as the file shows them, and whether there are
        more (see :func:`lossctl.core.labels.smallest`)."""
        if self.codes is not None:
            present = np.bincount(self.codes, minlength=len(self.categories)) > 0
            return smallest([c for c, here in zip(self.categories, present, strict=True) if here])
        values = self.values[~np.isnan(self.values)]
        if self.boolean:
            ends = {float(np.min(values)), float(np.max(values))} if values.size else set()
            return smallest([("False", "True")[int(v)] for v in ends])
        return smallest_numbers(values)

    def positive(self, label: str) -> FloatArray:
        """1.0 where the value is ``label`` (the positive class of ``--pos-label``), else 0.0."""
        if self.codes is not None:
            lookup = np.array([matches(c, label) for c in self.categories] or [False])
            result: FloatArray = lookup[self.codes].astype(np.float64)
            return result
        number = label_number(label, self.boolean)
        positive: FloatArray = (
            np.zeros_like(self.values) if number is None else (self.values == number).astype(float)
        )
        return positive

    def name_index(self, names: Sequence[str]) -> IntArray:
        """For each row, the index of the prediction column named like the value; -1 if none."""
        position = {name: i for i, name in enumerate(names)}
        by_number = {
            number: i for i, name in enumerate(names) if (number := _as_number(name)) is not None
        }

        def column_of(text: str) -> int:
            """Text as written ("cat", "1"), else as a number ("1.0" names the column "1")."""
            number = _as_number(text)
            return position.get(text, by_number.get(number, -1) if number is not None else -1)

        if self.codes is not None:
            lookup = np.array([column_of(c) for c in self.categories], dtype=np.intp)
            result: IntArray = lookup[self.codes]
            return result
        index = np.full(self.values.shape, -1, dtype=np.intp)
        for number, i in by_number.items():
            index[self.values == number] = i
        return index

    def take(self, index: IntArray) -> TargetColumn:
        """The rows ``index``, in that order."""
        codes = None if self.codes is None else self.codes[index]
        return replace(self, values=self.values[index], codes=codes)

    def slice(self, start: int, stop: int) -> TargetColumn:
        codes = None if self.codes is None else self.codes[start:stop]
        return replace(self, values=self.values[start:stop], codes=codes)


def _as_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


#: Where the rows of a chunk come from: the row of its first (the rows follow in
#: order), or each row's own row number (rows matched by id come in any order).
Rows = int | IntArray


def first_of(mask: np.ndarray, rows: Rows = 0) -> int | None:
    """The position in the chunk of the earliest row where ``mask`` holds, if any."""
    if not mask.any():
        return None
    if isinstance(rows, int):
        return int(np.argmax(mask))
    where = np.flatnonzero(mask)
    return int(where[np.argmin(rows[where])])


def row_of(rows: Rows, position: int) -> int:
    return rows + position if isinstance(rows, int) else int(rows[position])


@dataclass(frozen=True)
class Count:
    """How many rows break a rule, the first of them (a row of the input) and its value."""

    n: int = 0
    first: int | None = None
    value: str | None = None

    @classmethod
    def of(
        cls, mask: np.ndarray, rows: Rows = 0, describe: Callable[[int], str] | None = None
    ) -> Count:
        """The rows of a chunk where ``mask`` holds; ``rows`` as :data:`Rows` says."""
        position = first_of(mask, rows)
        if position is None:
            return cls()
        n = int(np.count_nonzero(mask))
        return cls(n, row_of(rows, position), describe(position) if describe else None)

    def merge(self, other: Count) -> Count:
        earlier = (
            other
            if self.first is None or (other.first is not None and other.first < self.first)
            else self
        )
        return Count(self.n + other.n, earlier.first, earlier.value)


@dataclass(frozen=True)
class PredictionProfile:
    """What detection needs to know of the prediction columns.

    outside : rows with a value outside [0, 1] (so the values are logits)
    not_summing : rows of several columns whose sum is not 1 (within SUM_TOLERANCE)
    """

    n_rows: int = 0
    min: float = np.inf
    max: float = -np.inf
    outside: Count = field(default_factory=Count)
    first_outside_column: int | None = None
    not_summing: Count = field(default_factory=Count)

    @classmethod
    def of(cls, pred: FloatArray, rows: Rows = 0) -> PredictionProfile:
        """pred : (n,) or (n, K) float64, finite."""
        if pred.shape[0] == 0:
            return cls()
        matrix = pred.reshape(pred.shape[0], -1)
        low, high = float(np.min(matrix)), float(np.max(matrix))
        column = None
        outside = Count()
        if low < 0.0 or high > 1.0:
            bad = (matrix < 0.0) | (matrix > 1.0)
            bad_rows = np.any(bad, axis=1)
            position = first_of(bad_rows, rows)
            assert position is not None
            column = int(np.argmax(bad[position]))
            value = repr(float(matrix[position, column]))
            outside = Count(int(np.count_nonzero(bad_rows)), row_of(rows, position), value)
        not_summing = Count()
        if matrix.shape[1] > 1:
            not_summing = Count.of(np.abs(np.sum(matrix, axis=1) - 1.0) > SUM_TOLERANCE, rows)
        return cls(
            n_rows=matrix.shape[0],
            min=low,
            max=high,
            outside=outside,
            first_outside_column=column,
            not_summing=not_summing,
        )

    def merge(self, other: PredictionProfile) -> PredictionProfile:
        first_self = self.outside.first is not None and (
            other.outside.first is None or self.outside.first <= other.outside.first
        )
        return PredictionProfile(
            n_rows=self.n_rows + other.n_rows,
            min=min(self.min, other.min),
            max=max(self.max, other.max),
            outside=self.outside.merge(other.outside),
            first_outside_column=(
                self.first_outside_column if first_self else other.first_outside_column
            ),
            not_summing=self.not_summing.merge(other.not_summing),
        )

    @property
    def in_unit_interval(self) -> bool:
        return self.outside.n == 0


@dataclass(frozen=True)
class TargetColumnProfile:
    """What detection needs to know of one target column.

    non_numeric : rows whose text is not a number
    non_binary : rows not equal to 0 or 1
    non_index : rows that are not an integer >= 0
    too_large : rows whose value is at least the number of prediction columns
    unnamed : rows whose value is not a prediction column name
    unusable : rows that are neither a column name nor a class index 0..K-1
    unnamed_affix : for each of :func:`~lossctl.core.labels.affixes` of the prediction
        columns, the rows whose value is not a column name without it
    values, more_values : the smallest distinct values as written, and whether there
        are others (:func:`~lossctl.core.labels.smallest`)
    """

    name: str
    is_text: bool
    min: float = np.inf
    max: float = -np.inf
    non_numeric: Count = field(default_factory=Count)
    non_binary: Count = field(default_factory=Count)
    non_index: Count = field(default_factory=Count)
    too_large: Count = field(default_factory=Count)
    unnamed: Count = field(default_factory=Count)
    unusable: Count = field(default_factory=Count)
    unnamed_affix: tuple[Count, ...] = ()
    values: tuple[str, ...] = ()
    more_values: bool = False

    @classmethod
    def of(
        cls, column: TargetColumn, pred_names: Sequence[str], rows: Rows = 0
    ) -> TargetColumnProfile:
        v = column.values
        numeric = ~np.isnan(v)
        unnamed = column.name_index(pred_names) < 0
        finite = v[numeric]

        def count(mask: np.ndarray) -> Count:
            return Count.of(mask, rows, column.text)

        values, more = column.distinct()
        return cls(
            name=column.name,
            is_text=column.codes is not None,
            min=float(np.min(finite)) if finite.size else np.inf,
            max=float(np.max(finite)) if finite.size else -np.inf,
            non_numeric=count(~numeric),
            non_binary=count(~((v == 0.0) | (v == 1.0))),
            non_index=count(~((v >= 0.0) & (np.floor(v) == v))),
            too_large=count(v >= len(pred_names)),
            unnamed=count(unnamed),
            unusable=count(unnamed & ~((v >= 0.0) & (np.floor(v) == v) & (v < len(pred_names)))),
            unnamed_affix=tuple(
                count(column.name_index(a.names) < 0) for a in affixes(tuple(pred_names))
            ),
            values=values,
            more_values=more,
        )

    def merge(self, other: TargetColumnProfile) -> TargetColumnProfile:
        merged = replace(
            self,
            min=min(self.min, other.min),
            max=max(self.max, other.max),
            non_numeric=self.non_numeric.merge(other.non_numeric),
            non_binary=self.non_binary.merge(other.non_binary),
            non_index=self.non_index.merge(other.non_index),
            too_large=self.too_large.merge(other.too_large),
            unnamed=self.unnamed.merge(other.unnamed),
            unusable=self.unusable.merge(other.unusable),
            unnamed_affix=tuple(
                a.merge(b) for a, b in zip(self.unnamed_affix, other.unnamed_affix, strict=True)
            ),
        )
        values, more = smallest(
            [*self.values, *other.values], self.more_values or other.more_values
        )
        return replace(merged, values=values, more_values=more)


@dataclass(frozen=True)
class TargetProfile:
    """Profiles of every target column, and for several columns the rows that are not one-hot
    and those that are not distributions (values in [0, 1] summing to 1 within SUM_TOLERANCE:
    soft targets, class probabilities)."""

    columns: tuple[TargetColumnProfile, ...]
    not_one_hot: Count = field(default_factory=Count)
    not_distribution: Count = field(default_factory=Count)

    @classmethod
    def of(
        cls, columns: Sequence[TargetColumn], pred_names: Sequence[str], rows: Rows = 0
    ) -> TargetProfile:
        profiles = tuple(TargetColumnProfile.of(c, pred_names, rows) for c in columns)
        not_one_hot = not_distribution = Count()
        if len(columns) > 1:
            matrix = stack_columns([c.values for c in columns])
            binary = np.all((matrix == 0.0) | (matrix == 1.0), axis=1)
            sums = np.sum(matrix, axis=1)
            not_one_hot = Count.of(~(binary & (sums == 1.0)), rows)
            inside = np.all((matrix >= 0.0) & (matrix <= 1.0), axis=1)
            not_distribution = Count.of(~(inside & (np.abs(sums - 1.0) <= SUM_TOLERANCE)), rows)
        return cls(profiles, not_one_hot, not_distribution)

    def merge(self, other: TargetProfile) -> TargetProfile:
        return TargetProfile(
            tuple(a.merge(b) for a, b in zip(self.columns, other.columns, strict=True)),
            self.not_one_hot.merge(other.not_one_hot),
            self.not_distribution.merge(other.not_distribution),
        )

    @property
    def all_binary(self) -> bool:
        return all(c.non_binary.n == 0 for c in self.columns)
