"""One file, opened by the reader of its format (:data:`READERS`)."""

from __future__ import annotations

from collections.abc import Callable

from lossctl.io.arrow import ArrowIpcTable
from lossctl.io.csv import CsvTable
from lossctl.io.jsonl import JsonLinesTable
from lossctl.io.npy import NpyTable
from lossctl.io.parquet import ParquetTable
from lossctl.io.remote import is_web
from lossctl.io.sniff import check_text
from lossctl.io.sources import Format, Source
from lossctl.io.table import InputTable

#: The reader of each input format (CSV and TSV also take the text encoding).
READERS: dict[Format, Callable[[Source], InputTable]] = {
    "parquet": ParquetTable,
    "arrow": ArrowIpcTable,
    "jsonl": JsonLinesTable,
    "npy": NpyTable,
}


def open_file(source: Source, encoding: str = "utf-8", no_header: bool = False) -> InputTable:
    """The reader of ``source``'s format, opened (CSV and TSV in ``encoding``, without a
    header line if ``no_header``)."""
    if source.url is not None and (source.format != "parquet" or is_web(source.url)):
        # Copied to a temporary file first (Parquet in a bucket is read in place, in ranges;
        # a web server need not serve ranges).
        from dataclasses import replace
        from pathlib import Path

        from lossctl.io.remote import open_binary
        from lossctl.io.spool import spool

        url = source.url
        source = replace(source, path=Path(spool(lambda: open_binary(url), url)), url=None)
    check_text(source)
    reader = READERS.get(source.format)
    if reader is None:
        return CsvTable(source, encoding, no_header)
    return reader(source)
