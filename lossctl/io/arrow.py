"""Arrow IPC files and streams (``.arrow``, ``.feather``, ``.ipc``), record batch by record batch.

Both of Arrow's IPC formats are read, told apart by content, not by name: the
*file* format (Feather version 2) starts with the magic bytes ``ARROW1`` and
ends with a footer that lists its record batches; the *stream* format has no
footer and is read from start to end. Either is memory-mapped, so a batch costs
no copy until its columns are cast.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NoReturn

import pyarrow as pa

from lossctl.errors import CorruptArrow, NonNumeric
from lossctl.io.sources import Source
from lossctl.io.table import Batch, InputTable, non_numbers

#: The first bytes of an Arrow IPC file (the stream format has none).
MAGIC = b"ARROW1"


def is_ipc_file(path: str) -> bool:
    """Whether the file at ``path`` starts as the Arrow IPC *file* format does."""
    with open(path, "rb") as head:
        return head.read(len(MAGIC)) == MAGIC


class ArrowIpcTable(InputTable):
    """An Arrow IPC file or stream (the format is told by the file's first bytes)."""

    def __init__(self, source: Source) -> None:
        assert source.path is not None
        self.source = source
        self.path = str(source.path)
        try:
            self.is_file = is_ipc_file(self.path)
        except OSError as error:
            self._refuse(error, "is not readable")
        self._rows_done = 0
        reader = self._reader()
        schema = reader.schema
        self._rows: int | None = None
        if self.is_file:
            self._rows = sum(
                self._guarded(reader.get_batch, i).num_rows
                for i in range(reader.num_record_batches)
            )
        super().__init__(source.label, schema.names, schema)

    def _refuse(self, error: Exception, what: str) -> NoReturn:
        kind = "file" if getattr(self, "is_file", True) else "stream"
        raise CorruptArrow(
            f"{what} as an Arrow IPC {kind} ({error})",
            file=self.source.label,
            hint="Check that the file is complete, and written as an Arrow IPC file or stream",
        ) from None

    def _guarded(self, step: Any, *args: Any) -> Any:
        """``step(*args)``, with pyarrow's refusals as :class:`CorruptArrow`."""
        try:
            return step(*args)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as error:
            self._refuse(error, "cannot be read")

    def _reader(self) -> Any:
        """A new reader of the file (memory-mapped), or :class:`CorruptArrow`."""
        import pyarrow.ipc as ipc

        try:
            mapped = pa.memory_map(self.path)
            return ipc.open_file(mapped) if self.is_file else ipc.open_stream(mapped)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as error:
            self._refuse(error, "is not readable")

    def _records(self) -> Iterator[pa.RecordBatch]:
        reader = self._reader()
        if self.is_file:
            for i in range(reader.num_record_batches):
                yield self._guarded(reader.get_batch, i)
            return
        while True:
            try:
                yield self._guarded(reader.read_next_batch)
            except StopIteration:
                return

    def _batches(
        self, numeric: list[str], other: list[str], text: list[str], rows: int
    ) -> Iterator[Batch]:
        """Record batch by record batch (cut to ``rows`` by :meth:`InputTable.batches`)."""
        self._rows_done = 0
        records = self._records()
        for record in records:
            try:
                columns = self._record_columns(record, numeric, other, self._rows_done)
            except NonNumeric as error:  # count them to the end of the file
                rest = (r.column(error.column).to_pylist() for r in records)
                error.count = (error.count or 1) + sum(len(non_numbers(v)) for v in rest)
                raise
            yield Batch(columns, 0, self._rows_done)
            self._rows_done += record.num_rows

    def size(self) -> tuple[int, str] | None:
        return None if self._rows is None else (self._rows, "rows")

    def done(self) -> int:
        return self._rows_done
