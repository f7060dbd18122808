"""Read only the needed columns of an input, with pyarrow, in batches of rows.

An :class:`InputTable` is an opened input that knows its column names. Its
``batches`` streams the named columns: prediction and weight columns as
float64 (``numeric``), the others (targets, ids) with their types inferred;
``read`` gathers them whole. The fast path asks pyarrow for exactly that; when
pyarrow refuses the data, a slow path finds the first offending row and raises
an error that names it.

Memory holds one batch at a time: CSV is parsed block by block (standard
input and named pipes are first copied to a temporary file, so that they can
be read twice), Parquet row group by row group.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple, NoReturn

import pyarrow as pa
import pyarrow.csv as pacsv

from lossctl.errors import (
    CorruptParquet,
    DuplicateColumn,
    EmptyFile,
    InputError,
    NonNumeric,
    NotUtf8,
    PartColumnsDiffer,
    PartitionColumnClash,
    RaggedRow,
    UnparsableCsv,
    Unreadable,
    UnsupportedColumnType,
    UnsupportedData,
    UnsupportedFormat,
)
from lossctl.io.columns import is_number_type, is_text_type, one_type
from lossctl.io.sources import Parts, Source

#: Cells that mean "missing", as pyarrow reads them: empty, NA, NaN, null, ...
NULL_VALUES: tuple[str, ...] = (*pacsv.ConvertOptions().null_values, "None")
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


#: Names that a saved DataFrame index gets: pandas' to_csv() (an empty header or
#: "Unnamed: 0" once read back) and pyarrow's from_pandas.
INDEX_NAME = re.compile(r"^(|Unnamed: \d+|__index_level_\d+__)$")


class Batch(NamedTuple):
    """Some consecutive rows of an input: ``columns`` by name, all of the same length.

    part : which of the input's ``parts`` (files) the rows come from
    start : the 0-based row of that part where the batch begins
    """

    columns: dict[str, pa.Array]
    part: int
    start: int

    @property
    def num_rows(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0


class InputTable:
    """An opened input: its column names, and a way to read some of them.

    ``index_columns`` are the columns that hold a saved pandas index (named so,
    or listed as the index in the file's pandas metadata): never data.
    ``parts`` names the files the rows come from, in order (one, except for a
    glob or a directory of parts).
    """

    def __init__(self, label: str, names: Sequence[str], schema: pa.Schema | None = None) -> None:
        self.label = label
        self.names = list(names)
        self.parts = [label]
        _check_unique(self.names, label)
        self.index_columns = [n for n in self.names if INDEX_NAME.match(n)]
        self.index_columns += [n for n in _pandas_index(schema) if n not in self.index_columns]

    def batches(
        self, numeric: Sequence[str], other: Sequence[str], text: Sequence[str] = (), rows: int = 0
    ) -> Iterator[Batch]:
        """Stream the ``numeric`` columns as float64 and the ``other`` ones as they are.

        ``text`` names ``other`` columns to keep as text where the format has no types
        (CSV): ids such as ``007`` stay ``007``. A column named twice is read once; one
        named both ``numeric`` and ``other`` is read as numbers. ``rows`` (if not 0)
        caps the rows of a batch; a batch may have fewer.
        """
        wanted = list(dict.fromkeys(numeric))
        rest = [name for name in dict.fromkeys(other) if name not in wanted]
        for batch in self._batches(wanted, rest, [name for name in text if name in rest], rows):
            if not rows or batch.num_rows <= rows:
                yield batch
                continue
            for offset in range(0, batch.num_rows, rows):
                columns = {name: c.slice(offset, rows) for name, c in batch.columns.items()}
                yield Batch(columns, batch.part, batch.start + offset)

    def read(
        self, numeric: Sequence[str], other: Sequence[str], text: Sequence[str] = ()
    ) -> dict[str, pa.ChunkedArray]:
        """The columns of ``batches``, whole."""
        return gather(self.batches(numeric, other, text), [*numeric, *other])

    def _batches(
        self, numeric: list[str], other: list[str], text: list[str], rows: int
    ) -> Iterator[Batch]:
        """``batches`` with distinct names, none in two lists."""
        raise NotImplementedError

    def size(self) -> tuple[int, str] | None:
        """How much there is to read, and in what unit ("bytes" or "rows"), if known."""
        return None

    def done(self) -> int:
        """How much of ``size`` the batches read so far cover."""
        return 0

    def _as_float(self, column: str, data: pa.Array, start: int = 0) -> pa.Array:
        """Cast a column to float64, or name its first value that is not a number
        (``start``: the row of the file where ``data`` begins, counted from 0)."""
        if data.type == pa.float64():
            return data  # (a cast, even to its own type, imports pyarrow.compute: 30 ms)
        if pa.types.is_dictionary(data.type):
            data = data.cast(data.type.value_type)
        if is_number_type(data.type):
            return data.cast(pa.float64(), safe=False)  # integers beyond 2**53 round
        if is_text_type(data.type):
            try:
                return data.cast(pa.float64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                values = data.to_pylist()
                if _non_numbers(values):
                    _raise_first_non_number(self.label, column, values, start + 1)
                # numbers and texts of missing values (NA, null, ...), as CSV reads them
                numbers = [None if v is None or v in NULL_VALUES else float(v) for v in values]
                return pa.array(numbers, pa.float64())
        raise UnsupportedColumnType(
            f"holds {data.type} values, not numbers",
            file=self.label,
            column=column,
            hint="Pick numeric columns with --pred-col",
        )


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


def _range_size(size: int) -> int:
    """The bytes of each range of a CSV file of ``size`` bytes (see RANGE)."""
    return min(RANGE, max(size // 4, MIN_RANGE))


def gather(batches: Iterable[Batch], columns: Sequence[str]) -> dict[str, pa.ChunkedArray]:
    """The ``columns`` of every batch, each as one column."""
    names = list(dict.fromkeys(columns))
    chunks: dict[str, list[pa.Array]] = {name: [] for name in names}
    for batch in batches:
        for name in names:
            chunks[name].append(batch.columns[name])
    return {name: _concat(arrays) for name, arrays in chunks.items()}


def _concat(arrays: list[pa.Array]) -> pa.ChunkedArray:
    """Batches of one column as one column (see :func:`one_type`)."""
    if not arrays:
        return pa.chunked_array([], pa.null())
    return pa.chunked_array(one_type(arrays))


def _pandas_index(schema: pa.Schema | None) -> list[str]:
    """The stored index columns that pandas recorded in a schema's metadata."""
    if schema is None or not schema.metadata or b"pandas" not in schema.metadata:
        return []
    import json

    try:
        meta = json.loads(schema.metadata[b"pandas"])
    except ValueError:
        return []
    return [c for c in meta.get("index_columns", []) if isinstance(c, str) and c in schema.names]


def _check_unique(names: Sequence[str], label: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DuplicateColumn(
                "this column name appears more than once",
                file=label,
                column=name,
                hint="Give every column a unique name",
            )
        seen.add(name)


def _is_number(text: str) -> bool:
    """Whether pyarrow reads ``text`` as a float (Python alone also takes ``1_0``)."""
    try:
        float(text)
    except ValueError:
        return False
    return "_" not in text


def _non_numbers(values: Iterable[Any], first_row: int = 1) -> list[tuple[int, Any]]:
    """The rows (numbered from ``first_row``) and values that are neither missing nor
    numbers."""
    return [
        (row, value)
        for row, value in enumerate(values, start=first_row)
        if value is not None and value not in NULL_VALUES and not _is_number(str(value))
    ]


def _raise_first_non_number(
    label: str, column: str, values: Iterator[Any] | list[Any], first_row: int = 1
) -> NoReturn:
    bad = _non_numbers(values, first_row)
    if not bad:  # pragma: no cover - pyarrow refused a value Python accepts
        raise NonNumeric("cannot read this column as numbers", file=label, column=column)
    row, value = bad[0]
    raise NonNumeric(
        f"{value!r} is not a number",
        file=label,
        column=column,
        row=row,
        count=len(bad),
        hint="Fix the value, or pick numeric prediction columns with --pred-col",
    )


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


def _interruptible(function: Callable[[], bytes]) -> bytes:
    """``function()``, which may wait for a writer that takes its time, run so that Ctrl-C
    still ends the wait.

    Python runs signal handlers in the main thread, but the system may deliver the
    signal to any thread (NumPy and pyarrow start some): a main thread blocked in
    open() or read() would never hear of it. Here a helper thread waits, and the main
    thread wakes up every 0.1 s, which is when a pending Ctrl-C is raised.
    """
    outcome: list[bytes] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(function())
        except BaseException as error:  # handed over to the main thread below
            failure.append(error)

    waiter = threading.Thread(target=run, daemon=True)
    waiter.start()
    while waiter.is_alive():
        waiter.join(0.1)
    if failure:
        raise failure[0]
    return outcome[0]


def _spool(opener: Callable[[], Any], label: str) -> str:
    """Copy a stream that can be read only once (stdin, a named pipe) to a temporary file,
    a MiB at a time, and return its path; the file is removed when the process ends.

    ``opener`` opens the stream, in the thread that waits for its data.
    """
    import atexit
    import tempfile

    fd, path = tempfile.mkstemp(prefix="lossctl-", suffix=".spool")
    atexit.register(_remove, path)

    def copy() -> bytes:
        stream = opener()
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(1 << 20):
                out.write(chunk)
        if stream is not sys.stdin.buffer:
            stream.close()
        return b""

    try:
        _interruptible(copy)
    except OSError as error:
        raise Unreadable(f"cannot be read: {error}", file=label) from None
    return path


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _decodes(raw: bytes, encoding: str) -> bool:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


class CsvTable(InputTable):
    """A CSV or TSV file, possibly compressed, or CSV bytes from stdin."""

    def __init__(self, source: Source, encoding: str = "utf-8") -> None:
        self.source = source
        self.label = source.label
        self.encoding = encoding
        self.delimiter = "\t" if source.format == "tsv" else ","
        self.block_size = 1 << 20
        self.newlines_in_values = False
        # Standard input, a named pipe or a device can be read once: copy it to a file
        # (read by Python, so that Ctrl-C ends a wait for data that does not come).
        self.path = str(source.path)
        if source.is_stdin:
            self.path = _spool(lambda: sys.stdin.buffer, source.label)
            _check_stdin_is_csv(self._head(4, raw=True))
        elif source.path is not None and not source.path.is_file():
            pipe = source.path
            self.path = _spool(lambda: open(pipe, "rb"), source.label)  # noqa: SIM115 (closed by _spool)
        self._file: Any = None  # the file being parsed, for done()
        self._range_done = 0  # the bytes parsed in ranges, for done()
        header_block: int | None = HEADER_BLOCK
        while True:
            try:
                stream = self._input()
                reader = pacsv.open_csv(
                    stream,
                    read_options=self._read_options(block=header_block),
                    parse_options=self._parse_options(),
                )
                names = reader.schema.names
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
        super().__init__(source.label, names)

    def _input(self) -> Any:
        """The file, decompressed; ``done()`` follows its position in the raw bytes."""
        self._file = pa.OSFile(self.path)
        if self.source.compression is None:
            return self._file
        return pa.CompressedInputStream(self._file, self.source.compression)

    def _read_options(self, skip: int = 0, block: int | None = None) -> pacsv.ReadOptions:
        return pacsv.ReadOptions(
            encoding=self.encoding,
            block_size=block or self.block_size,
            skip_rows_after_names=skip,
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
        size = len(self._head(self.block_size + 1)) if "Empty CSV" in message else 0
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
        needs other settings (longer lines, quoted line breaks) starts again after
        the rows already given.
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
                    read_options=self._read_options(given),
                    parse_options=self._parse_options(),
                    convert_options=convert,
                )
                for record in reader:
                    if not record.num_rows:
                        continue
                    binary = [n for n in other if pa.types.is_binary(record.column(n).type)]
                    if binary:  # pyarrow reads text that is not UTF-8 as bytes: say where
                        raise self._not_text(binary)
                    yield Batch({name: record.column(name) for name in columns}, 0, given)
                    given += record.num_rows
                return
            except pa.ArrowInvalid as error:
                retry = self._conversion_column(error)
                if retry is not None and retry in other and retry not in types:
                    types[retry] = pa.string()
                    continue
                if self._larger_blocks(error) or self._quoted_line_breaks(error):
                    continue
                raise self._explain(error, columns) from None
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
                    column_names=None if start == 0 else self.names,
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
                table = pending.pop(0).result()
                following = index + len(pending) + 1  # the next range not yet submitted
                if following + 1 < len(starts):
                    pending.append(pool.submit(parse_range, *starts[following : following + 2]))
                binary = [n for n in columns if pa.types.is_binary(table.column(n).type)]
                if binary:
                    raise self._not_text(binary)
                for record in table.combine_chunks().to_batches():
                    if record.num_rows:
                        yield Batch({n: record.column(n) for n in columns}, 0, given)
                        given += record.num_rows
                self._range_done = starts[index + 1]

    def _conversion_column(self, error: pa.ArrowInvalid) -> str | None:
        """The column named by pyarrow's "In CSV column #i: CSV conversion error ...", if any.

        ``i`` counts the columns of the file, not the ones read.
        """
        message = str(error)
        if "conversion error" not in message or "column #" not in message:
            return None
        index = int(message.split("column #", 1)[1].split(":", 1)[0])
        return self.names[index] if index < len(self.names) else None

    def _not_text(self, columns: Sequence[str] = ()) -> NotUtf8:
        """The bytes do not decode with the encoding asked for: the first header name, or
        cell of ``columns`` (of any column if none), that does not.

        Every byte is a character in latin-1, so the file parses as CSV that way
        whatever it holds; each field is then decoded as the encoding says.
        """
        other = "latin-1" if self.encoding.lower().replace("-", "") != "latin1" else "utf-8"
        if self._head(2) in (b"\xff\xfe", b"\xfe\xff"):
            other = "utf-16"  # a byte-order mark says so
        hint = f"It's often worth trying: --encoding {other} (or save the file as UTF-8)"
        raw = self._bytes()
        if raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        parsed = csv.reader(
            io.StringIO(raw.decode("latin-1"), newline=""), delimiter=self.delimiter
        )
        records = (record for record in parsed if record)  # blank lines, as _text_rows
        header = [cell.encode("latin-1") for cell in next(records, [])]
        for cell in header:
            if not _decodes(cell, self.encoding):
                what = f"the header's name {cell!r} is not {self.encoding} text"
                return NotUtf8(what, file=self.label, hint=hint)
        names = [cell.decode(self.encoding) for cell in header]
        positions = [names.index(c) for c in columns if c in names] or range(len(names))
        bad: list[tuple[int, str, bytes]] = []
        for row, record in enumerate(records, start=1):
            cells = [(j, record[j].encode("latin-1")) for j in positions if j < len(record)]
            wrong = [(j, cell) for j, cell in cells if not _decodes(cell, self.encoding)]
            if wrong:
                bad.append((row, names[wrong[0][0]], wrong[0][1]))
        if not bad:  # (an encoding that this parse cannot follow, such as UTF-16)
            return NotUtf8(f"is not valid {self.encoding} text", file=self.label, hint=hint)
        row, column, value = bad[0]
        return NotUtf8(
            f"{value!r} is not {self.encoding} text",
            file=self.label,
            column=column,
            row=row,
            count=len(bad),
            hint=hint,
        )

    def _bytes(self) -> bytes:
        """The whole input, decompressed (for the slow paths that explain an error)."""
        with pa.input_stream(self.path, compression=self.source.compression) as stream:
            return bytes(stream.read())

    def _head(self, n: int, raw: bool = False) -> bytes:
        """The first ``n`` bytes, decompressed unless ``raw``."""
        compression = None if raw else self.source.compression
        with pa.input_stream(self.path, compression=compression) as stream:
            head: bytes = stream.read(n)
        return head

    def _text_rows(self) -> Iterator[list[str]]:
        """Every record of the file, header first, parsed by Python's csv (slow path)."""
        text = self._bytes().decode(self.encoding, errors="replace").lstrip("\ufeff")
        records = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter)
        return (record for record in records if record)  # pyarrow skips blank lines too

    def _explain(self, error: pa.ArrowInvalid, columns: Sequence[str]) -> InputError:
        """Turn pyarrow's message into one that names the row and says what to do."""
        message = str(error)
        if "Empty CSV file" in message:
            return EmptyFile("is empty", file=self.label, hint="Give a file with a header row")
        if "utf8" in message.lower() or not _decodes(self._bytes(), self.encoding):
            return self._not_text(columns)  # a stray byte can look like anything else
        rows = self._text_rows()
        header = next(rows, [])
        if "Expected" in message and "columns, got" in message:
            ragged = [
                (row, len(record))
                for row, record in enumerate(rows, start=1)
                if len(record) != len(header)
            ]
            if ragged:
                row, got = ragged[0]
                return RaggedRow(
                    f"has {got} field{'s' if got != 1 else ''} where the header has {len(header)}",
                    file=self.label,
                    row=row,
                    count=len(ragged),
                    hint="Fix the row, or check the delimiter and quoting",
                )
        column = self._conversion_column(error)
        if column is not None and column in header:
            position = header.index(column)
            _raise_first_non_number(
                self.label, column, (r[position] if position < len(r) else "" for r in rows)
            )
        return UnparsableCsv(f"cannot be parsed as CSV: {message}", file=self.label)


class ParquetTable(InputTable):
    """A Parquet file."""

    def __init__(self, source: Source) -> None:
        import pyarrow.parquet as pq

        self.source = source
        try:
            # Column chunks read through a 1 MiB buffer, page by page: memory then
            # follows the batch, not the row group (which the file's writer chose).
            self._file = pq.ParquetFile(str(source.path), buffer_size=1 << 20, pre_buffer=False)
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
                    error.count = (error.count or 1) + sum(len(_non_numbers(v)) for v in rest)
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

    def size(self) -> tuple[int, str] | None:
        return int(self._file.metadata.num_rows), "rows"

    def done(self) -> int:
        return self._rows_done


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


class PartsTable(InputTable):
    """The parts of a glob or a directory, read one after another as one table.

    Each part is read by a table of its own (:class:`CsvTable`,
    :class:`ParquetTable`) whose label is the part's path, so that an error in a
    part names that file and its row. ``label`` is the argument as given and
    ``parts`` the parts' paths, in the order of :func:`lossctl.io.sources.resolve_parts`.
    Every part must have the same columns, in any order. The ``key=value``
    directories of Hive partitions (``preds/date=2024-01-01/part-0.parquet``) add
    columns of text (null for ``__HIVE_DEFAULT_PARTITION__``). A CSV column may
    have one type in a part and another in the next: batches may differ in type.

    Parquet parts are closed between reads, so that thousands of parts do not hold
    thousands of open files.
    """

    def __init__(self, parts: Parts, encoding: str = "utf-8") -> None:
        self.sources = parts.sources
        self.encoding = encoding
        self.partitions = [parts.partitions(source) for source in parts.sources]
        self._tables: list[InputTable | None] = []
        self._sizes: list[tuple[int, str] | None] = []
        self._done_before = 0
        self._current: InputTable | None = None
        first: InputTable | None = None
        for index, source in enumerate(parts.sources):
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

    def _open(self, source: Source) -> InputTable:
        if source.format == "parquet":
            return ParquetTable(source)
        return CsvTable(source, self.encoding)

    def _part(self, index: int) -> InputTable:
        table = self._tables[index]
        if table is None:
            table = self._tables[index] = self._open(self.sources[index])
        return table

    def _release(self, index: int) -> None:
        """Close a Parquet part's file (it is opened again when read)."""
        table = self._tables[index]
        if isinstance(table, ParquetTable):
            table._file.close()
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
    if not _is_number(value):
        _raise_first_non_number(label, column, [value])
    return pa.repeat(pa.scalar(float(value), pa.float64()), n)


def open_table(data: object, label: str, encoding: str = "utf-8") -> InputTable:
    """Open a path, ``-``, a DataFrame, a pyarrow Table, or an array as an InputTable.

    A path may also be a glob (``'preds/*.parquet'``) or a directory of parts: see
    :func:`lossctl.io.sources.resolve_parts` and :class:`PartsTable`. ``encoding``
    is the text encoding of CSV input (Parquet is always UTF-8).
    """
    if isinstance(data, (str, bytes)) or hasattr(data, "__fspath__"):
        from lossctl.io.sources import resolve, resolve_parts

        spec = str(data if not isinstance(data, bytes) else data.decode())
        parts = resolve_parts(spec)
        if parts is not None:
            return PartsTable(parts, encoding)
        source = resolve(spec)
        if source.format == "parquet":
            return ParquetTable(source)
        return CsvTable(source, encoding)
    return ArrowTable(label, _to_arrow(data, label))


def _to_arrow(data: object, label: str) -> pa.Table:
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
            _check_unique(list(frame.columns), label)
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
