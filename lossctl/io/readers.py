"""Open any input as an :class:`~lossctl.io.table.InputTable`.

:func:`open_table` picks the reader of each kind of input: :mod:`lossctl.io.csv`
(CSV and TSV, compressed or on standard input), :mod:`lossctl.io.parquet`,
:mod:`lossctl.io.arrow` (Arrow IPC files and streams), :mod:`lossctl.io.jsonl`
(JSON Lines), :mod:`lossctl.io.npy` (NumPy ``.npy``), all through
:func:`lossctl.io.files.open_file`; :mod:`lossctl.io.parts` (a glob or a
directory of parts) and :mod:`lossctl.io.memory` (DataFrames, pyarrow Tables
and RecordBatches, objects with ``__arrow_c_stream__`` such as polars
DataFrames, NumPy arrays).
"""

from __future__ import annotations

from lossctl.io.files import open_file
from lossctl.io.memory import ArrowTable, to_arrow
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
    is the text encoding of CSV input (Parquet, Arrow and JSON Lines are always UTF-8);
    ``no_header`` says that CSV input has no header line (other inputs have column names
    of their own).
    """
    if isinstance(data, (str, bytes)) or hasattr(data, "__fspath__"):
        spec = str(data if not isinstance(data, bytes) else data.decode())
        parts = resolve_parts(spec)
        if parts is not None:
            return PartsTable(parts, encoding, no_header)
        return open_file(resolve(spec), encoding, no_header)
    return ArrowTable(label, to_arrow(data, label))
