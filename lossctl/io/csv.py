"""CSV and TSV files, possibly compressed, and CSV on standard input, read by pyarrow.

A file is parsed block by block; a plain file of a few MiB or more is cut at
line breaks into ranges that two threads parse at once. Standard input and
named pipes are first copied to a temporary file (:mod:`lossctl.io.spool`), so
that they can be read twice. When pyarrow refuses the data, :mod:`lossctl.io.csv_errors`
finds the row while streaming.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from lossctl.errors import InputError, NotUtf8, Unreadable, UnsupportedFormat
from lossctl.io import csv_errors
from lossctl.io.csv_errors import Start
from lossctl.io.sources import Source
from lossctl.io.spool import spool
from lossctl.io.table import Batch, InputTable, is_number

#: The bytes of a CSV file that pyarrow parses at a time (grown for longer lines).
BLOCK = 1 << 20
#: The largest block of a CSV file read at once: no line may be longer.
MAX_BLOCK = 1 << 30
#: The bytes of a CSV file that one thread parses at a time, when two parse at once;
#: in a smaller file, a quarter of it, but not under MIN_RANGE. A file of fewer than two
#: ranges is read block by block.
RANGE = 4 << 20
MIN_RANGE = 1 << 20
#: The first block read for the column names alone (a block is parsed whole, so a
#: small one is quick); a header it cannot hold is read again in full blocks.
HEADER_BLOCK = 64 << 10


class _Unsplittable(Exception):
    """A CSV file cannot be cut at line breaks here (a quote: maybe a break in quotes)."""


def _whole_quoted_fields(data: bytes, delimiter: str) -> bool:
    """Whether every quote in ``data`` is one of a pair that encloses a whole field within
    one line (``"a,b"``; not ``"a""b"``, a line break in quotes, nor a quote in the middle
    of a field): then its rows read the same apart as in the whole file, and a line
    break never falls inside quotes."""
    import numpy as np

    raw = np.frombuffer(data, dtype=np.uint8)
    quotes = np.flatnonzero(raw == ord('"'))
    if quotes.size % 2:
        return False
    opens, closes = quotes[0::2], quotes[1::2]
    line_end = ord("\n")  # (the start and the end of the range count as line ends)
    before = np.where(opens > 0, raw[np.maximum(opens - 1, 0)], line_end)
    after = np.where(closes + 1 < raw.size, raw[np.minimum(closes + 1, raw.size - 1)], line_end)
    if not np.isin(before, [ord(delimiter), line_end]).all():
        return False
    if not np.isin(after, [ord(delimiter), line_end, ord("\r")]).all():
        return False
    breaks = np.flatnonzero(raw == line_end)
    return bool(np.array_equal(np.searchsorted(breaks, opens), np.searchsorted(breaks, closes)))


def _numbers_not_names(cells: Sequence[str]) -> bool:
    """Whether a header is a line of data: every cell reads as a number, and one at least
    is not an integer (``1,2,3`` may name classes 1 to 3; ``0.98,0.01`` names nothing)."""
    texts = [cell.strip() for cell in cells]
    # (nan, inf: words that read as numbers)
    numbers = all(is_number(t) and any(c.isdigit() for c in t) for t in texts)
    return bool(texts) and numbers and not all(t.lstrip("+-").isdigit() for t in texts)


def _range_size(size: int) -> int:
    """The bytes of each range of a CSV file of ``size`` bytes (see RANGE)."""
    return min(RANGE, max(size // 4, MIN_RANGE))


def _check_stdin_is_csv(head: bytes) -> None:
    """Standard input is read as CSV text: say so when it is compressed or Parquet."""
    kinds = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\x28\xb5\x2f\xfd": "zstd", b"PAR1": "Parquet"}
    for magic, kind in kinds.items():
        if head.startswith(magic):
            raise UnsupportedFormat(
                f"standard input holds {kind} data, not CSV text",
                file="-",
                hint="Give the file's path instead of -, so its type is known",
            )


class CsvTable(InputTable):
    """A CSV or TSV file, possibly compressed, or CSV bytes from stdin."""

    def __init__(self, source: Source, encoding: str = "utf-8", no_header: bool = False) -> None:
        self.source = source
        self.label = source.label
        self.encoding = encoding
        self.delimiter = "\t" if source.format == "tsv" else ","
        self.block_size = BLOCK
        self.newlines_in_values = False
        # Standard input, a named pipe or a device can be read once: copy it to a file
        # (read by Python, so that Ctrl-C ends a wait for data that does not come).
        self.path = str(source.path)
        if source.is_stdin:
            self.path = spool(lambda: sys.stdin.buffer, source.label)
            _check_stdin_is_csv(self.head(4, raw=True))
        elif source.path is not None and not source.path.is_file():
            pipe = source.path
            self.path = spool(lambda: open(pipe, "rb"), source.label)  # noqa: SIM115 (closed by spool)
        self._file: Any = None  # the file being parsed, for done()
        self._range_done = 0  # the bytes parsed in ranges, for done()
        #: Whether the first line names the columns (else they are named by position).
        self.has_header = not no_header
        self._names: list[str] | None = None
        if no_header and (width := self._first_width()):
            # Named before any parse, so that an error of the first block can name them
            self._names = self.names = [str(i) for i in range(width)]
        header_block: int | None = HEADER_BLOCK
        while True:
            try:
                stream = self._input()
                reader = pacsv.open_csv(
                    stream,
                    read_options=self.read_options(block=header_block),
                    parse_options=self._parse_options(),
                )
                names = self._names = reader.schema.names
                stream.close()
                break
            except (pa.ArrowInvalid, UnicodeError) as error:
                if header_block is not None:  # again in full blocks, which explain any error
                    header_block = None
                    continue
                if isinstance(error, UnicodeError):
                    raise self._not_text() from None
                if not (self._larger_blocks(error) or self._quoted_line_breaks(error)):
                    raise self._explain(error, []) from None
            except OSError as error:
                raise Unreadable(f"cannot be read: {error}", file=source.label) from None
        notes = []
        if self.has_header and _numbers_not_names(names):
            self.has_header = False
            shown = repr(names[0]) + (", ..." if len(names) > 1 else "")
            notes.append(
                f"the first line of {source.label} ({shown}) is numbers, not column names:"
                " read as data (--no-header says so)"
            )
        if not self.has_header:
            names = self._names = [str(i) for i in range(len(names))]
        super().__init__(source.label, names)
        self.notes = notes

    def _first_width(self) -> int:
        """How many fields the first record has (read by Python's csv from the first bytes)."""
        text = self.head(HEADER_BLOCK).decode(self.encoding, errors="replace").lstrip("\ufeff")
        records = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter)
        return len(next((record for record in records if record), []))

    def _input(self) -> Any:
        """The file, decompressed; ``done()`` follows its position in the raw bytes."""
        self._file = pa.OSFile(self.path)
        if self.source.compression is None:
            return self._file
        return pa.CompressedInputStream(self._file, self.source.compression)

    def read_options(self, block: int | None = None) -> pacsv.ReadOptions:
        headless = not self.has_header
        return pacsv.ReadOptions(
            encoding=self.encoding,
            block_size=block or self.block_size,
            # (before the names are known, a file without a header gets f0, f1, ...)
            column_names=self._names if headless and self._names is not None else None,
            autogenerate_column_names=headless and self._names is None,
        )

    def size(self) -> tuple[int, str] | None:
        return os.path.getsize(self.path), "bytes"

    def done(self) -> int:
        try:
            position = int(self._file.tell()) if self._file is not None else 0
        except (OSError, ValueError):  # closed
            position = 0
        return max(position, self._range_done)

    def _larger_blocks(self, error: pa.ArrowInvalid) -> bool:
        """A line longer than a block (pyarrow: "straddling", or a header it cannot see):
        grow the blocks, up to 1 GiB, and say whether to try again."""
        message = str(error)
        # pyarrow calls a file empty when its header is longer than a block; a file of a
        # BOM or blank lines alone is empty too, but not longer than a block.
        size = len(self.head(self.block_size + 1)) if "Empty CSV" in message else 0
        if ("straddl" in message or size > self.block_size) and self.block_size < MAX_BLOCK:
            self.block_size = min(self.block_size * 8, MAX_BLOCK)  # pyarrow takes an int32
            return True
        return False

    def _quoted_line_breaks(self, error: pa.ArrowInvalid) -> bool:
        """A quoted value with a line break in it, at a block's edge, puts pyarrow out of
        step ("Expected 2 columns, got 1", "out of sync with chunker"): read again with
        ``newlines_in_values``, which is slower, so only for the files that need it."""
        message = str(error)
        out_of_step = "columns, got" in message or "newlines_in_values" in message
        if out_of_step and not self.newlines_in_values:
            self.newlines_in_values = True
            return True
        return False

    def _parse_options(self) -> pacsv.ParseOptions:
        return pacsv.ParseOptions(
            delimiter=self.delimiter, newlines_in_values=self.newlines_in_values
        )

    def _batches(
        self, numeric: list[str], other: list[str], text: list[str], rows: int
    ) -> Iterator[Batch]:
        """Parse the file block by block.

        Types of the ``other`` columns are inferred from the first block; when a
        later block disagrees (a class name after numbers), the rest of the file is
        read with that column as text, so batches may differ in type. A parse that
        needs other settings (longer lines, quoted line breaks) starts again, and goes
        on after the rows already given (they are read again and dropped: pyarrow's
        ``skip_rows_after_names`` would count blank lines as rows).
        """
        columns = [*numeric, *other]
        types = {name: pa.float64() for name in numeric}
        types.update({name: pa.string() for name in text})
        given = 0
        if self._splittable():
            try:
                for batch in self._in_ranges(columns, types):
                    yield batch
                    given += batch.num_rows
                return
            except (_Unsplittable, pa.ArrowInvalid, UnicodeError):
                pass  # the careful reader below goes on after the rows given, and explains
        while True:
            stream = None
            convert = pacsv.ConvertOptions(
                include_columns=columns, column_types=types, strings_can_be_null=True
            )
            try:
                stream = self._input()
                reader = pacsv.open_csv(
                    stream,
                    read_options=self.read_options(),
                    parse_options=self._parse_options(),
                    convert_options=convert,
                )
                seen = 0  # the rows parsed in this pass
                for record in reader:
                    seen += record.num_rows
                    if seen <= given:
                        continue
                    if seen - record.num_rows < given:
                        record = record.slice(record.num_rows - (seen - given))
                    if not record.num_rows:
                        continue
                    binary = [n for n in other if pa.types.is_binary(record.column(n).type)]
                    if binary:  # pyarrow reads text that is not UTF-8 as bytes: say where
                        raise self._not_text(binary)
                    yield Batch({name: record.column(name) for name in columns}, 0, given)
                    given += record.num_rows
                return
            except pa.ArrowInvalid as error:
                retry = self.conversion_column(error)
                if retry is not None and retry in other and retry not in types:
                    types[retry] = pa.string()
                    continue
                if self._larger_blocks(error) or self._quoted_line_breaks(error):
                    continue
                raise self._explain(error, columns, Start(given)) from None
            except UnicodeError:
                raise self._not_text() from None
            except OSError as error:
                raise Unreadable(f"cannot be read: {error}", file=self.label) from None
            finally:
                if stream is not None:
                    stream.close()

    def _splittable(self) -> bool:
        """Whether the file can be cut at line breaks and the pieces parsed apart: a plain
        file, large enough to be worth it, in an encoding where a byte 10 ends a line."""
        return (
            self.source.compression is None
            and not self.newlines_in_values
            and codecs.lookup(self.encoding).name in ("utf-8", "utf-8-sig", "iso8859-1", "cp1252")
            and (size := os.path.getsize(self.path)) >= 2 * _range_size(size)
        )

    def _in_ranges(self, columns: list[str], types: dict[str, pa.DataType]) -> Iterator[Batch]:
        """Parse the file in ranges (see RANGE) cut at line breaks, two at a time
        (pyarrow's streaming reader parses on one core). A range with a quote in it might
        hold a line break inside quotes, so a cut there is not safe: it raises
        :class:`_Unsplittable`, and the rows before it stand."""
        from concurrent.futures import ThreadPoolExecutor

        size = os.path.getsize(self.path)
        parse = self._parse_options()
        convert = pacsv.ConvertOptions(
            include_columns=columns, column_types=types, strings_can_be_null=True
        )
        with open(self.path, "rb") as raw, ThreadPoolExecutor(2) as pool:
            fd = raw.fileno()

            def cut(position: int) -> int:
                """The position just after the first line break at or after ``position``
                (the end of the file, if the last line has none)."""
                step = 1 << 12  # a line is short, as a rule: look a little ahead at first
                while position < size:
                    head = os.pread(fd, step, position)
                    found = head.find(b"\n")
                    if found >= 0:
                        return position + found + 1
                    if len(head) < step:
                        break
                    if step >= self.block_size:
                        raise _Unsplittable  # a line longer than a block
                    step *= 8
                return size

            def parse_range(start: int, stop: int) -> pa.Table:
                data = os.pread(fd, stop - start, start)
                if b'"' in data and not _whole_quoted_fields(data, self.delimiter):
                    raise _Unsplittable
                options = pacsv.ReadOptions(
                    use_threads=False,
                    block_size=max(len(data), 1),
                    encoding=self.encoding,
                    column_names=None if start == 0 and self.has_header else self.names,
                )
                return pacsv.read_csv(
                    pa.py_buffer(data),
                    read_options=options,
                    parse_options=parse,
                    convert_options=convert,
                )

            starts = [0]
            while starts[-1] < size:
                starts.append(cut(starts[-1] + _range_size(size)))
            pending = [pool.submit(parse_range, *pair) for pair in itertools.pairwise(starts[:3])]
            given = 0
            for index in range(len(starts) - 1):
                # An error is looked for from this range's first byte: the rows before it
                # are good, and every quote so far encloses a whole field.
                start = Start(given, starts[index])
                try:
                    table = pending.pop(0).result()
                except pa.ArrowInvalid as error:
                    self._explain_range(error, columns, types, start)
                    raise
                following = index + len(pending) + 1  # the next range not yet submitted
                if following + 1 < len(starts):
                    pending.append(pool.submit(parse_range, *starts[following : following + 2]))
                binary = [n for n in columns if pa.types.is_binary(table.column(n).type)]
                if binary:
                    raise self._not_text(binary, start)
                for record in table.combine_chunks().to_batches():
                    if record.num_rows:
                        yield Batch({n: record.column(n) for n in columns}, 0, given)
                        given += record.num_rows
                self._range_done = starts[index + 1]

    def _explain_range(
        self,
        error: pa.ArrowInvalid,
        columns: list[str],
        types: dict[str, pa.DataType],
        start: Start,
    ) -> None:
        """Raise the error that explains why a range that begins at ``start`` was refused,
        when it is a value that is not a number or a ragged row; else return (the careful
        reader parses the file again, and explains)."""
        column = self.conversion_column(error)
        if column is not None and types.get(column) == pa.float64():
            raise self._explain(error, columns, start) from None
        if "columns, got" in str(error):  # (no quoted line break: see _whole_quoted_fields)
            ragged = csv_errors.ragged_row(self, start)
            if ragged is not None:
                raise ragged from None

    def conversion_column(self, error: pa.ArrowInvalid) -> str | None:
        """The column named by pyarrow's "In CSV column #i: CSV conversion error ...", if any.

        ``i`` counts the columns of the file, not the ones read.
        """
        message = str(error)
        if "conversion error" not in message or "column #" not in message:
            return None
        index = int(message.split("column #", 1)[1].split(":", 1)[0])
        return self.names[index] if index < len(self.names) else None

    def _not_text(
        self, columns: Sequence[str] = (), start: Start = csv_errors.FIRST_ROW
    ) -> NotUtf8:
        """The first header name, or cell of ``columns`` after ``start``, that is not text
        in the encoding asked for (see :func:`lossctl.io.csv_errors.not_text`)."""
        return csv_errors.not_text(self, columns, start)

    def head(self, n: int, raw: bool = False) -> bytes:
        """The first ``n`` bytes, decompressed unless ``raw``."""
        compression = None if raw else self.source.compression
        with pa.input_stream(self.path, compression=compression) as stream:
            head: bytes = stream.read(n)
        return head

    def _explain(
        self, error: pa.ArrowInvalid, columns: Sequence[str], start: Start = csv_errors.FIRST_ROW
    ) -> InputError:
        """Turn pyarrow's message into one that names the row and says what to do, reading
        the file again as a stream from ``start`` (see :mod:`lossctl.io.csv_errors`)."""
        return csv_errors.explain(self, error, columns, start)
