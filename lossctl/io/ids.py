"""The id join, in one place: ids that match in step, the index of a target side's ids
(integers, text by hash), and what is wrong when the ids do not match.

Integer ids, and text ids that all spell integers the usual way, are compared
as numbers (``7`` and ``"7"`` are one id; ``"007"`` is another). Other text ids
are looked up by a 64-bit hash of their bytes, each match checked against the
text.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from lossctl.core.losses import IntArray
from lossctl.core.sides import Side
from lossctl.errors import DuplicateIds, EmptyId, MissingIds, UnsupportedColumnType
from lossctl.io.columns import from_numpy, is_text_type, to_numpy


class OutOfStep(Exception):
    """The ids of the two files stopped matching row for row: join them by hash instead."""


def _increasing_key(ids: pa.Array) -> np.ndarray | None:
    """The ids as numbers if they read as strictly increasing integers ("1", "2", ... in
    CSV: distinct numbers are distinct texts, so such ids are unique); else as themselves
    if they are strictly increasing text; else None."""
    if pa.types.is_nested(ids.type) or pa.types.is_dictionary(ids.type) or not len(ids):
        return None
    numbers = ids if pa.types.is_integer(ids.type) else None
    if numbers is None and _looks_like_an_integer(ids):
        with contextlib.suppress(pa.ArrowInvalid, pa.ArrowNotImplementedError):
            numbers = ids.cast(pa.int64())
    if numbers is not None:
        values = to_numpy(numbers).astype(np.int64)
        return values if np.all(values[1:] > values[:-1]) else None
    import pyarrow.compute as pc

    key = ids.cast(pa.string()) if is_text_type(ids.type) else ids
    if pc.all(pc.less(key.slice(0, len(key) - 1), key.slice(1))).as_py() is not False:
        return np.array([key[0].as_py(), key[-1].as_py()], dtype=object)  # (all it needs)
    return None


def _looks_like_an_integer(ids: pa.Array | pa.ChunkedArray) -> bool:
    """Whether the first id reads as an integer: worth a cast, which, when it fails,
    reads every value first (300 ms a million)."""
    return bool(len(ids)) and str(ids[0].as_py()).lstrip("-").isdigit()


class IdsInStep:
    """What the join in step knows of the ids: both files have the same ids, row for
    row, and none repeats. While the ids increase, the last one proves the second; ids
    that do not increase from the first chunk on (``img-9``, ``img-10``) are hashed, 8
    bytes a row, and sorted at the end. Anything else raises :class:`OutOfStep`."""

    def __init__(self) -> None:
        self.last: tuple[str, Any] | None = None
        self.hashes: list[np.ndarray] | None = None

    def check(self, pred: pa.Array, target: pa.Array) -> None:
        if pred.null_count or target.null_count or not pred.equals(target):
            raise OutOfStep
        if self.hashes is not None:
            self.hashes.append(_id_values(pred))
            return
        keys = _increasing_key(pred)
        if keys is None or (
            self.last is not None
            and (self.last[0] != keys.dtype.kind or not keys[0] > self.last[1])
        ):  # (numbers, then text: a CSV id column that changed type)
            if self.last is not None or not (
                pa.types.is_integer(pred.type) or is_text_type(pred.type)
            ):
                raise OutOfStep  # (the hash join names an id type it cannot use)
            self.hashes = [_id_values(pred)]
            return
        self.last = keys.dtype.kind, keys[-1]

    def unique(self) -> bool:
        if self.hashes is None:
            return True
        values = np.sort(np.concatenate(self.hashes))
        return not bool(np.any(values[1:] == values[:-1]))


def _id_values(ids: pa.Array) -> np.ndarray:
    """Ids as int64: integers as themselves, other text by a hash of its bytes."""
    keys = as_key(ids)
    values = _as_integers(keys)
    return values if values is not None else _text_hashes(keys.cast(pa.string()))


class IdIndex:
    """Where each id of the target side is.

    Integers, and text that spells integers the usual way, are looked up as numbers.
    Other text is looked up by a 64-bit hash of its bytes, and each match is then
    checked against the text itself; should two of the target's ids share a hash,
    pyarrow's ``index_in`` looks the text up instead.
    """

    def __init__(self, ids: pa.Array, pred_type: pa.DataType, column: str, label: str) -> None:
        keys = as_key(ids, column, label)
        values = _as_integers(keys)
        self._text: pa.Array | None = None
        self._value_set: pa.Array | None = None
        if values is None or not (pa.types.is_integer(pred_type) or is_text_type(pred_type)):
            self._text = keys.cast(pa.string())
            values = _text_hashes(self._text)
        self._numbers = _Numbers(values)
        self.unique = self._numbers.unique
        if not self.unique and self._text is not None and _distinct(self._text):
            self._value_set = self._text  # two ids share a hash: rare enough to look up slowly
            self.unique = True

    def find(self, ids: pa.Array) -> IntArray:
        """The target row of each id; -1 where there is none."""
        if ids.null_count:
            return np.full(len(ids), -1, dtype=np.intp)
        keys = as_key(ids)
        if self._text is None:
            values = _as_integers(keys)
            if values is None:  # text that is not an integer: none of the target's ids
                return np.full(len(ids), -1, dtype=np.intp)
            return self._numbers.find(values)
        text = keys.cast(pa.string())
        if self._value_set is not None:
            import pyarrow.compute as pc

            index = pc.index_in(text, value_set=self._value_set).fill_null(-1)
            found: IntArray = to_numpy(index).astype(np.intp)
            return found
        found = self._numbers.find(_text_hashes(text))
        hit = np.flatnonzero(found >= 0)
        same = _equal(self._text.take(from_numpy(found[hit])), text.take(from_numpy(hit)))
        found[hit[~same]] = -1  # the same hash, not the same text
        return found


class _Numbers:
    """Where each of some int64 values is: in a table when they lie close together (ids
    0..n-1 in any order), else by binary search."""

    def __init__(self, values: np.ndarray) -> None:
        self._low = int(values.min()) if values.size else 0
        self._high = int(values.max()) if values.size else -1
        span = self._high - self._low + 1
        self._table: np.ndarray | None = None
        if span <= 4 * values.size:
            self._table = np.full(span, -1, dtype=np.intp)
            self._table[values - self._low] = np.arange(values.size)
            self.unique = int(np.count_nonzero(self._table >= 0)) == values.size
        else:
            self._order = np.argsort(values)
            self._sorted = values[self._order]
            self.unique = bool(np.all(self._sorted[1:] > self._sorted[:-1]))

    def find(self, values: np.ndarray) -> IntArray:
        """The position of each value; -1 where there is none."""
        if self._table is not None:
            inside = (values >= self._low) & (values <= self._high)
            at = np.where(inside, values - self._low, 0)  # (no overflow where it is kept)
            return np.where(inside, self._table[at], -1).astype(np.intp)
        at = np.minimum(np.searchsorted(self._sorted, values), self._sorted.size - 1)
        hit = self._sorted[at] == values
        return np.where(hit, self._order[at], -1).astype(np.intp)


#: Text is hashed this many strings at a time, so that the per-byte arrays stay small.
_HASH_STRINGS = 1 << 16
#: An odd 64-bit multiplier (the golden ratio's), and its powers modulo 2**64.
_HASH_BASE = np.uint64(0x9E3779B97F4A7C15)


def _text_hashes(text: pa.Array) -> np.ndarray:
    """A 64-bit polynomial hash of each string's UTF-8 bytes (modulo 2**64), as int64."""
    return np.concatenate(
        [np.empty(0, dtype=np.int64)]
        + [
            _hash_slice(text.slice(start, _HASH_STRINGS))
            for start in range(0, len(text), _HASH_STRINGS)
        ]
    )


def _hash_slice(text: pa.Array) -> np.ndarray:
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)[
        text.offset : text.offset + len(text) + 1
    ]
    data = text.buffers()[2]
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.empty(0, np.uint8)
    first, last = int(offsets[0]), int(offsets[-1])
    lengths = np.diff(offsets)
    ends = np.repeat(offsets[1:] - first, lengths)  # each byte's string's end
    from_end = ends - 1 - np.arange(last - first)  # 0 for a string's last byte
    powers = _powers(int(lengths.max()) if lengths.size else 0)
    with np.errstate(over="ignore"):
        terms = raw[first:last].astype(np.uint64) * powers[from_end]
        sums = np.concatenate(([np.uint64(0)], np.cumsum(terms, dtype=np.uint64)))
        hashes = (sums[offsets[1:] - first] - sums[offsets[:-1] - first]) * _HASH_BASE
        hashes += lengths.astype(np.uint64)  # (so that a zero byte in front is seen)
    return hashes.view(np.int64)


def _powers(n: int) -> np.ndarray:
    """_HASH_BASE ** 0, 1, ..., n - 1, modulo 2**64."""
    powers = np.ones(max(n, 1), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i in range(1, n):
            powers[i] = powers[i - 1] * _HASH_BASE
    return powers


def _equal(a: pa.Array, b: pa.Array) -> np.ndarray:
    """Row by row, whether two text arrays hold the same text."""
    import pyarrow.compute as pc

    return to_numpy(pc.equal(a, b)).astype(bool)


def _distinct(text: pa.Array) -> bool:
    import pyarrow.compute as pc

    return int(pc.count_distinct(text).as_py()) == len(text)


def _as_integers(keys: pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """Integer ids as int64; text ids too, if every one spells an integer the usual way
    ("12", not "012", "+12" or " 12": those stay text, so "12" never meets "012"); else
    None."""
    if pa.types.is_integer(keys.type):
        return to_numpy(keys).astype(np.int64)
    if not is_text_type(keys.type):
        return None
    import pyarrow.compute as pc

    if not _looks_like_an_integer(keys):
        return None
    try:
        values = to_numpy(keys.cast(pa.int64()))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    # Spelled the usual way, an integer has its digits and a minus sign if negative, and
    # no more: a "+", a space or a leading zero makes the text longer than that.
    digits = 1 + np.searchsorted(_POWERS_OF_TEN, np.abs(values), side="right")
    if not np.array_equal(to_numpy(pc.binary_length(keys)), digits + (values < 0)):
        return None
    return values


#: 10, 100, ..., 10**18: an integer's digits are one more than the powers it reaches
#: (|int64 min| is negative in NumPy: its 1 digit never fits its 20 characters).
_POWERS_OF_TEN = 10 ** np.arange(1, 19, dtype=np.int64)


def _unique(ids: pa.ChunkedArray, pc: Any) -> bool:
    """Whether no id repeats: at once for increasing integers, else by hashing.

    Text ids that read as increasing integers ("1", "2", ..., the usual CSV) are
    distinct too: distinct numbers are distinct texts. Hashing a million texts
    takes a quarter of a second; this takes a few milliseconds.
    """
    numbers = ids
    if not pa.types.is_integer(ids.type):
        try:
            numbers = ids.cast(pa.int64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            numbers = None
    if numbers is not None:
        values = to_numpy(numbers)
        if values.size < 2 or bool(np.all(values[1:] > values[:-1])):
            return True
    return bool(pc.count_distinct(ids).as_py() == len(ids))


def as_key(ids: Any, column: str = "", label: str = "") -> Any:
    """An id column in a type that pyarrow can hash and compare: plain text, or as it is."""
    kind = ids.type
    if pa.types.is_dictionary(kind):
        ids, kind = ids.cast(kind.value_type), kind.value_type
    if pa.types.is_nested(kind):
        raise UnsupportedColumnType(
            f"holds {kind} values, which cannot be ids",
            file=label,
            column=column,
            hint="Use a column of text or integers as the id, or align by row order with --no-id",
        )
    return ids.cast(pa.string()) if is_text_type(kind) else ids


def align_ids(
    pred_ids: pa.ChunkedArray,
    target_ids: pa.ChunkedArray,
    *,
    column: str,
    pred: Side,
    target: Side,
) -> IntArray | None:
    """For each prediction row, the target row with the same id; None when already in order.

    Every id must appear exactly once on each side; the errors name the file (the part,
    of an input of several) and the row of the ids they quote.
    """
    for ids, side in ((pred_ids, pred), (target_ids, target)):
        if ids.null_count:
            first = int(np.argmax(to_numpy(ids.is_null())))
            raise empty_id(side, first, ids.null_count, column)
    pred_ids = as_key(pred_ids, column, pred.file)
    target_ids = as_key(target_ids, column, target.file)
    if pred_ids.type != target_ids.type:
        pred_ids, target_ids = pred_ids.cast(pa.string()), target_ids.cast(pa.string())
    import pyarrow.compute as pc

    for ids, side in ((pred_ids, pred), (target_ids, target)):
        if not _unique(ids, pc):
            counts = pc.value_counts(ids)
            repeated = counts.filter(pc.greater(counts.field("counts"), 1))
            example = repeated[0]["values"].as_py()
            rows = np.flatnonzero(to_numpy(pc.equal(ids, pa.scalar(example, ids.type))))[:5]
            raise repeated_ids(len(repeated), example, [int(r) for r in rows], side, column)
    if pred_ids.equals(target_ids):
        return None
    index = pc.index_in(pred_ids, value_set=target_ids)
    n_missing_targets = index.null_count
    n_missing_preds = len(target_ids) - (len(pred_ids) - n_missing_targets)
    if n_missing_targets or n_missing_preds:
        lost = [Unmatched(), Unmatched()]
        if n_missing_targets:
            row = int(np.argmax(to_numpy(index.is_null())))
            lost[0] = Unmatched(n_missing_targets, row, pred_ids[row].as_py())
        if n_missing_preds:
            back = pc.is_in(target_ids, value_set=pred_ids)
            row = int(np.argmin(to_numpy(back)))
            lost[1] = Unmatched(n_missing_preds, row, target_ids[row].as_py())
        raise missing_ids(*lost, pred=pred, target=target, column=column)
    result: IntArray = np.asarray(to_numpy(index), dtype=np.intp)
    return result


# ---------------------------------------------------------------------- the messages
# (of align_ids, and of the join of inputs split into parts on a cluster, which finds the
# same facts bucket by bucket: lossctl.io.buckets)


def empty_id(side: Side, first: int, count: int, column: str) -> EmptyId:
    """The error of ``count`` empty ids, the first on the input's row ``first``."""
    return EmptyId(
        "this id is empty",
        file=side.file_at(first),
        column=column,
        row=side.row(first),
        count=count,
        hint="Every row needs an id; or align by row order with --no-id",
    )


def repeated_ids(
    n: int, example: Any, rows: Sequence[int], side: Side, column: str
) -> DuplicateIds:
    """The error of ``n`` ids that repeat; ``example`` (the first to appear) is on the
    input's ``rows`` (its first five)."""
    files = {side.file_at(r) for r in rows}
    return DuplicateIds(
        f"{n} ids appear more than once; the first, {example!r}, "
        f"is on rows {', '.join(side.where(r, named=len(files) > 1) for r in rows)}",
        file=files.pop() if len(files) == 1 else side.file,
        column=column,
        hint="Every id must appear exactly once in each file",
    )


@dataclass(frozen=True)
class Unmatched:
    """Ids of one input that the other does not have: how many, and the first of them
    (its row over the whole input, and its value)."""

    n: int = 0
    row: int | None = None
    value: Any = None


def missing_ids(
    preds: Unmatched, targets: Unmatched, *, pred: Side, target: Side, column: str
) -> MissingIds:
    """The error of the ids of the predictions (``preds``) and of the targets (``targets``)
    that the other input does not have."""
    parts = []
    for lost, side, other in ((preds, pred, target), (targets, target, pred)):
        if lost.n:
            assert lost.row is not None
            parts.append(
                f"{lost.n} ids of {side.file} are not in {other.file} "
                f"(first: {lost.value!r}, row {side.where(lost.row)})"
            )
    return MissingIds(
        "; ".join(parts),
        column=column,
        hint="Every id must appear exactly once in each file; or align by row order with --no-id",
    )
