"""Binary targets: 0/1, true/false, or two other values of which ``--pos-label`` names
the positive class (yes/no, M/B, -1/1)."""

from __future__ import annotations

import shlex

from lossctl.core.labels import is_truth_pair, matches, quoted
from lossctl.core.profiles import TargetColumnProfile
from lossctl.core.sides import Side, bad_value
from lossctl.errors import NonNumeric, NotBinary, PosLabelNeeded, TooManyValues, UnknownPosLabel

#: How targets are encoded, as the report names it.
TargetEncoding = str


def two_values(column: TargetColumnProfile) -> bool:
    return len(column.values) == 2 and not column.more_values


def not_binary(column: TargetColumnProfile, side: Side, hint: str) -> NotBinary:
    """The first target of ``column`` that is neither 0 nor 1."""
    return bad_value(NotBinary, column.non_binary, "is not 0 or 1", side, column.name, hint=hint)


def pos_label_needed(column: TargetColumnProfile, side: Side) -> PosLabelNeeded:
    first, second = column.values
    return PosLabelNeeded(
        f"the targets hold two values other than 0 and 1, {first!r} and {second!r}, "
        "and nothing says which one is the positive class",
        file=side.file,
        column=column.name,
        hint=f"Name it with --pos-label, e.g. --pos-label {shlex.quote(second)}",
    )


def binary_targets(
    column: TargetColumnProfile, pos_label: str | None, side: Side, reasons: list[str]
) -> tuple[TargetEncoding, str | None]:
    """Check binary targets; return how they are encoded and the value that is 1, if it
    is not 1 itself (``--pos-label``, or ``True`` of the words true/false)."""
    given = pos_label is not None
    if pos_label is None:
        if column.non_binary.n == 0:
            return "0/1", None
        if two_values(column) and is_truth_pair(column.values):
            pos_label = next(v for v in column.values if matches(v, "true"))
        elif two_values(column) and column.non_numeric.n:
            raise pos_label_needed(column, side)
        elif two_values(column):
            first, second = column.values
            raise not_binary(
                column,
                side,
                f"The targets hold two values, {first} and {second}: name the positive "
                f"class with --pos-label (e.g. --pos-label {shlex.quote(second)})",
            )
        elif column.non_numeric.n:
            raise bad_value(
                NonNumeric,
                column.non_numeric,
                "is not a number",
                side,
                column.name,
                hint="binary targets must be numeric",
            )
        else:
            raise not_binary(
                column,
                side,
                "binary targets must be 0/1 or true/false; use --task regression for other values",
            )
    if len(column.values) > 2 or column.more_values:
        others = [v for v in column.values if not matches(v, pos_label)]
        raise TooManyValues(
            f"holds more than two values ({quoted(column.values, column.more_values)}), "
            f"so --pos-label {pos_label!r} leaves more than one value as 0",
            file=side.file,
            column=column.name,
            hint=f"Map {quoted(others, column.more_values)} to one value first, "
            "or evaluate the values as classes (multiclass)",
        )
    found = [v for v in column.values if matches(v, pos_label)]
    if not found:
        raise UnknownPosLabel(
            f"--pos-label {pos_label!r} is not a value of this column, which holds "
            f"{quoted(column.values)}",
            file=side.file,
            column=column.name,
            hint="Give --pos-label one of them",
        )
    positive = found[0]
    others = [v for v in column.values if v not in found]
    how = " (--pos-label)" if given else ""
    if others:
        reasons.append(
            f"targets {positive!r}/{others[0]!r}: {positive!r} is the positive class{how}"
        )
        return f"1 = {positive!r}, 0 = {others[0]!r}", pos_label
    reasons.append(f"targets all {positive!r}: the positive class{how}")
    return f"1 = {positive!r}", pos_label
