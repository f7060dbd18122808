"""Arrow columns to the NumPy arrays the core works on."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from lossctl.core.activations import FloatArray
from lossctl.core.profiles import TargetColumn
from lossctl.errors import UnsupportedColumnType


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


#: From this many columns, :func:`float_columns` converts them in one call to pyarrow.
WIDE = 16


def float_columns(columns: Sequence[pa.ChunkedArray | pa.Array]) -> tuple[FloatArray, ...]:
    """:func:`to_float` of each column; many columns of numbers (a 1,000-class file) in one
    conversion to a column-major matrix, whose columns are contiguous views, instead of a
    conversion a column (which a chunk of a wide file spends most of its time in)."""
    numeric = all(pa.types.is_integer(c.type) or pa.types.is_floating(c.type) for c in columns)
    if len(columns) < WIDE or not numeric:
        return tuple(to_float(column) for column in columns)
    arrays = [c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for c in columns]
    names = [str(i) for i in range(len(arrays))]
    tensor = pa.RecordBatch.from_arrays(arrays, names=names).to_tensor(
        null_to_nan=True, row_major=False
    )
    matrix: FloatArray = np.asarray(tensor, dtype=np.float64)
    return tuple(matrix[:, i] for i in range(len(arrays)))


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
        boolean = pa.types.is_boolean(kind)
        return TargetColumn(name, values, boolean=boolean), ~np.isfinite(values)
    raise UnsupportedColumnType(
        f"holds {kind} values",
        file=label,
        column=name,
        hint="Targets must be numbers, true/false, or class names; "
        "pick the target column(s) with --target-col",
    )


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return np.nan
