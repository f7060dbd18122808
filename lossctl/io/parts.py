"""The parts of a glob or a directory, read one after another as one table."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pyarrow as pa

from lossctl.errors import LossctlError, PartColumnsDiffer, PartitionColumnClash, PartVanished
from lossctl.io.files import open_file
from lossctl.io.sources import Parts, Source
from lossctl.io.table import NULL_VALUES, Batch, InputTable, is_number, raise_first_non_number


class PartsTable(InputTable):
    """The parts of a glob or a directory, read one after another as one table.

    Each part is read by a table of its own (:func:`lossctl.io.files.open_file`: CSV,
    Parquet, Arrow IPC, JSON Lines or .npy) whose label is the part's path, so that an error in a
    part names that file and its row. ``label`` is the argument as given and
    ``parts`` the parts' paths, in the order of :func:`lossctl.io.sources.resolve_parts`.
    Every part must have the same columns, in any order. The ``key=value``
    directories of Hive partitions (``preds/date=2024-01-01/part-0.parquet``) add
    columns of text (null for ``__HIVE_DEFAULT_PARTITION__``). A CSV column may
    have one type in a part and another in the next: batches may differ in type.

    Parts that keep a file open (Parquet) are closed between reads, so that thousands of
    parts do not hold thousands of open files.
    """

    def __init__(self, parts: Parts, encoding: str = "utf-8", no_header: bool = False) -> None:
        self.sources = parts.sources
        self.root = parts.root
        self.encoding = encoding
        self.no_header = no_header
        self.partitions = [parts.partitions(source) for source in parts.sources]
        self._tables: list[InputTable | None] = []
        self._sizes: list[tuple[int, str] | None] = []
        self._done_before = 0
        self._current: InputTable | None = None
        first: InputTable | None = None
        for index, source in enumerate(parts.sources):
            with self._vanishing(index):
                table = self._open(source)
            self._tables.append(table)
            self._sizes.append(table.size())
            self._check_columns(table, self.partitions[index], first, self.partitions[0])
            first = first or table
            self._release(index)
        assert first is not None  # (resolve_parts gives one part at least)
        hive = [name for name in self.partitions[0] if name not in first.names]
        super().__init__(parts.label, [*first.names, *hive])
        self.parts = [source.label for source in parts.sources]
        self.index_columns = list(first.index_columns)
        self.notes = list(first.notes)
        self.has_header = first.has_header

    def _open(self, source: Source) -> InputTable:
        return open_file(source, self.encoding, self.no_header)

    def _part(self, index: int) -> InputTable:
        table = self._tables[index]
        if table is None:
            with self._vanishing(index):
                table = self._tables[index] = self._open(self.sources[index])
        return table

    @contextlib.contextmanager
    def _vanishing(self, index: int) -> Iterator[None]:
        """An error while a part is opened again or read is that it was deleted during the
        run (after the parts were listed), if it no longer exists."""
        try:
            yield
        except (LossctlError, OSError):
            source = self.sources[index]
            if source.url is not None:
                from lossctl.io.remote import gone

                vanished = gone(source.url)
            else:
                vanished = source.path is not None and not os.path.exists(source.path)
            if not vanished:
                raise
            raise PartVanished(
                "was deleted during the run (it was listed as a part, then not found)",
                file=source.label,
            ) from None

    def _release(self, index: int) -> None:
        """Close a part's file, if it keeps one open (it is opened again when read)."""
        table = self._tables[index]
        if table is not None and table.reopens:
            table.close()
            self._tables[index] = None

    @staticmethod
    def _check_columns(
        table: InputTable,
        hive: dict[str, str | None],
        first: InputTable | None,
        first_hive: dict[str, str | None],
    ) -> None:
        """A part's columns (file and partition ones) are those of the first part."""
        for key, value in hive.items():
            if key in table.names:
                raise PartitionColumnClash(
                    f"is a column of the file and a partition directory of its path "
                    f"({key}={'' if value is None else value})",
                    file=table.label,
                    column=key,
                    hint="Rename the column or the partition directories",
                )
        if first is None:
            return
        expected = [*first.names, *(k for k in first_hive if k not in first.names)]
        found = [*table.names, *hive]
        for names, others, what in (
            (expected, found, f"this column of the first part, {first.label}, is not in this part"),
            (found, expected, f"this column is not in the first part, {first.label}"),
        ):
            odd = [name for name in names if name not in others]
            if odd:
                raise PartColumnsDiffer(
                    what,
                    file=table.label,
                    column=odd[0],
                    hint="Give every part the same columns (in any order)",
                )

    def _batches(
        self, numeric: list[str], other: list[str], text: list[str], rows: int
    ) -> Iterator[Batch]:
        """The batches of each part in turn, with the part's partition columns added."""
        self._done_before = 0
        for index, hive in enumerate(self.partitions):
            table = self._current = self._part(index)
            own_numeric = [name for name in numeric if name not in hive]
            own_other = [name for name in other if name not in hive]
            # Partition columns alone: read one column of the file for its rows.
            probe = [] if own_numeric or own_other else table.names[:1]
            own_text = [name for name in text if name in own_other] + probe
            with self._vanishing(index):
                for batch in table.batches(own_numeric, own_other + probe, own_text, rows):
                    n = batch.num_rows
                    columns = {}
                    for name in [*numeric, *other]:
                        if name not in hive:
                            columns[name] = batch.columns[name]
                        elif name in numeric:
                            columns[name] = _partition_numbers(table.label, name, hive[name], n)
                        else:
                            columns[name] = _partition_texts(hive[name], n)
                    yield Batch(columns, index, batch.start)
            size = self._sizes[index]
            self._done_before += size[0] if size is not None else 0
            self._current = None
            self._release(index)

    def size(self) -> tuple[int, str] | None:
        """The sum of the parts' sizes, when every part knows its size in one unit."""
        if any(size is None for size in self._sizes):
            return None
        units = {size[1] for size in self._sizes if size is not None}
        if len(units) != 1:
            return None
        return sum(size[0] for size in self._sizes if size is not None), units.pop()

    def done(self) -> int:
        current = self._current.done() if self._current is not None else 0
        return self._done_before + current


def _partition_texts(value: str | None, n: int) -> pa.Array:
    """A partition column's value on each of ``n`` rows, as text."""
    if value is None:
        return pa.nulls(n, pa.string())
    return pa.repeat(pa.scalar(value, pa.string()), n)


def _partition_numbers(label: str, column: str, value: str | None, n: int) -> pa.Array:
    """A partition column's value on each of ``n`` rows, as float64; the part's first
    row is where a value that is not a number is wrong."""
    if value is None or value in NULL_VALUES:
        return pa.nulls(n, pa.float64())
    if not is_number(value):
        raise_first_non_number(label, column, [value])
    return pa.repeat(pa.scalar(float(value), pa.float64()), n)
