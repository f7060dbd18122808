"""Target values as the file shows them: the positive class of ``--pos-label``, the few
distinct values detection keeps, and class names that carry the prediction columns'
common prefix or suffix (``prob_setosa``).

NumPy only; nothing here reads a file.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: How many distinct values of a target column detection keeps (the smallest ones):
#: enough to tell one, two or more values apart and to name a third one.
KEPT_VALUES = 3

_TRUE, _FALSE = "true", "false"


def as_number(text: str) -> float | None:
    """``text`` read as a number, if it is one."""
    try:
        return float(text)
    except ValueError:
        return None


def number_text(value: float) -> str:
    """A number as the messages show it: ``1``, ``-1``, ``0.5``."""
    return str(int(value)) if value.is_integer() else repr(value)


def truth(text: str) -> bool | None:
    """``True`` / ``False`` (any case) as a bool; None for any other text."""
    folded = text.strip().casefold()
    return True if folded == _TRUE else False if folded == _FALSE else None


def is_truth_pair(values: Sequence[str]) -> bool:
    """Whether ``values`` are the two words true and false (any case)."""
    return len(values) == 2 and {truth(v) for v in values} == {True, False}


def matches(value: str, label: str) -> bool:
    """Whether the target value ``value`` is ``label``: as written, as numbers when both
    read as numbers (``1`` is ``1.0``), or as true/false in any case."""
    if value == label:
        return True
    a, b = as_number(value), as_number(label)
    if a is not None and b is not None:
        return a == b
    t = truth(value)
    if t is None:
        return False
    return t == truth(label) if b is None else float(t) == b


def label_number(label: str, boolean: bool) -> float | None:
    """The number a ``--pos-label`` stands for in a column of numbers (or of booleans,
    read as 0/1), if any."""
    number = as_number(label)
    if number is None and boolean and truth(label) is not None:
        return 1.0 if truth(label) else 0.0
    return number


def _order(text: str) -> tuple[int, float, str]:
    number = as_number(text)
    return (0, number, text) if number is not None else (1, 0.0, text)


def smallest(values: Sequence[str], more: bool = False) -> tuple[tuple[str, ...], bool]:
    """The :data:`KEPT_VALUES` smallest of ``values`` (numbers first, in order, then text),
    and whether there are others: a summary that merges (the smallest of a union are
    the smallest of the two lists of smallest)."""
    ordered = sorted(set(values), key=_order)
    return tuple(ordered[:KEPT_VALUES]), more or len(ordered) > KEPT_VALUES


def smallest_numbers(values: np.ndarray) -> tuple[tuple[str, ...], bool]:
    """The distinct values of a float array as :func:`smallest` gives them, in at most
    ``KEPT_VALUES + 1`` passes over it (each over the values left)."""
    found: list[float] = []
    rest = values
    while rest.size and len(found) <= KEPT_VALUES:
        low = float(np.min(rest))
        found.append(low)
        rest = rest[rest > low]
    return smallest([number_text(v) for v in found[:KEPT_VALUES]], len(found) > KEPT_VALUES)


def quoted(values: Sequence[str], more: bool = False) -> str:
    """``'no', 'yes'`` (and ``...`` when there are more)."""
    return ", ".join([*(repr(v) for v in values), *(["..."] if more else [])])


@dataclass(frozen=True)
class Affix:
    """A prefix or a suffix that every prediction column name has, and the names without it.

    kind : ``"prefix"`` or ``"suffix"``; text : the affix (``"prob_"``); names : the
    class names, in the order of the prediction columns
    """

    kind: str
    text: str
    names: tuple[str, ...]


def _separator(char: str) -> bool:
    return not char.isalnum()


@functools.lru_cache(maxsize=64)
def affixes(pred_names: tuple[str, ...]) -> tuple[Affix, ...]:
    """The prefixes and suffixes common to every prediction column that end (a prefix) or
    begin (a suffix) with a separator such as ``_``, ``-``, ``.`` or a space, longest
    first, each leaving distinct, non-empty names: ``prob_setosa, prob_versicolor`` ->
    prefix ``prob_``; ``setosa_prob, ...`` -> suffix ``_prob``."""
    if len(pred_names) < 2:
        return ()
    found: list[Affix] = []
    common = _common_prefix(pred_names)
    for end in range(len(common), 0, -1):
        if _separator(common[end - 1]):
            found.append(Affix("prefix", common[:end], tuple(n[end:] for n in pred_names)))
    reversed_common = _common_prefix(tuple(n[::-1] for n in pred_names))
    for size in range(len(reversed_common), 0, -1):
        text = reversed_common[:size][::-1]
        if _separator(text[0]):
            found.append(Affix("suffix", text, tuple(n[:-size] for n in pred_names)))
    return tuple(a for a in found if all(a.names) and len(set(a.names)) == len(a.names))


def _common_prefix(names: Sequence[str]) -> str:
    first, last = min(names), max(names)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size]
