"""Text as it comes: encodings, byte-order marks, line endings, quoting, long lines.

UTF-8 with or without a BOM and CRLF read as plain UTF-8 does; a file in
another encoding is an error that names its first undecodable cell and
suggests ``--encoding``, and with ``--encoding`` it reads.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import assert_input_error, run_eval

IDS = ["café", "thé", "名前", "a,b", 'q"t']
PROBS = ["0.25", "0.75", "0.5", "0.125", "0.875"]
LABELS = ["0", "1", "1", "0", "1"]


def _csv(header: list[str], *columns: list[str], newline: str = "\n") -> str:
    def cell(text: str) -> str:
        return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in ',"') else text

    rows = [header, *zip(*columns, strict=True)]
    return newline.join(",".join(cell(c) for c in row) for row in rows) + newline


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in a fresh directory, so that messages name the files as a user would."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _pair(here: Path, encoding: str = "utf-8", newline: str = "\n", bom: bool = False) -> None:
    preds = _csv(["id", "p"], IDS, PROBS, newline=newline)
    targets = _csv(["id", "y"], IDS[::-1], LABELS[::-1], newline=newline)
    prefix = "\ufeff" if bom else ""
    (here / "preds.csv").write_bytes((prefix + preds).encode(encoding))
    (here / "targets.csv").write_bytes((prefix + targets).encode(encoding))


def _json(*args: str) -> dict[str, Any]:
    result = run_eval("preds.csv", "targets.csv", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


@pytest.fixture
def expected(here: Path) -> dict[str, Any]:
    """The report of the plain UTF-8 pair, which every variant must reproduce."""
    _pair(here)
    return _json()


@pytest.mark.parametrize(
    ("variant", "options"),
    [
        ({"bom": True}, []),
        ({"newline": "\r\n"}, []),
        ({"bom": True, "newline": "\r\n"}, []),
        ({"bom": True}, ["--encoding", "utf-8-sig"]),
        ({"encoding": "utf-16"}, ["--encoding", "utf-16"]),
    ],
    ids=["bom", "crlf", "bom-crlf", "utf-8-sig", "utf-16"],
)
def test_utf8_variants_read_alike(
    here: Path, expected: dict[str, Any], variant: dict[str, Any], options: list[str]
) -> None:
    _pair(here, **variant)
    doc = _json(*options)
    assert doc["inputs"]["id_column"] == "id"  # the BOM is not part of the first name
    assert doc["detection"]["alignment"] == expected["detection"]["alignment"]
    assert doc["mean_loss"] == expected["mean_loss"]
    assert doc["n_samples"] == 5


def _ids(csv_text: str) -> list[str]:
    return [row[0] for row in csv.reader(io.StringIO(csv_text))][1:]


def test_ids_keep_their_characters(here: Path) -> None:
    _pair(here)
    result = run_eval("preds.csv", "targets.csv", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert _ids(result.stdout) == IDS


def test_latin1_without_encoding_names_the_first_cell_and_suggests_it(here: Path) -> None:
    ids = ["ok", "fine", "café", "thé", "x"]
    (here / "preds.csv").write_bytes(_csv(["id", "p"], ids, PROBS).encode("latin-1"))
    (here / "targets.csv").write_text(_csv(["id", "y"], ids, LABELS))
    line = assert_input_error(run_eval("preds.csv", "targets.csv"))
    assert line == (
        r"lossctl: error: preds.csv, column 'id', row 3: b'caf\xe9' is not utf-8 text "
        "(2 rows affected). It's often worth trying: --encoding latin-1 (or save the file "
        "as UTF-8)"
    )


@pytest.mark.parametrize(
    ("encoding", "ids"),
    [
        ("latin-1", ["café", "thé", "naïve", "ß", "x"]),
        ("cp1252", ["café", "€uro", "\u2018q\u2019", "x", "y"]),
    ],
)
def test_the_encoding_option_reads_it(here: Path, encoding: str, ids: list[str]) -> None:
    (here / "preds.csv").write_bytes(_csv(["id", "p"], ids, PROBS).encode(encoding))
    (here / "targets.csv").write_bytes(_csv(["id", "y"], ids, LABELS).encode(encoding))
    result = run_eval("preds.csv", "targets.csv", "--encoding", encoding, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert _ids(result.stdout) == ids


def test_utf16_without_encoding_suggests_utf16(here: Path) -> None:
    _pair(here)
    (here / "preds.csv").write_bytes(_csv(["id", "p"], IDS, PROBS).encode("utf-16"))
    line = assert_input_error(run_eval("preds.csv", "targets.csv"), "preds.csv")
    assert line.endswith("It's often worth trying: --encoding utf-16 (or save the file as UTF-8)")


def test_a_stray_byte_in_a_number_column_is_named_as_encoding(here: Path) -> None:
    """Not "'0.\ufffd5' is not a number": the byte is the problem, and --encoding the fix."""
    (here / "preds.csv").write_bytes(b"id,p\na,0.25\nb,0.\xb55\nc,0.5\n")
    (here / "targets.csv").write_text("id,y\na,0\nb,1\nc,1\n")
    line = assert_input_error(run_eval("preds.csv", "targets.csv"))
    assert line.startswith(r"lossctl: error: preds.csv, column 'p', row 2: b'0.\xb55' is not")


# --------------------------------------------------------------------------- layout


def test_blank_lines_do_not_shift_row_numbers(here: Path) -> None:
    (here / "preds.csv").write_text("\n\np\n0.5\n\nhigh\n0.25\n")
    (here / "targets.csv").write_text("y\n1\n0\n1\n")
    line = assert_input_error(run_eval("preds.csv", "targets.csv"))
    assert "preds.csv, column 'p', row 2: 'high' is not a number" in line


def test_quoted_line_breaks_across_pyarrow_blocks(here: Path) -> None:
    """Ids with line breaks in them, for more than one 1 MiB block (pyarrow: "Expected 2
    columns, got 1" or "out of sync with chunker" unless asked for newlines_in_values)."""
    n = 200_000
    ids = "".join(f'"r{i}\nline",0.5\n' for i in range(n))
    (here / "preds.csv").write_text("id,p\n" + ids)
    (here / "targets.csv").write_text("id,y\n" + ids.replace(",0.5\n", ",1\n"))
    doc = _json()
    assert doc["n_samples"] == n
    assert doc["inputs"]["id_column"] == "id"


def test_a_line_longer_than_a_block(here: Path) -> None:
    (here / "preds.csv").write_text("id,p\n" + "x" * 3_000_000 + ",0.5\nb,0.25\n")
    (here / "targets.csv").write_text("id,y\n" + "x" * 3_000_000 + ",1\nb,0\n")
    assert _json()["n_samples"] == 2


def test_a_weight_column_named_by_the_empty_header_is_checked_like_any(tmp_path: Path) -> None:
    """``--weight-col ''`` names the column whose header is empty (found by the fuzz test)."""
    (tmp_path / "p.csv").write_text(",b,c\n0.0,0.2,0.7\n0.0,0.5,0.5\n")
    (tmp_path / "t.csv").write_text("y\n0\n1\n")
    result = run_eval(str(tmp_path / "p.csv"), str(tmp_path / "t.csv"), "--weight-col", "")
    assert result.exit_code == 2
    assert "column '': every weight is zero" in result.stderr
