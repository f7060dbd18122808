"""Task and prediction-kind detection, and the targets each task accepts.

Detection reads *profiles*: small summaries of the prediction and target
columns (ranges, counts of rows that break a rule and the first such row).
A profile is built per chunk with ``of`` and combined with ``merge``, so the
decision is always made over the whole input, never over one chunk.

The rules (``SPEC.md``, "Auto-detection"), in order:

1. Several target columns: one-hot rows, and predictions that are logits or
   probability rows summing to 1 -> multiclass; 0/1 values -> multilabel;
   anything else -> multi-output regression.
2. One target column, several prediction columns -> multiclass.
3. One target column, one prediction column: targets all 0/1 -> binary;
   otherwise regression.

Any prediction value outside [0, 1] means logits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from lossctl.core.activations import FloatArray, stack_columns
from lossctl.core.losses import LOSSES, TASK_LOSS, IntArray, PredictionKind, Task
from lossctl.errors import (
    BadValueError,
    ClassIndexOutOfRange,
    ConflictingOptions,
    MixedClassTargets,
    NonNumeric,
    NotBinary,
    NotOneHot,
    ProbabilityOutOfRange,
    UnknownClass,
    UnknownTask,
    WrongColumnCount,
)

#: How far a probability row may sum from 1 and still count as summing to 1.
SUM_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Side:
    """One input, as messages name it, and where each of its rows comes from.

    Rows are counted from 0 over the whole input; an input of several files
    (``parts``, whose first rows are ``starts``) names the file of a row and the
    row within it.
    """

    file: str
    parts: tuple[str, ...] = ()
    starts: tuple[int, ...] = ()

    def _part(self, index: int) -> int:
        return int(np.searchsorted(self.starts, index, side="right")) - 1 if self.starts else -1

    def row(self, index: int) -> int:
        """The 1-based data row, within its file, of the input's row ``index``."""
        part = self._part(index)
        return index + 1 - (self.starts[part] if part >= 0 else 0)

    def file_at(self, index: int) -> str:
        """The file that holds the input's row ``index``."""
        part = self._part(index)
        return self.parts[part] if part >= 0 and len(self.parts) > 1 else self.file

    def where(self, index: int, named: bool = True) -> str:
        """The 1-based row of the input's row ``index``, and (``named``) the part that
        holds it when the input has several: ``"7"``, ``"7 of preds/part-1.csv"``."""
        file = self.file_at(index)
        return f"{self.row(index)}" + (f" of {file}" if named and file != self.file else "")


@dataclass(frozen=True)
class TargetColumn:
    """One target column: numbers, or text (codes into categories) for class names.

    values : (n,) float64, the number each row holds; NaN where its text is not a number
    codes, categories : text columns only; row i holds ``categories[codes[i]]``
    """

    name: str
    values: FloatArray
    codes: IntArray | None = None
    categories: tuple[str, ...] = ()

    def text(self, index: int) -> str:
        """The value of row ``index`` as the file shows it."""
        if self.codes is not None:
            return self.categories[int(self.codes[index])]
        value = float(self.values[index])
        return str(int(value)) if value.is_integer() else repr(value)

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
        )

    def merge(self, other: TargetColumnProfile) -> TargetColumnProfile:
        return replace(
            self,
            min=min(self.min, other.min),
            max=max(self.max, other.max),
            non_numeric=self.non_numeric.merge(other.non_numeric),
            non_binary=self.non_binary.merge(other.non_binary),
            non_index=self.non_index.merge(other.non_index),
            too_large=self.too_large.merge(other.too_large),
            unnamed=self.unnamed.merge(other.unnamed),
            unusable=self.unusable.merge(other.unusable),
        )


@dataclass(frozen=True)
class TargetProfile:
    """Profiles of every target column, and for several columns the rows that are not one-hot."""

    columns: tuple[TargetColumnProfile, ...]
    not_one_hot: Count = field(default_factory=Count)

    @classmethod
    def of(
        cls, columns: Sequence[TargetColumn], pred_names: Sequence[str], rows: Rows = 0
    ) -> TargetProfile:
        profiles = tuple(TargetColumnProfile.of(c, pred_names, rows) for c in columns)
        not_one_hot = Count()
        if len(columns) > 1:
            matrix = stack_columns([c.values for c in columns])
            binary = np.all((matrix == 0.0) | (matrix == 1.0), axis=1)
            not_one_hot = Count.of(~(binary & (np.sum(matrix, axis=1) == 1.0)), rows)
        return cls(profiles, not_one_hot)

    def merge(self, other: TargetProfile) -> TargetProfile:
        return TargetProfile(
            tuple(a.merge(b) for a, b in zip(self.columns, other.columns, strict=True)),
            self.not_one_hot.merge(other.not_one_hot),
        )

    @property
    def all_binary(self) -> bool:
        return all(c.non_binary.n == 0 for c in self.columns)


#: How multiclass targets are encoded, as the report names it.
TargetEncoding = str


@dataclass(frozen=True)
class Detection:
    """What lossctl decided, and why, in words."""

    task: Task
    prediction_kind: PredictionKind
    target_encoding: TargetEncoding
    reasons: tuple[str, ...]

    @property
    def loss(self) -> str:
        """The name of the loss, a key of :data:`lossctl.core.losses.LOSSES`."""
        return TASK_LOSS[self.task]

    @property
    def activation(self) -> str:
        return LOSSES[self.loss].activation


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def decide(
    pred: PredictionProfile,
    targets: TargetProfile,
    *,
    pred_names: Sequence[str],
    pred_side: Side,
    target_side: Side,
    task: str = "auto",
    kind: PredictionKind | None = None,
) -> Detection:
    """Decide the task, the prediction kind and the target encoding, with reasons.

    ``task`` and ``kind`` override the rules; a contradiction between them and
    the data is an input error that names the file, the column and the row.
    """
    reasons: list[str] = []
    n_pred, n_target = len(pred_names), len(targets.columns)
    chosen = _detect_task(pred, targets, n_pred, n_target, task, reasons)
    _check_shape(chosen, n_pred, n_target, pred_side, targets)
    prediction_kind = _detect_kind(chosen, pred, kind, pred_names, pred_side, reasons)
    encoding = _check_targets(chosen, targets, pred_names, target_side, reasons)
    return Detection(chosen, prediction_kind, encoding, tuple(reasons))


def _detect_task(
    pred: PredictionProfile,
    targets: TargetProfile,
    n_pred: int,
    n_target: int,
    task: str,
    reasons: list[str],
) -> Task:
    if task != "auto":
        if task not in TASK_LOSS:
            raise UnknownTask(
                f"unknown task {task!r}",
                hint="Use --task auto, binary, multiclass, multilabel or regression",
            )
        reasons.append(f"task {task} set by --task")
        return task  # type: ignore[return-value]
    if n_target > 1:
        one_hot = targets.not_one_hot.n == 0
        rows_are_distributions = not pred.in_unit_interval or pred.not_summing.n == 0
        if one_hot and rows_are_distributions and n_pred == n_target:
            reasons.append(
                f"{n_target} target columns are one-hot and the {n_pred} prediction columns "
                + ("hold logits" if not pred.in_unit_interval else "are rows summing to 1")
            )
            return "multiclass"
        if targets.all_binary:
            why = "" if not one_hot else " (one-hot, but prediction rows do not sum to 1)"
            reasons.append(f"{n_target} target columns hold only 0/1{why}")
            return "multilabel"
        reasons.append(f"{n_target} target columns hold values other than 0/1")
        return "regression"
    if n_pred > 1:
        reasons.append(f"one target column and {n_pred} prediction columns")
        return "multiclass"
    (column,) = targets.columns
    if column.non_binary.n == 0:
        reasons.append(f"one target column {column.name!r} holding only 0/1")
        return "binary"
    reasons.append(f"one target column {column.name!r} holding values other than 0/1")
    return "regression"


def _check_shape(
    task: Task, n_pred: int, n_target: int, pred_side: Side, targets: TargetProfile
) -> None:
    if task == "binary" and (n_pred != 1 or n_target != 1):
        raise WrongColumnCount(
            f"binary needs one prediction and one target column, got {n_pred} and {n_target}",
            file=pred_side.file,
            hint="Pick the columns with --pred-col and --target-col",
        )
    if task == "multiclass" and n_pred < 2:
        raise WrongColumnCount(
            "multiclass needs one prediction column per class, got 1",
            file=pred_side.file,
            hint="Use --task binary for a single probability or logit",
        )
    if task == "multiclass" and n_target not in (1, n_pred):
        raise WrongColumnCount(
            f"multiclass needs one target column (class) or {n_pred} one-hot target columns, "
            f"got {n_target}",
            hint="Pick the target with --target-col",
        )
    if task in ("multilabel", "regression") and n_target != n_pred:
        raise WrongColumnCount(
            f"{task} needs one target column per prediction column, "
            f"got {n_target} target and {n_pred} prediction columns",
            hint="Pick matching columns with --pred-col and --target-col",
        )


def _detect_kind(
    task: Task,
    pred: PredictionProfile,
    kind: PredictionKind | None,
    pred_names: Sequence[str],
    side: Side,
    reasons: list[str],
) -> PredictionKind:
    if task == "regression":
        if kind == "logits" or kind == "probabilities":
            raise ConflictingOptions(
                f"--from-{'logits' if kind == 'logits' else 'probs'} does not apply to "
                "regression, whose predictions are plain values",
                hint="Leave it out, or choose another --task",
            )
        return "values"
    span = f"[{_fmt(pred.min)}, {_fmt(pred.max)}]"
    if kind == "probabilities":
        if not pred.in_unit_interval:
            raise _bad_value(
                ProbabilityOutOfRange,
                pred.outside,
                "is outside [0, 1], but --from-probs was given",
                side,
                pred_names[pred.first_outside_column or 0],
                hint="Drop --from-probs if these are logits",
            )
        reasons.append("probabilities, set by --from-probs")
        return "probabilities"
    if kind == "logits":
        reasons.append("logits, set by --from-logits")
        return "logits"
    if pred.in_unit_interval:
        reasons.append(f"every prediction lies in [0, 1] ({span}), so probabilities")
        return "probabilities"
    reasons.append(f"predictions span {span}, outside [0, 1], so logits")
    return "logits"


def _bad_value(
    error: type[BadValueError],
    count: Count,
    what: str,
    side: Side,
    column: str | None,
    *,
    hint: str,
) -> BadValueError:
    """An ``error`` for the first of ``count``'s rows: ``'<value>' <what>``."""
    value = "this row" if count.value is None else repr(count.value)
    first = count.first or 0
    return error(
        f"{value} {what}",
        file=side.file_at(first),
        column=column,
        row=side.row(first),
        count=count.n,
        hint=hint,
    )


def _check_targets(
    task: Task,
    targets: TargetProfile,
    pred_names: Sequence[str],
    side: Side,
    reasons: list[str],
) -> TargetEncoding:
    """Check that every target suits the task; return how they are encoded."""
    k = len(pred_names)
    if task == "multiclass" and len(targets.columns) == 1:
        (column,) = targets.columns
        names = ", ".join(pred_names)
        if column.unnamed.n == 0:
            reasons.append("every target is a prediction column name, so class names")
            return "class name"
        if column.non_index.n == 0 and column.too_large.n:
            raise _bad_value(
                ClassIndexOutOfRange,
                column.too_large,
                f"is out of range for {k} classes (indices 0..{k - 1})",
                side,
                column.name,
                hint=f"Check --pred-col: the prediction columns are {names}",
            )
        if column.unusable.n:
            raise _bad_value(
                UnknownClass,
                column.unusable,
                f"is neither a class name nor a class index 0..{k - 1}",
                side,
                column.name,
                hint=f"The classes are the prediction columns: {names}",
            )
        if column.non_index.n:
            raise _bad_value(
                MixedClassTargets,
                column.unnamed,
                "is a class index, but other targets are class names",
                side,
                column.name,
                hint=f"Use either the names ({names}) or indices 0..{k - 1}, not both",
            )
        reasons.append(f"targets are class indices 0..{k - 1}")
        return "class index"
    for column in targets.columns:
        if column.non_numeric.n:
            raise _bad_value(
                NonNumeric,
                column.non_numeric,
                "is not a number",
                side,
                column.name,
                hint=f"{task} targets must be numeric",
            )
    if task == "multiclass":
        if targets.not_one_hot.n:
            raise _bad_value(
                NotOneHot,
                targets.not_one_hot,
                "of targets is not one-hot (exactly one 1, the rest 0)",
                side,
                None,
                hint="Give one class column, or one-hot rows",
            )
        return "one-hot"
    if task in ("binary", "multilabel"):
        for column in targets.columns:
            if column.non_binary.n:
                raise _bad_value(
                    NotBinary,
                    column.non_binary,
                    "is not 0 or 1",
                    side,
                    column.name,
                    hint=f"{task} targets must be 0/1 or true/false; "
                    "use --task regression for other values",
                )
        return "0/1" if task == "binary" else "0/1 per label"
    return "numeric"


def encode_targets(
    detection: Detection,
    columns: Sequence[TargetColumn],
    pred_names: Sequence[str],
) -> FloatArray | IntArray:
    """The target array the loss expects, from validated target columns."""
    if detection.task == "multiclass":
        if detection.target_encoding == "class name":
            return columns[0].name_index(pred_names)
        if detection.target_encoding == "class index":
            return columns[0].values.astype(np.intp)
        one_hot: IntArray = np.argmax(stack_columns([c.values for c in columns]), axis=1)
        return one_hot
    if len(columns) == 1 and detection.task != "multilabel":
        return columns[0].values
    return stack_columns([c.values for c in columns])
