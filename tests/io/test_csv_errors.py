"""A bad row is named exactly, and found while streaming, wherever it is in the file.

With ``BLOCK`` (pyarrow's block) and the ranges made small, a file of a few
thousand rows crosses many blocks: a value that is not a number, at the first
row, inside a block, at either side of a block's or a range's edge and at the
last row, is named with its file, column and row (counted from 1, the header
not counted), in plain, compressed and piped input alike. The slow paths hold
one block, not the file: the Python memory they take stays far below the
file's size (measured with tracemalloc, never timed).
"""

from __future__ import annotations

import bz2
import gzip
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute  # (imported by a cast: not counted in the memory of the read)
import pyarrow.csv as pacsv
import pytest

from lossctl.errors import InputError, NonNumeric, NotUtf8, RaggedRow
from lossctl.io import csv as csv_reader
from lossctl.io import csv_errors
from lossctl.io.readers import open_table
from tests.cli.helpers import assert_input_error, run_eval

N = 3000
BLOCK = 4 << 10
HINT = "Fix the value, or pick numeric prediction columns with --pred-col"
KINDS = ["plain", "ranges", "gzip", "bz2", "stdin"]


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 4 KiB; no ranges, unless a test asks for them."""
    monkeypatch.setattr(csv_reader, "BLOCK", BLOCK)
    monkeypatch.setattr(csv_reader, "RANGE", 1 << 40)
    monkeypatch.setattr(csv_reader, "MIN_RANGE", 1 << 40)


def _small_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_reader, "RANGE", BLOCK)
    monkeypatch.setattr(csv_reader, "MIN_RANGE", BLOCK)


def _rows(n: int = N) -> list[list[str]]:
    """Rows of an id and two values of four characters each, so that "oops" takes the
    place of a value without moving an edge."""
    values = np.random.default_rng(0).random((n, 2))
    return [[str(i), f"{a:.2f}", f"{b:.2f}"] for i, (a, b) in enumerate(values)]


def _text(rows: list[list[str]], header: str = "id,a,b", sep: str = ",", end: str = "\n") -> str:
    return end.join([header.replace(",", sep), *(sep.join(r) for r in rows)]) + end


def _edges(data: bytes) -> list[int]:
    """The rows on either side of the first edges of the blocks (as pyarrow reads the
    file) and of the ranges (cut at the first line break after each multiple of BLOCK)."""
    reader = pacsv.open_csv(pa.py_buffer(data), read_options=pacsv.ReadOptions(block_size=BLOCK))
    ends = np.cumsum([batch.num_rows for batch in reader])[:3].tolist()
    for k in (1, 2):
        cut = data.index(b"\n", k * BLOCK) + 1
        ends.append(data[:cut].count(b"\n") - 1)  # (the header's line is not a row)
    return sorted({row for end in ends for row in (end, end + 1)})


def _open(path: Path, kind: str) -> Path:
    """The file to give for ``kind``: compressed as its name says, or as it is."""
    data = path.read_bytes()
    if kind == "gzip":
        path = path.with_suffix(".csv.gz")
        path.write_bytes(gzip.compress(data))
    elif kind == "bz2":
        path = path.with_suffix(".csv.bz2")
        path.write_bytes(bz2.compress(data))
    return path


def _error(path: Path, kind: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The one line of the error that reading ``path`` as ``kind`` gives."""
    if kind == "ranges":
        _small_ranges(monkeypatch)
    if kind == "stdin":
        targets = path.with_name("targets.csv")
        targets.write_text(_text([[r[0], "1"] for r in _rows()], "id,y"))
        result = run_eval("-", str(targets), "--id", "id", input=path.read_bytes())
        line = assert_input_error(result)
        return line.removeprefix("lossctl: error: ")
    given = _open(path, kind)
    with pytest.raises(InputError) as info:
        open_table(str(given), "predictions").read(numeric=["a", "b"], other=["id"])
    return str(info.value).replace(str(given), "FILE")


def _label(kind: str) -> str:
    return "-" if kind == "stdin" else "FILE"


def _positions() -> list[int]:
    return sorted({1, 2, 500, *_edges(_text(_rows()).encode()), N - 1, N})


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("row", _positions())
def test_the_row_of_a_value_that_is_not_a_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, row: int
) -> None:
    rows = _rows()
    rows[row - 1][2] = "oops"
    path = tmp_path / "preds.csv"
    path.write_text(_text(rows))
    line = _error(path, kind, monkeypatch)
    assert line == f"{_label(kind)}, column 'b', row {row}: 'oops' is not a number. {HINT}"


@pytest.mark.parametrize("kind", KINDS)
def test_every_bad_value_to_the_end_is_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    rows = _rows()
    for row in (1700, 1701, 2400, N):
        rows[row - 1][1] = "oops" if row != 1701 else "high"
    rows[2999][2] = "nope"  # another column: not counted
    path = tmp_path / "preds.csv"
    path.write_text(_text(rows))
    line = _error(path, kind, monkeypatch)
    assert (
        line
        == f"{_label(kind)}, column 'a', row 1700: 'oops' is not a number (4 rows affected). {HINT}"
    )


def _shaped(shape: str, rows: list[list[str]]) -> bytes:
    """The rows as CSV of some ``shape``; the row numbers stay those of ``rows``."""
    if shape == "bom, crlf":
        return b"\xef\xbb\xbf" + _text(rows, end="\r\n").encode()
    if shape == "tsv":
        return _text(rows, sep="\t").encode()
    if shape == "blank lines":
        return _text(rows).replace("\n", "\n\n", 700).encode()
    # quoted ids with a line break (and a delimiter) in them, every 100 rows
    quoted = [[f'"{r[0]},\n{r[0]}"' if int(r[0]) % 100 == 7 else r[0], *r[1:]] for r in rows]
    return _text(quoted).encode()


@pytest.mark.parametrize("ranges", [False, True], ids=["blocks", "ranges"])
@pytest.mark.parametrize("shape", ["bom, crlf", "tsv", "blank lines", "quoted line breaks"])
def test_rows_are_counted_as_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: str, ranges: bool
) -> None:
    if ranges:
        _small_ranges(monkeypatch)
    rows = _rows()
    for row in (2222, 2900):
        rows[row - 1][1] = "oops"
    path = tmp_path / ("preds.tsv" if shape == "tsv" else "preds.csv")
    path.write_bytes(_shaped(shape, rows))
    with pytest.raises(NonNumeric) as info:
        open_table(str(path), "predictions").read(numeric=["a", "b"], other=["id"])
    assert (info.value.column, info.value.row, info.value.count) == ("a", 2222, 2)


@pytest.mark.parametrize("quoted", [False, True], ids=["bare", "quoted ids"])
@pytest.mark.parametrize("kind", ["plain", "ranges", "gzip"])
def test_a_late_ragged_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, quoted: bool
) -> None:
    """Counted by lines where there is no quote, by Python's csv where there is."""
    rows = [[f'"{r[0]}"' if quoted else r[0], *r[1:]] for r in _rows()]
    rows[2899].append("9")
    rows[2950].pop()
    path = tmp_path / "preds.csv"
    path.write_text(_text(rows))
    line = _error(path, kind, monkeypatch)
    assert line.startswith("FILE, row 2900: has 4 fields where the header has 3 (2 rows affected)")


@pytest.mark.parametrize("shape", ["bom, crlf", "tsv", "blank lines", "quoted line breaks"])
def test_ragged_rows_are_counted_as_records(tmp_path: Path, shape: str) -> None:
    rows = _rows()
    rows[2221].append("9")
    rows[2899].pop()
    path = tmp_path / ("preds.tsv" if shape == "tsv" else "preds.csv")
    path.write_bytes(_shaped(shape, rows))
    with pytest.raises(RaggedRow) as info:
        open_table(str(path), "predictions").read(numeric=["a", "b"], other=["id"])
    assert (info.value.row, info.value.count) == (2222, 2)
    assert info.value.message == "has 4 fields where the header has 3"


@pytest.mark.parametrize("column", ["id", "b"])
@pytest.mark.parametrize("kind", ["plain", "ranges", "gzip"])
def test_a_late_cell_that_is_not_utf8(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, column: str
) -> None:
    rows = _rows()
    rows[2950][0 if column == "id" else 2] = "caf!"
    rows[2990][0 if column == "id" else 2] = "caf!"
    path = tmp_path / "preds.csv"
    path.write_bytes(_text(rows).encode().replace(b"caf!", b"caf\xe9"))
    line = _error(path, kind, monkeypatch)
    where = f"FILE, column '{column}', row 2951"
    assert line.startswith(rf"{where}: b'caf\xe9' is not utf-8 text (2 rows affected)")


# --------------------------------------------------------------------------- no header


def _headless_error(data: bytes, kind: str, path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The one line of the error that reading ``data`` without a header gives."""
    if kind == "ranges":
        _small_ranges(monkeypatch)
    path.write_bytes(data)
    given = _open(path, kind)
    with pytest.raises(InputError) as info:
        open_table(str(given), "predictions", no_header=True).read(numeric=["1", "2"], other=["0"])
    return str(info.value).replace(str(given), "FILE")


@pytest.mark.parametrize("kind", ["plain", "ranges", "gzip"])
@pytest.mark.parametrize("row", [1, 2, 1500, N])
def test_rows_of_a_file_without_a_header_count_from_its_first_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, row: int
) -> None:
    """--no-header: the first line is row 1, and every error says so."""
    rows = _rows()
    rows[row - 1][2] = "oops"
    data = _text(rows).encode().split(b"\n", 1)[1]  # the same rows, no header line
    line = _headless_error(data, kind, tmp_path / "preds.csv", monkeypatch)
    assert line == f"FILE, column '2', row {row}: 'oops' is not a number. {HINT}"


@pytest.mark.parametrize("kind", ["plain", "ranges", "gzip"])
def test_ragged_rows_and_bytes_of_a_file_without_a_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    rows = _rows()
    rows[0].append("9")  # (the first line's fields are the columns: the others are ragged)
    data = _text(rows).encode().split(b"\n", 1)[1]
    line = _headless_error(data, kind, tmp_path / "first.csv", monkeypatch)
    assert line.startswith(f"FILE, row 2: has 3 fields where the first line has 4 ({N - 1} rows")
    rows = _rows()
    rows[2899].append("9")
    rows[2950].pop()
    data = _text(rows).encode().split(b"\n", 1)[1]
    line = _headless_error(data, kind, tmp_path / "preds.csv", monkeypatch)
    assert line.startswith("FILE, row 2900: has 4 fields where the first line has 3 (2 rows")
    rows = _rows()
    rows[2950][0] = "caf!"
    data = _text(rows).encode().split(b"\n", 1)[1].replace(b"caf!", b"caf\xe9")
    line = _headless_error(data, kind, tmp_path / "other.csv", monkeypatch)
    assert line.startswith(r"FILE, column '0', row 2951: b'caf\xe9' is not utf-8 text")


# --------------------------------------------------------------------------- memory

ROWS_LARGE = 200_000  # about 3 MiB of CSV


@pytest.fixture
def python_memory() -> Iterator[Callable[[], int]]:
    """A function that gives the peak of Python's allocations, above what was allocated
    when it was last called, in bytes (the first call starts the count)."""
    tracemalloc.start()
    base = [0]

    def peak() -> int:
        current, top = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        base[0], above = current, top - base[0]
        return above

    try:
        yield peak
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "trouble", ["not a number", "not a number, gzip", "ragged", "not utf-8", "not a number, ranges"]
)
def test_a_late_error_is_found_in_memory_of_one_block(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    python_memory: Callable[[], int],
    trouble: str,
) -> None:
    """The old slow paths read the whole file (bytes, then text): over twice its size."""
    monkeypatch.setattr(csv_reader, "BLOCK", 64 << 10)
    monkeypatch.setattr(csv_errors, "CHUNK", 64 << 10)
    if trouble.endswith("ranges"):
        _small_ranges(monkeypatch)
        monkeypatch.setattr(csv_reader, "RANGE", 256 << 10)
    rows = _rows(ROWS_LARGE)
    late = ROWS_LARGE - 10
    if trouble.startswith("not a number"):
        rows[late - 1][1] = "oops"
    elif trouble == "ragged":
        rows[late - 1].append("9")
    data = _text(rows).encode()
    if trouble == "not utf-8":
        at = data.index(f"\n{late - 1},".encode()) + 1
        data = data[:at] + b"\xe9" + data[at + 1 :]
    path = tmp_path / "preds.csv"
    path.write_bytes(data)
    given = _open(path, "gzip" if trouble.endswith("gzip") else "plain")
    expected = {"ragged": RaggedRow, "not utf-8": NotUtf8}.get(trouble, NonNumeric)
    del rows
    python_memory()
    with pytest.raises(expected) as info:
        open_table(str(given), "predictions").read(numeric=["a", "b"], other=["id"])
    peak = python_memory()
    assert info.value.row == late
    assert peak < len(data) // 4, (peak, len(data))


# --------------------------------------------------------------------------- reading again


@pytest.mark.parametrize("why", ["a class name after numbers", "a quote after the ranges"])
def test_a_new_pass_after_blank_lines_gives_each_row_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, why: str
) -> None:
    """The reader starts again with other settings, and goes on after the rows it gave:
    blank lines before them are not rows (pyarrow's skip_rows_after_names counts them)."""
    rows = [[r[0], str(int(r[0]) % 3)] for r in _rows()]
    rows[2500][1] = "cat"
    if why.startswith("a quote"):  # (an escaped quote: the ranges cannot cut there)
        _small_ranges(monkeypatch)
        rows[2500][1] = '"cat"""'
    path = tmp_path / "preds.csv"
    path.write_text(_text(rows, "id,y").replace("\n", "\n\n", 50))
    data = open_table(str(path), "predictions").read(numeric=[], other=["id", "y"])
    assert [str(i) for i in data["id"].to_pylist()] == [str(i) for i in range(N)]
    assert data["y"].to_pylist()[2500] == ("cat" if why.startswith("a class") else 'cat"')
