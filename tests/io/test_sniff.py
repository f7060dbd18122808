"""A file whose name says text but whose bytes are another format is named for what it is,
as the format's own writer made it (pyarrow, NumPy, gzip, bz2, zstd, zipfile); a text file
whose header happens to start like one is read as text. A cell of binary noise is shown cut
short, and the hint says it looks binary instead of suggesting another encoding."""

from __future__ import annotations

import bz2
import gzip
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from tests.cli.helpers import assert_input_error, eval_value, run_eval

CSV = b"p\n0.2\n0.7\n"


def _parquet() -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table({"p": [0.2, 0.7]}), sink)
    return sink.getvalue()


def _arrow() -> bytes:
    sink = io.BytesIO()
    feather.write_feather(pa.table({"p": [0.2, 0.7]}), sink)
    return sink.getvalue()


def _npy() -> bytes:
    sink = io.BytesIO()
    np.save(sink, np.array([0.2, 0.7]))
    return sink.getvalue()


def _zstd() -> bytes:
    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, "zstd") as stream:
        stream.write(CSV)
    return bytes(sink.getvalue())


def _xlsx() -> bytes:
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return sink.getvalue()


CASES: list[tuple[str, Callable[[], bytes], str, str]] = [
    ("preds.csv", _parquet, "Parquet data", "Rename it to preds.parquet"),
    ("preds.csv", _arrow, "Arrow IPC data", "Rename it to preds.arrow"),
    ("preds.tsv", _npy, "a NumPy .npy array", "Rename it to preds.npy"),
    ("preds.csv", lambda: gzip.compress(CSV), "gzip-compressed data", "preds.csv.gz"),
    ("preds.csv", lambda: bz2.compress(CSV), "bzip2-compressed data", "preds.csv.bz2"),
    ("preds.csv", _zstd, "zstd-compressed data", "preds.csv.zst"),
    ("preds.jsonl", _xlsx, "a ZIP archive (an Excel workbook?)", "Export the data as CSV"),
]


@pytest.mark.parametrize(("name", "make", "what", "fix"), CASES, ids=lambda v: str(v)[:24])
def test_a_misnamed_file_is_named_for_what_it_is(
    name: str, make: Callable[[], bytes], what: str, fix: str, tmp_path: Path
) -> None:
    (tmp_path / name).write_bytes(make())
    (tmp_path / "targets.csv").write_text("y\n0\n1\n")
    said = {"csv": "CSV", "tsv": "TSV", "jsonl": "JSON Lines"}[name.rsplit(".", 1)[1]]
    result = run_eval(str(tmp_path / name), str(tmp_path / "targets.csv"))
    line = assert_input_error(result, f"holds {what}, but its name says {said}", fix)
    assert "\\x" not in line


def test_renamed_as_the_message_says_it_reads(tmp_path: Path) -> None:
    """The fix works: the gzip file renamed .csv.gz gives the plain file's loss."""
    (tmp_path / "plain.csv").write_bytes(CSV)
    (tmp_path / "preds.csv.gz").write_bytes(gzip.compress(CSV))
    (tmp_path / "targets.csv").write_text("y\n0\n1\n")
    targets = str(tmp_path / "targets.csv")
    expected = eval_value(str(tmp_path / "plain.csv"), targets)
    assert eval_value(str(tmp_path / "preds.csv.gz"), targets) == expected


@pytest.mark.parametrize("header", [b"PAR1,p\n", b"BZh,p\n", b"PK,p\n", b"ARROW1,p\n"])
def test_a_text_header_that_starts_like_a_signature_is_text(header: bytes, tmp_path: Path) -> None:
    (tmp_path / "preds.csv").write_bytes(header + b"1,0.2\n2,0.7\n")
    (tmp_path / "targets.csv").write_text("y\n0\n1\n")
    result = run_eval(str(tmp_path / "preds.csv"), str(tmp_path / "targets.csv"), "--pred-col", "p")
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("line_breaks", [True, False])
def test_binary_noise_is_cut_short_and_called_binary(
    line_breaks: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Noise with line breaks, or none (one "header" line, which pyarrow calls empty)."""
    noise = np.random.default_rng(0).integers(0, 256, 3000, dtype=np.uint8).tobytes()
    if not line_breaks:
        noise = noise.replace(b"\n", b"").replace(b"\r", b"")
    (tmp_path / "preds.csv").write_bytes(noise)
    (tmp_path / "targets.csv").write_text("y\n0\n1\n")
    monkeypatch.chdir(tmp_path)
    result = run_eval("preds.csv", "targets.csv")
    line = assert_input_error(result, "is not utf-8 text", "looks like binary data")
    assert len(line) < 200 and "bytes)" in line and "--encoding" not in line


def test_one_line_without_a_line_break_is_a_header_alone(tmp_path: Path) -> None:
    (tmp_path / "preds.csv").write_bytes(b"p")
    (tmp_path / "targets.csv").write_text("y\n0\n1\n")
    result = run_eval(str(tmp_path / "preds.csv"), str(tmp_path / "targets.csv"))
    assert_input_error(result, "preds.csv: has a header but no data rows")


def test_a_long_cell_is_cut_short(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "preds.csv").write_text("p\n" + "x" * 5000 + "\n0.5\n")
    (tmp_path / "targets.csv").write_text("y\n0\n1\n")
    monkeypatch.chdir(tmp_path)
    result = run_eval("preds.csv", "targets.csv")
    line = assert_input_error(result, "row 1", "(5000 characters) is not a number")
    assert len(line) < 200


@pytest.mark.parametrize(
    ("name", "text", "found"),
    [
        ("preds.csv", "p;q\n0.1;0.9\n0.3;0.7\n", "'0.1;0.9' is not a number"),
        ("preds.csv", "p;q\n0,1;0,9\n0,3;0,7\n", "has 3 fields where the header has 1"),
        ("preds.tsv", "p,q\n0.1,0.9\n0.3,0.7\n", "'0.1,0.9' is not a number"),
    ],
)
def test_a_file_separated_by_another_delimiter_says_so(
    name: str, text: str, found: str, tmp_path: Path
) -> None:
    """A spreadsheet's export with semicolons (and decimal commas), or commas in a .tsv."""
    (tmp_path / name).write_text(text)
    (tmp_path / "targets.csv").write_text("y\n0\n1\n")
    result = run_eval(str(tmp_path / name), str(tmp_path / "targets.csv"))
    separator = "','" if name.endswith(".tsv") else "';'"
    assert_input_error(result, found, f"Its header looks separated by {separator}")
