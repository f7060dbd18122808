"""Open any input as an :class:`~lossctl.io.table.InputTable`.

:func:`open_table` picks the reader of each kind of input: :mod:`lossctl.io.csv`
(CSV and TSV, compressed or on standard input), :mod:`lossctl.io.parquet`,
:mod:`lossctl.io.parts` (a glob or a directory of parts) and
:mod:`lossctl.io.memory` (DataFrames, pyarrow Tables, NumPy arrays).
"""

from __future__ import annotations

from lossctl.io.csv import CsvTable
from lossctl.io.memory import ArrowTable, to_arrow
from lossctl.io.parquet import ParquetTable
from lossctl.io.parts import PartsTable
from lossctl.io.sources import resolve, resolve_parts
from lossctl.io.table import InputTable

__all__ = ["InputTable", "open_table"]


def open_table(
    data: object, label: str, encoding: str = "utf-8", no_header: bool = False
) -> InputTable:
    """Open a path, ``-``, a DataFrame, a pyarrow Table, or an array as an InputTable.

    A path may also be a glob (``'preds/*.parquet'``) or a directory of parts: see
    :func:`lossctl.io.sources.resolve_parts` and :class:`PartsTable`. ``encoding``
    is the text encoding of CSV input (Parquet is always UTF-8); ``no_header`` says
    that CSV input has no header line (other inputs have column names of their own).
    """
    if isinstance(data, (str, bytes)) or hasattr(data, "__fspath__"):
        spec = str(data if not isinstance(data, bytes) else data.decode())
        parts = resolve_parts(spec)
        if parts is not None:
            return PartsTable(parts, encoding, no_header)
        source = resolve(spec)
        if source.format == "parquet":
            return ParquetTable(source)
        return CsvTable(source, encoding, no_header)
    return ArrowTable(label, to_arrow(data, label))
