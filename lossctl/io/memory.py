"""In-memory inputs: pandas DataFrames and Series, pyarrow Tables, NumPy arrays, dicts."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa

from lossctl.errors import UnsupportedData
from lossctl.io.table import Batch, InputTable, check_unique


class ArrowTable(InputTable):
    """An in-memory table: a pandas DataFrame, a pyarrow Table or a NumPy array."""

    def __init__(self, label: str, table: pa.Table) -> None:
        self.table = table
        super().__init__(label, [str(name) for name in table.column_names], table.schema)

    def _batches(
        self, numeric: list[str], other: list[str], text: list[str], rows: int
    ) -> Iterator[Batch]:
        start = 0
        for record in self.table.select([*numeric, *other]).to_batches(rows or None):
            columns = {name: self._as_float(name, record.column(name), start) for name in numeric}
            columns.update({name: record.column(name) for name in other})
            yield Batch(columns, 0, start)
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
