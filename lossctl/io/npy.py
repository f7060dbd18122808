"""NumPy ``.npy`` files, memory-mapped and read in slices of rows.

A 1-D array is one column, named ``0``; a 2-D array is one column per class or
label, named by position (``0``, ``1``, ...); a 1-D structured array (a record
array) is one column per field, named as its fields. Nothing else is a table.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa

from lossctl.errors import CorruptNpy, UnsupportedNpy
from lossctl.io.sources import Source
from lossctl.io.table import Batch, InputTable

#: The first bytes of every .npy file.
MAGIC = b"\x93NUMPY"
#: Rows a slice has when the caller sets no limit.
DEFAULT_ROWS = 65_536


class NpyTable(InputTable):
    """A ``.npy`` file (see the module's docstring for its columns)."""

    def __init__(self, source: Source) -> None:
        assert source.path is not None
        self.source = source
        self.path = str(source.path)
        self._rows_done = 0
        array = self._load()
        self._rows = int(array.shape[0])
        super().__init__(source.label, _names(array))

    def _load(self) -> np.ndarray[Any, Any]:
        """The array, memory-mapped; or the error that says why it is not a table."""
        label = self.source.label
        try:
            with open(self.path, "rb") as head:
                if head.read(len(MAGIC)) != MAGIC:
                    raise _corrupt(label, ValueError("it does not start with NumPy's magic bytes"))
            array: np.ndarray[Any, Any] = np.load(self.path, mmap_mode="r", allow_pickle=False)
        except ValueError as error:
            if "allow_pickle" in str(error) or "Python objects" in str(error):
                raise UnsupportedNpy(
                    "holds Python objects, not numbers or text",
                    file=label,
                    hint="Save an array of numbers, booleans or text (not of dtype object)",
                ) from None
            raise _corrupt(label, error) from None
        except (OSError, EOFError) as error:
            raise _corrupt(label, error) from None
        fields = array.dtype.names
        if array.ndim == 0 or array.ndim > 2 or (fields is not None and array.ndim != 1):
            shape = "a 0-d array (a single value)" if array.ndim == 0 else f"a {array.ndim}-D array"
            raise UnsupportedNpy(
                f"holds {shape} of shape {array.shape}",
                file=label,
                hint="Save a 1-D array (one column) or a 2-D array (one column per class or label)",
            )
        kinds = [array.dtype[name] for name in fields] if fields else [array.dtype]
        for kind in kinds:
            if kind.kind not in "biufUS" or kind.subdtype is not None:
                raise UnsupportedNpy(
                    f"holds values of dtype {kind}, not numbers or text",
                    file=label,
                    hint="Save an array of numbers, booleans or text",
                )
        return array

    def _batches(
        self, numeric: list[str], other: list[str], text: list[str], rows: int
    ) -> Iterator[Batch]:
        """Slices of ``rows`` rows (65,536 if 0) of the memory-mapped array."""
        self._rows_done = 0
        array = self._load()
        step = rows or DEFAULT_ROWS
        for start in range(0, self._rows, step):
            rows_slice = array[start : start + step]
            record = {name: _column(rows_slice, name) for name in [*numeric, *other]}
            columns = {name: self._as_float(name, record[name], start) for name in numeric}
            columns.update({name: record[name] for name in other})
            yield Batch(columns, 0, start)
            self._rows_done = min(self._rows, start + step)

    def size(self) -> tuple[int, str] | None:
        return self._rows, "rows"

    def done(self) -> int:
        return self._rows_done


def _corrupt(label: str, error: Exception) -> CorruptNpy:
    return CorruptNpy(
        f"is not a readable .npy file ({error})",
        file=label,
        hint="Check that the file is complete and written by numpy.save",
    )


def _names(array: np.ndarray[Any, Any]) -> list[str]:
    if array.dtype.names is not None:
        return list(array.dtype.names)
    return ["0"] if array.ndim == 1 else [str(i) for i in range(array.shape[1])]


def _column(rows: np.ndarray[Any, Any], name: str) -> pa.Array:
    """One column of some rows, as a contiguous, native-endian Arrow array."""
    if rows.dtype.names is not None:
        values = rows[name]
    else:
        values = rows if rows.ndim == 1 else rows[:, int(name)]
    values = np.ascontiguousarray(values)
    if not values.dtype.isnative:
        values = values.astype(values.dtype.newbyteorder("="))
    if values.dtype.kind == "S":
        return pa.array(values, pa.binary()).cast(pa.string())
    return pa.array(values)
