"""Why pyarrow refused a CSV file: the first offending row, found while streaming.

pyarrow's messages name no row. The functions here read the input again as a
stream and find the first offending row and how many rows are affected, in
memory of one block (pyarrow's) or one record (Python's csv), whatever the
size of the file. pyarrow does the reading where it can: a column that should
hold numbers is read as text, cells that should be UTF-8 as bytes, and lines
without quotes one at a time to count their fields; Python looks only at a
block that holds the trouble. Where a plain file's ranges say at which byte the
refused rows begin (:class:`Start`), nothing before it is read again.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections.abc import Generator, Iterator, Sequence
from contextlib import closing
from typing import Any, NamedTuple, Protocol

import pyarrow as pa
import pyarrow.csv as pacsv

from lossctl.errors import (
    EmptyFile,
    HeaderOnly,
    InputError,
    NonNumeric,
    NotUtf8,
    RaggedRow,
    UnparsableCsv,
)
from lossctl.io.sources import Source
from lossctl.io.table import non_numbers, shown


class CsvInput(Protocol):
    """What the explanations read of a :class:`lossctl.io.csv.CsvTable` (this module is
    imported by it, so it names the parts it uses rather than the class)."""

    label: str
    path: str
    source: Source
    encoding: str
    delimiter: str
    names: list[str]
    has_header: bool | None
    block_size: int
    newlines_in_values: bool

    def read_options(self, block: int | None = None) -> pacsv.ReadOptions: ...

    def conversion_column(self, error: pa.ArrowInvalid) -> str | None: ...

    def head(self, n: int, raw: bool = False) -> bytes: ...


#: The bytes that Python reads from a stream at a time (decoding, Python's csv).
CHUNK = 1 << 20


class Start(NamedTuple):
    """Where the rows that pyarrow refused begin: ``row`` data rows come before them, all
    good; ``offset``, if known, is the byte of the (plain) file where the next row begins.
    """

    row: int = 0
    offset: int | None = None


#: The start of the file: nothing is known to be good.
FIRST_ROW = Start()


def explain(
    table: CsvInput, error: pa.ArrowInvalid, columns: Sequence[str], start: Start = FIRST_ROW
) -> InputError:
    """Turn pyarrow's message into an error that names the row and says what to do."""
    message = str(error)
    if "Empty CSV file" in message:
        return _empty(table)
    if "utf8" in message.lower():
        return not_text(table, columns, start)
    column = table.conversion_column(error)
    if column is not None:
        found = non_numeric(table, column, start)
        if found is not None:
            return found
    if not decodes(table):
        return not_text(table, columns, start)  # a stray byte can look like anything else
    if "Expected" in message and "columns, got" in message:
        ragged = ragged_row(table, start)
        if ragged is not None:
            return ragged
    if column is not None:  # pragma: no cover - pyarrow refused a value Python accepts
        return NonNumeric("cannot read this column as numbers", file=table.label, column=column)
    return UnparsableCsv(f"cannot be parsed as CSV: {message}", file=table.label)


def _open(table: CsvInput, start: Start) -> Any:
    """The input from the byte ``start.offset`` of the (plain) file, if known, else from
    its first byte, decompressed."""
    if start.offset:
        stream = pa.OSFile(table.path)
        stream.seek(start.offset)
        return stream
    return pa.input_stream(table.path, compression=table.source.compression)


def _stream(
    table: CsvInput, columns: Sequence[str], kind: pa.DataType, start: Start, skip: bool = False
) -> Iterator[pa.RecordBatch]:
    """The ``columns`` as ``kind`` (text or bytes), batch by batch, from the byte
    ``start.offset`` if known (the rows before it are not parsed again), else from the
    first row, to the end. (pyarrow's ``skip_rows_after_names`` would count blank lines
    as rows, so it cannot start at a row.)

    ``skip``: leave out ragged rows (when they come after the rows that matter: a ragged
    row stops the typed read before the values of its block are converted).
    """
    read = table.read_options()
    if start.offset:
        read.column_names = table.names
    parse = pacsv.ParseOptions(
        delimiter=table.delimiter,
        newlines_in_values=table.newlines_in_values,
        invalid_row_handler=(lambda _: "skip") if skip else None,
    )
    convert = pacsv.ConvertOptions(
        include_columns=list(columns),
        column_types=dict.fromkeys(columns, kind),
        strings_can_be_null=kind == pa.string(),
    )
    with _open(table, start) as stream:
        yield from pacsv.open_csv(
            stream, read_options=read, parse_options=parse, convert_options=convert
        )


def _first_row(start: Start) -> int:
    """The number of the first row that :func:`_stream` gives from ``start``."""
    return start.row + 1 if start.offset else 1


def _all_numbers(values: pa.Array) -> bool:
    """Whether pyarrow reads every value (text or missing) as a float."""
    try:
        values.cast(pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def non_numeric(table: CsvInput, column: str, start: Start) -> InputError | None:
    """The first value of ``column`` after ``start`` that is not a number, with the count of
    such values to the end of the file; None if there is none (or the file cannot be read
    so far: the caller says why)."""
    first: tuple[int, Any] | None = None
    count = 0
    row = _first_row(start)
    try:
        for record in _stream(table, [column], pa.string(), start, skip=True):
            values = record.column(0)
            if not _all_numbers(values):  # the rare block: see which values, in Python
                bad = non_numbers(values.to_pylist(), row)
                first = first or (bad[0] if bad else None)
                count += len(bad)
            row += len(values)
    except pa.ArrowInvalid as error:
        if "utf8" in str(error).lower():
            return not_text(table, [column], start)
        if first is None:
            return None  # (else the first is named, with the count so far)
    except UnicodeError:
        return not_text(table, [column], start)
    if first is None:
        return None
    bad_row, value = first
    return NonNumeric(
        f"{shown(value)} is not a number",
        file=table.label,
        column=column,
        row=bad_row,
        count=count,
        hint=_other_delimiter(table)
        or "Fix the value, or pick numeric prediction columns with --pred-col",
    )


def _other_delimiter(table: CsvInput) -> str | None:
    """A hint for a file whose header is one column whose name holds another common
    delimiter (a semicolon-separated file from a spreadsheet set to a decimal comma, say)."""
    if table.has_header is False:
        return None
    line = table.head(1 << 16).split(b"\n", 1)[0].decode(table.encoding, "replace")
    if table.delimiter in line:
        return None
    found = [d for d in ";|\t," if d in line]
    if not found:
        return None
    kind = "tab-separated text (TSV)" if table.delimiter == "\t" else "comma-separated text"
    return (
        f"Its header looks separated by {found[0]!r}, but lossctl reads this file as {kind}: "
        "save it with commas (.csv) or tabs (.tsv)"
    )


def decodes(table: CsvInput) -> bool:
    """Whether the whole input is text in the table's encoding (read a MiB at a time)."""
    decoder = codecs.getincrementaldecoder(table.encoding)()
    with pa.input_stream(table.path, compression=table.source.compression) as stream:
        try:
            while chunk := stream.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _records(
    table: CsvInput, encoding: str, errors: str = "strict", start: Start = FIRST_ROW
) -> Generator[list[str], None, None]:
    """Every record of the input, header first, parsed by Python's csv as a stream (slow:
    for errors only); from the byte ``start.offset`` if known, with no header. A
    byte-order mark is left out, and blank lines, as pyarrow does. A file without a
    header line (``--no-header``) gets its names by position first, as if it had one."""
    if not start.offset and not table.has_header:
        yield list(table.names)
    mark = codecs.BOM_UTF8.decode(encoding, errors="replace") if encoding == "latin-1" else ""
    with _open(table, start) as stream:
        text = io.TextIOWrapper(
            io.BufferedReader(_Raw(stream), CHUNK), encoding=encoding, errors=errors, newline=""
        )
        lines = iter(text)
        head = next(lines, "").lstrip("\ufeff")
        if mark:
            head = head.removeprefix(mark)
        records = csv.reader(itertools.chain([head], lines), delimiter=table.delimiter)
        yield from (record for record in records if record)


class _Raw(io.RawIOBase):
    """A pyarrow input stream as a Python raw stream, for io.BufferedReader."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


#: The first ragged row (row, fields) if any, the rows that are ragged, the header's fields.
Ragged = tuple[tuple[int, int] | None, int, int]


def ragged_row(table: CsvInput, start: Start = FIRST_ROW) -> RaggedRow | None:
    """The first row whose number of fields is not the header's, and how many are so (from
    ``start.offset`` if known: the rows before it have as many fields as the header)."""
    found = _ragged_lines(table, start)
    if found is None:  # quotes: Python's csv reads the records
        found = _ragged_records(table, start)
    first, count, fields = found
    if first is None:
        return None
    row, got = first
    reference = "header" if table.has_header else "first line"
    return RaggedRow(
        f"has {got} field{'s' if got != 1 else ''} where the {reference} has {fields}",
        file=table.label,
        row=row,
        count=count,
        hint=_other_delimiter(table) or "Fix the row, or check the delimiter and quoting",
    )


def _ragged_lines(table: CsvInput, start: Start) -> Ragged | None:
    """:data:`Ragged`, read by pyarrow a line at a time: with no quote, a line is a record,
    and its fields are its delimiters and one. None if a line has a quote (or the
    encoding does not keep the delimiter and line breaks as bytes of their own)."""
    import pyarrow.compute as pc

    if codecs.lookup(table.encoding).name not in ("utf-8", "iso8859-1", "cp1252"):
        return None
    read = pacsv.ReadOptions(
        encoding=table.encoding, block_size=table.block_size, column_names=["line"]
    )
    # The unit separator as the delimiter: every line is one field (else pyarrow refuses it)
    parse = pacsv.ParseOptions(delimiter="\x1f", quote_char=False)
    convert = pacsv.ConvertOptions(column_types={"line": pa.binary()})
    first: tuple[int, int] | None = None
    count = 0
    fields = len(table.names) if start.offset or not table.has_header else None
    row = _first_row(start)
    with _open(table, start) as stream:
        try:
            for record in pacsv.open_csv(stream, read, parse, convert):
                lines = record.column(0)
                if fields is None and len(lines):  # the header (a BOM is not a delimiter)
                    header = lines[0].as_py()
                    if header.count(b'"') % 2:
                        return None
                    fields = len(
                        next(csv.reader([header.decode("latin-1")], delimiter=table.delimiter))
                    )
                    lines = lines[1:]
                if pc.any(pc.greater(pc.count_substring(lines, '"'), 0)).as_py():
                    return None
                counts = pc.add(pc.count_substring(lines, table.delimiter), 1)
                ragged = pc.indices_nonzero(pc.not_equal(counts, fields))
                if len(ragged):
                    at = ragged[0].as_py()
                    first = first or (row + at, counts[at].as_py())
                    count += len(ragged)
                row += len(lines)
        except (pa.ArrowInvalid, UnicodeError):
            return None
    return first, count, fields or 0


def _ragged_records(table: CsvInput, start: Start) -> Ragged:
    """:data:`Ragged`, read by Python's csv (slow)."""
    first: tuple[int, int] | None = None
    count = 0
    with closing(_records(table, table.encoding, "replace", start)) as rows:
        header = table.names if start.offset else next(rows, [])
        for row, record in enumerate(rows, start=_first_row(start)):
            if len(record) != len(header):
                first = first or (row, len(record))
                count += 1
    return first, count, len(header)


def _decodes(raw: bytes, encoding: str) -> bool:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def not_text(table: CsvInput, columns: Sequence[str] = (), start: Start = FIRST_ROW) -> NotUtf8:
    """The bytes do not decode with the encoding asked for: the first header name, or
    cell of ``columns`` (of any column if none), that does not, after ``start``.

    Every byte is a character in latin-1, so the file parses as CSV that way
    whatever it holds; each field is then decoded as the encoding says. UTF-8 is read
    by pyarrow as bytes, block by block, and only a block that is not all text is
    looked at in Python.
    """
    encoding = table.encoding
    other = "latin-1" if encoding.lower().replace("-", "") != "latin1" else "utf-8"
    if table.head(2) in (b"\xff\xfe", b"\xfe\xff"):
        other = "utf-16"  # a byte-order mark says so
    hint = f"It's often worth trying: --encoding {other} (or save the file as UTF-8)"
    with closing(_records(table, "latin-1")) as records:
        header = [cell.encode("latin-1") for cell in next(records, [])]
    for cell in header:
        if not _decodes(cell, encoding):
            what = f"the header's name {shown(cell)} is not {encoding} text"
            if other != "utf-16" and _looks_binary(table.head(4096)):
                hint = "It looks like binary data: check that it is a CSV file"
            return NotUtf8(what, file=table.label, hint=hint)
    names = [cell.decode(encoding) for cell in header]
    chosen = [c for c in columns if c in names] or names
    found = None
    if codecs.lookup(encoding).name == "utf-8":
        found = _cells_not_utf8(table, chosen, start)
    if found is None:
        found = _cells_not_text(table, names, chosen)
    first, count = found
    if first is None:  # (an encoding that this parse cannot follow, such as UTF-16)
        return NotUtf8(f"is not valid {encoding} text", file=table.label, hint=hint)
    row, column, value = first
    return NotUtf8(
        f"{shown(value)} is not {encoding} text",
        file=table.label,
        column=column,
        row=row,
        count=count,
        hint=hint,
    )


def _empty(table: CsvInput) -> InputError:
    """What pyarrow calls an empty file: truly empty (or blank), or one line without a line
    break after it, which is a header alone (or not text at all)."""
    if not table.head(1 << 16).strip(b"\xef\xbb\xbf \t\r\n"):
        return EmptyFile("is empty", file=table.label, hint="Give a file with a header row")
    if not decodes(table):
        return not_text(table)
    return HeaderOnly(
        "has a header but no data rows", file=table.label, hint="Give at least one row"
    )


def _looks_binary(data: bytes) -> bool:
    """Whether ``data`` holds a NUL byte, or control characters other than tabs and line
    breaks in more than one byte of ten: not text in any 8-bit or UTF-8 encoding."""
    controls = sum(data.count(bytes([c])) for c in range(32) if c not in (9, 10, 13))
    return b"\x00" in data or controls * 10 > len(data)


#: The first cell that is not text (row, column, bytes), if any, and the rows that have one.
Cells = tuple[tuple[int, str, bytes] | None, int]


def _first_wrong(row: int, cells: Sequence[tuple[str, bytes | None]], encoding: str) -> Any:
    """The first of a row's (column, bytes) ``cells`` that does not decode, as
    (row, column, bytes), or None."""
    for name, cell in cells:
        if cell is not None and not _decodes(cell, encoding):
            return row, name, cell
    return None


def _cells_not_utf8(table: CsvInput, chosen: Sequence[str], start: Start) -> Cells | None:
    """:data:`Cells` of the ``chosen`` columns, read by pyarrow as bytes from ``start``;
    None if pyarrow cannot read them so (a ragged row: Python's csv counts it)."""
    first = None
    count = 0
    row = _first_row(start)
    try:
        for record in _stream(table, chosen, pa.binary(), start):
            cells = [record.column(name) for name in chosen]
            if not all(_all_text(column) for column in cells):
                values = [column.to_pylist() for column in cells]
                for i in range(record.num_rows):
                    pairs = [(name, column[i]) for name, column in zip(chosen, values, strict=True)]
                    wrong = _first_wrong(row + i, pairs, "utf-8")
                    first = first or wrong
                    count += wrong is not None
            row += record.num_rows
    except (pa.ArrowInvalid, KeyError, UnicodeError):
        return None
    return first, count


def _all_text(values: pa.Array) -> bool:
    """Whether every value (bytes) is UTF-8 text."""
    try:
        values.cast(pa.string())
    except pa.ArrowInvalid:
        return False
    return True


def _cells_not_text(table: CsvInput, names: Sequence[str], chosen: Sequence[str]) -> Cells:
    """:data:`Cells` of the ``chosen`` columns, read by Python's csv (any encoding; slow)."""
    positions = [names.index(c) for c in chosen]
    first = None
    count = 0
    with closing(_records(table, "latin-1")) as records:
        next(records, [])
        for row, record in enumerate(records, start=1):
            cells = [(names[j], record[j].encode("latin-1")) for j in positions if j < len(record)]
            wrong = _first_wrong(row, cells, table.encoding)
            first = first or wrong
            count += wrong is not None
    return first, count
