"""Arrow columns to the NumPy arrays the core works on, and the id join."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from lossctl.core.activations import FloatArray
from lossctl.core.losses import IntArray
from lossctl.core.tasks import Side, TargetColumn
from lossctl.errors import DuplicateIds, EmptyId, MissingIds, UnsupportedColumnType


def is_number_type(kind: pa.DataType) -> bool:
    """Whether a column of this type holds numbers (or booleans, or nothing but nulls)."""
    return bool(
        pa.types.is_floating(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_null(kind)
    )


def is_text_type(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
    )


def one_type(arrays: list[pa.Array]) -> list[pa.Array]:
    """Batches of one column, as text when their types differ (a CSV column of numbers
    that turned out to hold a class name further down)."""
    if len({a.type for a in arrays}) > 1:
        return [a.cast(pa.string()) for a in arrays]
    return arrays


def _bits(buffer: pa.Buffer, offset: int, n: int) -> np.ndarray:
    """An Arrow bitmap (validity or booleans) as a NumPy bool array."""
    bits = np.unpackbits(np.frombuffer(buffer, dtype=np.uint8), bitorder="little")
    return bits[offset : offset + n].astype(bool)


def _chunk_to_numpy(chunk: pa.Array) -> np.ndarray:
    n, offset = len(chunk), chunk.offset
    if pa.types.is_null(chunk.type):
        return np.full(n, np.nan)
    validity, data = chunk.buffers()[:2]
    if pa.types.is_boolean(chunk.type):
        values = _bits(data, offset, n)
    else:
        dtype = np.dtype(chunk.type.to_pandas_dtype())
        values = np.frombuffer(data, dtype=dtype)[offset : offset + n]
    if chunk.null_count:
        values = np.where(_bits(validity, offset, n), values, np.nan)
    return values


def to_numpy(data: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A column of numbers or booleans as one NumPy array; nulls become NaN.

    Read straight from the Arrow buffers: pyarrow's own ``to_numpy`` imports
    pandas, which alone costs more than evaluating a small file.
    """
    chunks = data.chunks if isinstance(data, pa.ChunkedArray) else [data]
    parts = [_chunk_to_numpy(chunk) for chunk in chunks]
    if not parts:
        return np.empty(0)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def from_numpy(values: np.ndarray) -> pa.Array:
    """A float64 or int64 NumPy array as an Arrow array, without going through pandas."""
    values = np.ascontiguousarray(values)
    kind = pa.float64() if values.dtype.kind == "f" else pa.int64()
    values = values.astype(kind.to_pandas_dtype(), copy=False)
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


def to_float(data: pa.ChunkedArray | pa.Array) -> FloatArray:
    """A column of numbers or booleans as float64 NumPy; nulls become NaN."""
    result: FloatArray = np.asarray(to_numpy(data), dtype=np.float64)
    return result


def to_target(
    name: str, data: pa.ChunkedArray | pa.Array, label: str
) -> tuple[TargetColumn, np.ndarray]:
    """A target column and its missing-value mask.

    Numbers and booleans become float64; text becomes codes into its distinct
    values (class names), each of which is also read as a number where it is one.
    """
    kind = data.type
    if pa.types.is_dictionary(kind):
        data, kind = data.cast(kind.value_type), kind.value_type
    if is_text_type(kind):
        text = data.cast(pa.string())
        if isinstance(text, pa.ChunkedArray):
            text = text.combine_chunks()
        encoded = text.dictionary_encode()
        categories = tuple(str(c) for c in encoded.dictionary.to_pylist())
        missing = to_numpy(encoded.indices.is_null())
        codes = to_numpy(encoded.indices)
        codes = np.where(missing, 0, np.nan_to_num(codes)).astype(np.intp)
        numbers = np.array([_number(c) for c in categories] or [np.nan], dtype=np.float64)
        values = np.where(missing, np.nan, numbers[codes])
        empty = np.array([c.strip() == "" for c in categories] or [False])
        return TargetColumn(name, values, codes, categories), missing | empty[codes]
    if is_number_type(kind):
        plain = pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)
        # (integers beyond 2**53 round, either way)
        values = to_float(data if plain else data.cast(pa.float64(), safe=False))
        return TargetColumn(name, values), ~np.isfinite(values)
    raise UnsupportedColumnType(
        f"holds {kind} values",
        file=label,
        column=name,
        hint="Targets must be numbers, true/false, or class names",
    )


class GroupCodes:
    """The values of a grouping column (``--by``), chunk by chunk, as codes.

    Codes are given in order of first appearance; :meth:`names` sorts the
    values (numbers as numbers, else as text) and puts empty cells last, as a
    group named ``(missing)``.
    """

    def __init__(self, column: str) -> None:
        self.column = column
        self.codes: dict[Any, int] = {}
        self.missing: int | None = None

    def __call__(self, data: pa.Array, label: str) -> IntArray:
        if pa.types.is_dictionary(data.type):
            data = data.cast(data.type.value_type)
        if pa.types.is_nested(data.type):
            raise UnsupportedColumnType(
                f"holds {data.type} values, which cannot be grouped",
                column=self.column,
                file=label,
                hint="Give --by a column of numbers, text or dates",
            )
        encoded = data.dictionary_encode()
        lookup = [self._code(value) for value in encoded.dictionary.to_pylist()]
        indices = to_numpy(encoded.indices)
        if encoded.indices.null_count:
            if self.missing is None:
                self.missing = self._code(_MISSING)
            indices = np.where(np.isnan(indices), len(lookup), indices)
            lookup.append(self.missing)
        result: IntArray = np.asarray(lookup, dtype=np.intp)[indices.astype(np.intp)]
        return result

    def _code(self, value: Any) -> int:
        # By the text: a CSV column read as numbers in one block and as text in the next
        # gives 0 and "0", one group.
        key = value if value is _MISSING else str(value)
        return self.codes.setdefault(key, len(self.codes))

    def names(self) -> tuple[tuple[str, ...], IntArray]:
        """The group names, sorted, and for each the code it was given."""
        values = [v for v in self.codes if v is not _MISSING]
        numbers = [_number(v) for v in values]
        if values and not any(np.isnan(numbers)):
            ordered = [v for _, v in sorted(zip(numbers, values, strict=True))]
        else:
            ordered = sorted(values)
        if self.missing is not None:
            ordered.append(_MISSING)
        names = tuple("(missing)" if v is _MISSING else str(v) for v in ordered)
        return names, np.array([self.codes[v] for v in ordered], dtype=np.intp)


#: The key of empty cells in :class:`GroupCodes`.
_MISSING = object()


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return np.nan


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
            raise EmptyId(
                "this id is empty",
                file=side.file_at(first),
                column=column,
                row=side.row(first),
                count=ids.null_count,
                hint="Every row needs an id; or align by row order with --no-id",
            )
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
            files = {side.file_at(int(r)) for r in rows}
            raise DuplicateIds(
                f"{len(repeated)} ids appear more than once; the first, {example!r}, "
                f"is on rows {', '.join(side.where(int(r), named=len(files) > 1) for r in rows)}",
                file=files.pop() if len(files) == 1 else side.file,
                column=column,
                hint="Every id must appear exactly once in each file",
            )
    if pred_ids.equals(target_ids):
        return None
    index = pc.index_in(pred_ids, value_set=target_ids)
    n_missing_targets = index.null_count
    n_missing_preds = len(target_ids) - (len(pred_ids) - n_missing_targets)
    if n_missing_targets or n_missing_preds:
        parts = []
        if n_missing_targets:
            row = int(np.argmax(to_numpy(index.is_null())))
            parts.append(
                f"{n_missing_targets} ids of {pred.file} are not in {target.file} "
                f"(first: {pred_ids[row].as_py()!r}, row {pred.where(row)})"
            )
        if n_missing_preds:
            back = pc.is_in(target_ids, value_set=pred_ids)
            row = int(np.argmin(to_numpy(back)))
            parts.append(
                f"{n_missing_preds} ids of {target.file} are not in {pred.file} "
                f"(first: {target_ids[row].as_py()!r}, row {target.where(row)})"
            )
        raise MissingIds(
            "; ".join(parts),
            column=column,
            hint="Every id must appear exactly once in each file; or align by row order "
            "with --no-id",
        )
    result: IntArray = np.asarray(to_numpy(index), dtype=np.intp)
    return result
