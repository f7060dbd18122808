"""In-memory inputs: pandas DataFrames and Series, pyarrow Tables and RecordBatches, objects
that export Arrow data (``__arrow_c_stream__``: polars DataFrames and Series, DuckDB
relations, ...), NumPy arrays, dicts."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa

from lossctl.errors import UnsupportedData
from lossctl.io.table import Batch, InputTable, check_unique


class ArrowTable(InputTable):
    """An in-memory table: a DataFrame, a pyarrow Table, an Arrow stream or a NumPy array."""

    def __init__(self, label: str, table: pa.Table) -> None:
        self.table = table
        super().__init__(label, [str(name) for name in table.column_names], table.schema)

    def _batches(
        self, numeric: list[str], other: list[str], text: list[str], rows: int
    ) -> Iterator[Batch]:
        start = 0
        for record in self.table.select([*numeric, *other]).to_batches(rows or None):
            yield Batch(self._record_columns(record, numeric, other, start), 0, start)
            start += record.num_rows


def to_arrow(data: object, label: str) -> pa.Table:
    """A DataFrame, Series, pyarrow Table or array-like as a pyarrow Table."""
    try:
        return _as_table(data, label)
    except (pa.ArrowException, ValueError, TypeError) as error:
        raise UnsupportedData(
            f"cannot be read as a table of numbers ({type(error).__name__}: {error})",
            file=label,
            hint="Give a DataFrame, a pyarrow Table, or an array of numbers, booleans or text",
        ) from None


def _as_table(data: object, label: str) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if type(data).__module__.startswith("pandas"):
        import pandas as pd

        frame = data.to_frame() if isinstance(data, pd.Series) else data
        if isinstance(frame, pd.DataFrame):
            frame = frame.rename(columns=str)
            check_unique(list(frame.columns), label)
            # A named or non-default index is kept, as pandas' to_parquet does: an index
            # named id matches rows, and any other is set aside as an index column.
            try:
                return pa.Table.from_pandas(frame, preserve_index=None)
            except pa.ArrowException as error:
                raise UnsupportedData(
                    f"cannot be read as columns of one type each ({error})",
                    file=label,
                    hint="Give each column values of one kind (numbers, or text)",
                ) from None
    if isinstance(data, dict):
        try:
            return pa.table({str(k): v for k, v in data.items()})
        except (pa.ArrowException, TypeError, ValueError) as error:
            raise UnsupportedData(f"cannot be read as columns ({error})", file=label) from None
    if hasattr(data, "__arrow_c_stream__") or hasattr(data, "__arrow_c_array__"):
        return _exported(data, label)
    import numpy as np

    array = np.asarray(data)
    if array.dtype == object:
        raise UnsupportedData(
            "is an array of Python objects, not of numbers or text",
            file=label,
            hint="Give a NumPy array of numbers, a DataFrame or a dict of columns",
        )
    if array.ndim == 1:
        return pa.table({label: array})
    if array.ndim == 2:
        return pa.table({str(i): array[:, i] for i in range(array.shape[1])})
    raise UnsupportedData(
        f"is an array of {array.ndim} dimensions",
        file=label,
        hint="Give a 1-D array (one column) or a 2-D array (one column per class or label)",
    )


def _exported(data: object, label: str) -> pa.Table:
    """An object that exports Arrow data through the PyCapsule interface: a stream (or an
    array) of record batches is a table; of anything else, one column, named as the
    object is (a polars Series' ``name``) or by ``label``."""
    try:
        table = pa.table(data)
    except pa.ArrowInvalid as error:
        if "non-struct" not in str(error):
            raise
        name = getattr(data, "name", None)
        column = pa.chunked_array(data)
        return pa.table({str(name) if name else label: column})
    check_unique(table.column_names, label)
    return table
