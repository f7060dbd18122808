"""Which columns of the inputs play which part: the SPEC's column rules.

The prediction, target, id, weight and ``--by`` columns are chosen from the
column names alone, before any row is read (README, "How detection works").
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from lossctl.errors import (
    AmbiguousPairing,
    DuplicateColumn,
    NoColumnsLeft,
    NonNumeric,
    NoSuchColumn,
    NoTargets,
    NotBinary,
    OverlappingColumns,
    TooManyTargetColumns,
    UnsupportedColumnType,
    WrongColumnCount,
)
from lossctl.options import ColumnSpec


class InputTable(Protocol):
    """What the plan reads of an input: its name in messages and its column names."""

    @property
    def label(self) -> str: ...

    @property
    def names(self) -> list[str]: ...

    @property
    def index_columns(self) -> Sequence[str]: ...

    @property
    def notes(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class ColumnPlan:
    """Which columns of which input play which part."""

    pred: tuple[str, ...]
    target: tuple[str, ...]
    pred_id: str | None
    target_id: str | None
    weight: str | None
    weight_in_targets: bool
    join: bool
    alignment: str
    by: str | None = None
    by_in_targets: bool = False
    notes: tuple[str, ...] = ()
    #: Several target columns taken by default, not paired by name: the one that looks
    #: like the target, for the messages of errors in them (see unclear_target).
    target_guess: str | None = None


def _names(parts: Sequence[str] | None, available: Sequence[str]) -> list[str] | None:
    """A name is taken as written when a column has it (`` p``), else without the
    spaces around it (``a, b``). The name of a list column (``logits``), which the
    readers show as its K items ``logits[0]`` ... ``logits[K-1]``, stands for all of them."""
    if parts is None:
        return None
    names = []
    for part in parts:
        name = part if part in available else part.strip()
        names += _items(name, available) or [name]
    return names


def _items(name: str, available: Sequence[str]) -> list[str]:
    """The items ``name[0]``, ``name[1]`` ... of a list column ``name`` that is not itself
    a column (none otherwise)."""
    items: list[str] = []
    while name not in available and f"{name}[{len(items)}]" in available:
        items.append(f"{name}[{len(items)}]")
    return items


def _require(
    names: Sequence[str], available: Sequence[str], table: InputTable, option: str
) -> None:
    for i, name in enumerate(names):
        if name in names[:i]:
            raise DuplicateColumn(
                f"is named more than once by {option}",
                file=table.label,
                column=name,
                hint="Name each column once",
            )
    for name in names:
        if name not in available:
            import difflib

            close = difflib.get_close_matches(name, available, n=1)
            hint = f"Did you mean {close[0]!r}?" if close else ""
            shown = ", ".join(repr(a) for a in available[:20])
            raise NoSuchColumn(
                f"no such column (named by {option}); the columns are {shown}",
                file=table.label,
                column=name,
                hint=hint,
            )


def _id_like(names: Sequence[str]) -> str | None:
    return next((n for n in names if n.lower() == "id"), None)


def plan_columns(
    preds: InputTable,
    targets: InputTable | None,
    spec: ColumnSpec,
) -> ColumnPlan:
    """Apply the SPEC's column rules (see README, "How detection works")."""
    p_names = preds.names
    t_names = targets.names if targets is not None else []
    chosen_pred = _names(spec.pred_cols, p_names)
    chosen_target = _names(spec.target_cols, t_names if targets is not None else p_names)
    pred_id, target_id = _ids(preds, targets, spec)
    excluded = {n for n in (*p_names, *t_names) if n.lower() == "id"}
    excluded |= {name for name in (pred_id, target_id) if name is not None}
    defaults = chosen_pred is None or chosen_target is None
    notes = [note for table in (preds, targets) if table is not None for note in table.notes]
    notes += [
        f"column {name!r} of {table.label} is a saved index, not data: set aside"
        for table in (preds, targets)
        if table is not None and defaults
        for name in table.index_columns
        if name not in excluded
    ]
    excluded |= {n for table in (preds, targets) if table is not None for n in table.index_columns}
    both = list(dict.fromkeys([*p_names, *t_names]))
    weight_in_targets = spec.weight_col is not None and spec.weight_col in t_names
    by_in_targets = spec.by is not None and spec.by in t_names
    for option, name, in_targets in (
        ("--weight-col", spec.weight_col, weight_in_targets),
        ("--by", spec.by, by_in_targets),
    ):
        if name is not None:
            if not in_targets:
                _require([name], both, preds, option)
            excluded.add(name)
    target = _targets(preds, targets, chosen_target, excluded, spec.by if by_in_targets else None)
    if chosen_pred is not None:
        _require(chosen_pred, p_names, preds, "--pred-col")
        pred = chosen_pred
    else:
        taken = excluded | (set(target) if targets is None else set())
        pred = [n for n in p_names if n not in taken]
    _check_parts(preds, targets, pred, target, spec, weight_in_targets, by_in_targets)
    guess = None
    if targets is not None and chosen_target is None and len(target) > 1:
        guess = None if set(target) == set(pred) else looks_like_target(target, pred)[0]
    guessed = chosen_pred is None and chosen_target is None
    target = _pair(pred, target, targets or preds, notes, guessed=guessed)
    return ColumnPlan(
        tuple(pred),
        tuple(target),
        pred_id,
        target_id,
        spec.weight_col,
        weight_in_targets,
        targets is not None and pred_id is not None,
        _alignment(preds, targets, pred_id, spec),
        spec.by,
        by_in_targets,
        tuple(notes),
        guess,
    )


def _ids(
    preds: InputTable, targets: InputTable | None, spec: ColumnSpec
) -> tuple[str | None, str | None]:
    """The id column of each file: ``--id``, else a column named id (any case) in both."""
    if spec.id_col is not None:
        _require([spec.id_col], preds.names, preds, "--id")
        if targets is None:
            return spec.id_col, None
        _require([spec.id_col], targets.names, targets, "--id")
        return spec.id_col, spec.id_col
    if spec.no_id:
        return None, None
    pred_id = _id_like(preds.names)
    if targets is None:
        return pred_id, None
    target_id = _id_like(targets.names)
    return (pred_id, target_id) if pred_id is not None and target_id is not None else (None, None)


def _targets(
    preds: InputTable,
    targets: InputTable | None,
    chosen: list[str] | None,
    excluded: set[str],
    by_in_targets: str | None,
) -> list[str]:
    if targets is None:
        if chosen is None:
            raise NoTargets(
                "no TARGETS file and no --target-col",
                hint="Give a TARGETS file, or name the target column(s) in PREDICTIONS "
                "with --target-col",
            )
        _require(chosen, preds.names, preds, "--target-col")
        return chosen
    if chosen is not None:
        _require(chosen, targets.names, targets, "--target-col")
        return chosen
    target = [n for n in targets.names if n not in excluded]
    if not target and by_in_targets is not None:
        target = [by_in_targets]  # grouping by the label itself: it stays the target
    return target


def _check_parts(
    preds: InputTable,
    targets: InputTable | None,
    pred: list[str],
    target: list[str],
    spec: ColumnSpec,
    weight_in_targets: bool,
    by_in_targets: bool,
) -> None:
    """Every part has a column, and no column plays two parts."""
    for names, table, what, option in (
        (pred, preds, "prediction", "--pred-col"),
        (target, targets or preds, "target", "--target-col"),
    ):
        if not names:
            raise NoColumnsLeft(
                f"has no {what} columns left once ids and weights are set aside",
                file=table.label,
                hint=f"Name the {what} columns with {option}",
            )
    overlap = set(pred) & set(target) if targets is None else set()
    if overlap:
        raise OverlappingColumns(
            f"column {sorted(overlap)[0]!r} is both a prediction and a target column",
            file=preds.label,
            hint="Give different columns to --pred-col and --target-col",
        )
    # A column of a file is read once, as numbers or as it is: the weights (numbers) and
    # the groups (as they are) cannot share a column with another part of that file.
    groups = [spec.by] if spec.by is not None else []
    by_in_preds = bool(groups) and not by_in_targets
    in_targets_file = [*target, *(groups if by_in_targets else [])]
    in_preds_file = [*pred, *(target if targets is None else []), *(groups if by_in_preds else [])]
    clashes: list[tuple[str, str | None, list[str]]] = [
        ("--weight-col", spec.weight_col, in_targets_file if weight_in_targets else in_preds_file),
        ("--by", spec.by, pred if by_in_preds else []),
    ]
    for option, name, others in clashes:
        if name is not None and name in others:
            raise OverlappingColumns(
                f"{option} names {name!r}, which already plays another part",
                hint=f"Give {option} a column of its own",
            )


#: Names a target column usually has (compared in lower case).
TARGET_NAMES = frozenset(
    [
        *("target", "label", "labels", "y", "y_true", "truth", "true", "ground_truth"),
        *("gt", "class", "actual", "outcome", "gold"),
    ]
)
#: Words in the name of a column that is not the target: a split, a date, a group.
NOT_TARGET_WORDS = frozenset(
    [
        *("split", "fold", "set", "subset", "partition", "date", "time", "timestamp"),
        *("datetime", "day", "month", "year", "created", "updated", "at", "ts", "group"),
        *("segment", "source", "dataset", "weight", "weights", "sample", "comment", "note"),
    ]
)


def _words(name: str) -> set[str]:
    import re

    return set(re.split(r"[^0-9a-z]+", name.lower())) - {""}


def looks_like_target(names: Sequence[str], pred: Sequence[str]) -> tuple[str, bool]:
    """The column of ``names`` that looks most like the target, and whether its name says so
    (a usual target name, or a prediction column's name); else the first column whose name
    does not say that it is something else (a split, a date, ...)."""
    for name in names:
        if name.lower() in TARGET_NAMES or name in pred or _words(name) & {"label", "target"}:
            return name, True
    plain = [name for name in names if not _words(name) & NOT_TARGET_WORDS]
    return (plain or list(names))[0], False


def unclear_target(plan: ColumnPlan, label: str) -> TooManyTargetColumns | None:
    """Several target columns taken by default whose number no task can take with the
    prediction columns (their numbers differ): the file holds other columns beside
    the target. The error that says which column looks like it, if so."""
    target, pred = plan.target, plan.pred
    if plan.target_guess is None or len(target) == len(pred):
        return None
    name, by_name = looks_like_target(target, pred)
    shown = ", ".join(target)
    why = f"{name!r} looks like the target" if by_name else f"{name!r} may be the target"
    return TooManyTargetColumns(
        f"has {len(target)} columns besides the id and weights ({shown}) for "
        f"{len(pred)} prediction column{'s' if len(pred) > 1 else ''}; {why}",
        file=label,
        hint=f"Pick the target with --target-col {name}",
    )


def _pair(
    pred: list[str], target: list[str], table: InputTable, notes: list[str], *, guessed: bool
) -> list[str]:
    """Several target columns, in the order of the prediction columns they go with."""
    if not len(target) == len(pred) > 1:
        return target
    if set(target) == set(pred):
        notes.append("target and prediction columns paired by name")
        return list(pred)
    if set(target) & set(pred) and guessed:
        raise AmbiguousPairing(
            f"the target columns ({', '.join(target)}) share some names with the prediction "
            f"columns ({', '.join(pred)}) but not all, so pairing them is a guess",
            file=table.label,
            hint="Give both in matching order with --pred-col and --target-col",
        )
    pairs = ", ".join(f"{t}->{p}" for t, p in zip(target, pred, strict=True))
    notes.append(f"target and prediction columns paired by position: {pairs}")
    return target


def _alignment(
    preds: InputTable, targets: InputTable | None, pred_id: str | None, spec: ColumnSpec
) -> str:
    if targets is None:
        return f"single file: the targets are columns of {preds.label}"
    if pred_id is not None:
        how = "set by --id" if spec.id_col is not None else "found in both files"
        return f"rows matched by the id column {pred_id!r} ({how})"
    why = "--no-id" if spec.no_id else "no id column in both files"
    return f"rows matched by position ({why})"


@contextlib.contextmanager
def target_named(plan: ColumnPlan, targets: InputTable | None) -> Iterator[None]:
    """An error in one of several target columns taken by default (none was named) says
    which column looks like the target: the others may be a split, a date."""
    try:
        yield
    except (UnsupportedColumnType, NonNumeric, NotBinary, WrongColumnCount) as error:
        guess = plan.target_guess
        label = None if targets is None else targets.label
        in_targets = error.column in plan.target and error.file == label
        if (
            guess is None
            or label is None
            or not (in_targets or isinstance(error, WrongColumnCount))
        ):
            raise
        unclear = unclear_target(plan, label)
        if unclear is not None:
            raise unclear from None
        if isinstance(error, WrongColumnCount):
            raise
        others = ", ".join(name for name in plan.target if name != guess)
        error.hint = (
            f"If {guess!r} is the target and the other columns ({others}) are not, "
            f"pick it with --target-col {guess}"
        )
        raise
