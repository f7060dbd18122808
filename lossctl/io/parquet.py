"""Parquet files, read page by page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from lossctl.errors import CorruptParquet, NonNumeric
from lossctl.io.sources import Source
from lossctl.io.table import Batch, InputTable, non_numbers


class ParquetTable(InputTable):
    """A Parquet file."""

    def __init__(self, source: Source) -> None:
        import pyarrow.parquet as pq

        self.source = source
        try:
            # Column chunks read through a 1 MiB buffer, page by page: memory then
            # follows the batch, not the row group (which the file's writer chose).
            where: Any = str(source.path)
            if source.url is not None:
                from lossctl.io.remote import open_binary

                where = open_binary(source.url)
            self._file = pq.ParquetFile(where, buffer_size=1 << 20, pre_buffer=False)
        except (pa.ArrowInvalid, OSError) as error:
            raise CorruptParquet(
                f"is not a readable Parquet file ({error})",
                file=source.label,
                hint="Check that the file is complete and really Parquet",
            ) from None
        self._rows_done = 0
        super().__init__(source.label, self._file.schema_arrow.names, self._file.schema_arrow)

    def _batches(
        self, numeric: list[str], other: list[str], text: list[str], rows: int
    ) -> Iterator[Batch]:
        """Row group by row group (pyarrow's ``iter_batches``)."""
        self._rows_done = 0
        records = self._file.iter_batches(batch_size=rows or 65_536, columns=[*numeric, *other])
        try:
            for record in records:
                try:
                    columns = {
                        name: self._as_float(name, record.column(name), self._rows_done)
                        for name in numeric
                    }
                except NonNumeric as error:  # count them to the end of the file
                    rest = (r.column(error.column).to_pylist() for r in records)
                    error.count = (error.count or 1) + sum(len(non_numbers(v)) for v in rest)
                    raise
                columns.update({name: record.column(name) for name in other})
                yield Batch(columns, 0, self._rows_done)
                self._rows_done += record.num_rows
        except (pa.ArrowInvalid, OSError) as error:
            raise CorruptParquet(
                f"cannot be read as Parquet ({error})",
                file=self.label,
                hint="Check that the file is complete",
            ) from None

    reopens = True

    def close(self) -> None:
        self._file.close()

    def size(self) -> tuple[int, str] | None:
        return int(self._file.metadata.num_rows), "rows"

    def done(self) -> int:
        return self._rows_done
