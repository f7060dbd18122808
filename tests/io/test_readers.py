"""Opening and reading inputs: every format reads the same data; every bad file is one clear error.

Each bad-file case is checked twice: through ``lossctl.io.readers.open_table``
(the exception's class and where-fields: file, column, row) and through the
command line (exit 2, empty stdout, one ``lossctl: error:`` line naming the
file, the column and the row where there is one, no traceback).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from lossctl.errors import ColumnError, InputError, LossctlError, SourceError
from lossctl.io.csv import CsvTable
from lossctl.io.parquet import ParquetTable
from lossctl.io.readers import open_table
from tests.cli.helpers import assert_input_error, csv_text, run_eval

Write = Callable[[str, str], str]

GOOD_TARGETS = csv_text(["id", "y"], [(1, 0), (2, 1), (3, 0), (4, 1)])


def _read_everything(path: str, numeric: list[str], other: list[str]) -> None:
    """Open and read, as an evaluation does: the errors may come at either step."""
    open_table(path, "predictions").read(numeric=numeric, other=other)


def _cli_error(write: Write, preds: str, *fragments: str) -> str:
    targets = write("targets.csv", GOOD_TARGETS)
    return assert_input_error(run_eval(preds, targets), preds, *fragments)


# --------------------------------------------------------------------------- formats

TABLE = pa.table(
    {
        "id": ["r1", "r2", "r3", "r4"],
        "p": [0.125, 0.5, 0.875, 1e-300],
        "k": [1, 2, 3, 4],
        "name": ["cat", "dog", "a,b", "bird"],
    }
)


def _write_as(path: Path) -> str:
    if path.name.endswith(".parquet"):
        pq.write_table(TABLE, path)
    else:
        delimiter = "\t" if ".tsv" in path.name else ","
        options = pacsv.WriteOptions(delimiter=delimiter, quoting_style="needed")
        with pa.output_stream(str(path), compression="detect") as stream:
            pacsv.write_csv(TABLE, stream, write_options=options)
    return str(path)


@pytest.mark.parametrize(
    "name",
    ["t.csv", "t.tsv", "t.csv.gz", "t.csv.bz2", "t.csv.zst", "t.parquet", "T.CSV", "t.tsv.gz"],
)
def test_every_format_reads_the_same_columns(tmp_path: Path, name: str) -> None:
    path = _write_as(tmp_path / name)
    table = open_table(path, "predictions")
    assert table.names == ["id", "p", "k", "name"]
    assert table.label == path
    data = table.read(numeric=["p", "k"], other=["id", "name"])
    assert set(data) == {"p", "k", "id", "name"}
    assert data["p"].type == pa.float64()
    assert data["k"].type == pa.float64()
    np.testing.assert_array_equal(data["p"].to_numpy(), [0.125, 0.5, 0.875, 1e-300])
    np.testing.assert_array_equal(data["k"].to_numpy(), [1.0, 2.0, 3.0, 4.0])
    assert data["id"].to_pylist() == ["r1", "r2", "r3", "r4"]
    assert data["name"].to_pylist() == ["cat", "dog", "a,b", "bird"]


def test_parquet_and_csv_tables_are_chosen_by_extension(tmp_path: Path) -> None:
    assert isinstance(open_table(_write_as(tmp_path / "t.parquet"), "x"), ParquetTable)
    assert isinstance(open_table(_write_as(tmp_path / "t.csv.gz"), "x"), CsvTable)


def test_utf8_bom_is_not_part_of_the_first_column_name(write: Write) -> None:
    path = write("bom.csv", "\ufeffid,p\n1,0.5\n")
    assert open_table(path, "predictions").names == ["id", "p"]


def test_quoted_cells_with_delimiters_and_newlines(write: Write) -> None:
    path = write("q.csv", 'id,p\n"a,1",0.5\n"b\nline",0.25\n')
    data = open_table(path, "predictions").read(numeric=["p"], other=["id"])
    assert data["id"].to_pylist() == ["a,1", "b\nline"]
    np.testing.assert_array_equal(data["p"].to_numpy(), [0.5, 0.25])


def test_only_the_needed_columns_are_returned(write: Write) -> None:
    path = write("w.csv", "id,p,junk\n1,0.5,xyz\n2,0.25,abc\n")
    data = open_table(path, "predictions").read(numeric=["p"], other=[])
    assert list(data) == ["p"]  # 'junk' is not numeric, but nobody asked for it


# --------------------------------------------------------------------------- bad files


def test_missing_file(tmp_path: Path, write: Write) -> None:
    path = str(tmp_path / "nope.csv")
    with pytest.raises(SourceError) as info:
        open_table(path, "predictions")
    assert info.value.file == path
    _cli_error(write, path, "no such file")


def test_directory(tmp_path: Path, write: Write) -> None:
    directory = tmp_path / "preds.csv"
    directory.mkdir()
    with pytest.raises(SourceError) as info:
        open_table(str(directory), "predictions")
    assert info.value.file == str(directory)
    _cli_error(write, str(directory), "directory")


@pytest.mark.parametrize(
    "name", ["preds.xlsx", "preds.json", "preds.txt", "preds", "preds.parquet.gz"]
)
def test_unsupported_extension(write: Write, name: str) -> None:
    path = write(name, "id,p\n1,0.5\n")
    with pytest.raises(SourceError) as info:
        open_table(path, "predictions")
    assert info.value.file == path
    line = _cli_error(write, path, "unsupported")
    assert ".csv" in line
    assert ".parquet" in line  # says what lossctl does read


def test_empty_file(write: Write) -> None:
    path = write("empty.csv", "")
    with pytest.raises(SourceError) as info:
        _read_everything(path, ["p"], [])
    assert info.value.file == path
    _cli_error(write, path, "empty")


def test_empty_compressed_file(tmp_path: Path, write: Write) -> None:
    path = tmp_path / "empty.csv.gz"
    with pa.output_stream(str(path), compression="gzip"):
        pass
    _cli_error(write, str(path), "empty")


def test_header_only_predictions(write: Write) -> None:
    path = write("header.csv", "id,p\n")
    _cli_error(write, path, "no data rows")


def test_header_only_targets(write: Write) -> None:
    preds = write("preds.csv", csv_text(["id", "p"], [(1, 0.5)]))
    targets = write("targets.csv", "id,y\n")
    assert_input_error(run_eval(preds, targets), targets, "no data rows")


def test_header_only_parquet(tmp_path: Path, write: Write) -> None:
    path = tmp_path / "header.parquet"
    pq.write_table(
        pa.table({"id": pa.array([], pa.string()), "p": pa.array([], pa.float64())}), path
    )
    _cli_error(write, str(path), "no data rows")


def test_corrupt_parquet(tmp_path: Path, write: Write) -> None:
    path = tmp_path / "preds.parquet"
    path.write_bytes(np.random.default_rng(0).bytes(512))
    with pytest.raises(SourceError) as info:
        _read_everything(str(path), ["p"], [])
    assert info.value.file == str(path)
    line = _cli_error(write, str(path), "Parquet")
    assert "Traceback" not in line


def test_truncated_parquet(tmp_path: Path, write: Write) -> None:
    whole = tmp_path / "whole.parquet"
    pq.write_table(TABLE, whole)
    path = tmp_path / "preds.parquet"
    path.write_bytes(whole.read_bytes()[:-20])
    _cli_error(write, str(path), "Parquet")


def test_corrupt_gzip(tmp_path: Path, write: Write) -> None:
    path = tmp_path / "preds.csv.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00" + np.random.default_rng(1).bytes(200))
    with pytest.raises(LossctlError):
        _read_everything(str(path), ["p"], [])
    _cli_error(write, str(path))


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("id,p\n1,0.1\n2,0.2,9\n3,0.3\n4,0.4\n", "3"),  # too many fields on data row 2
        ("id,p\n1,0.1\n2\n3,0.3\n4,0.4\n", "1"),  # too few fields on data row 2
    ],
    ids=["too-many", "too-few"],
)
def test_ragged_csv_names_the_row(write: Write, text: str, fields: str) -> None:
    path = write("ragged.csv", text)
    with pytest.raises(InputError) as info:
        _read_everything(path, ["p"], ["id"])
    assert (info.value.file, info.value.row) == (path, 2)
    line = _cli_error(write, path, "row 2")
    assert f"has {fields} field" in line


def test_ragged_csv_far_from_the_start_names_the_row(write: Write) -> None:
    """A bad row beyond pyarrow's first block: found by the read, still named."""
    rows = [f"{i},{(i % 97) / 100}" for i in range(1, 200_001)]
    rows[149_999] += ",extra"  # data row 150000
    path = write("ragged.csv", "id,p\n" + "\n".join(rows) + "\n")
    with pytest.raises(InputError) as info:
        _read_everything(path, ["p"], ["id"])
    assert info.value.row == 150_000
    targets = write("targets.csv", "id,y\n" + "\n".join(f"{i},1" for i in range(1, 200_001)) + "\n")
    assert_input_error(run_eval(path, targets), path, "row 150000")


def test_non_numeric_prediction_names_column_and_row(write: Write) -> None:
    path = write("preds.csv", "id,p\n1,0.1\n2,0.2\nx3,abc\n4,0.4\n")
    with pytest.raises(InputError) as info:
        _read_everything(path, ["p"], ["id"])
    assert (info.value.file, info.value.column, info.value.row) == (path, "p", 3)
    line = _cli_error(write, path, "'p'", "row 3", "'abc'")
    assert "'id'" not in line


def test_non_numeric_prediction_in_parquet(tmp_path: Path, write: Write) -> None:
    path = tmp_path / "preds.parquet"
    pq.write_table(pa.table({"id": [1, 2, 3, 4], "p": ["0.1", "0.2", "abc", "0.4"]}), path)
    _cli_error(write, str(path), "'p'", "row 3", "'abc'")


def test_non_numeric_prediction_on_stdin(write: Write) -> None:
    targets = write("targets.csv", GOOD_TARGETS)
    result = run_eval("-", targets, input="id,p\n1,0.1\n2,0.2\n3,abc\n4,0.4\n")
    assert_input_error(result, "-", "'p'", "row 3", "'abc'")


def test_duplicate_column_names_in_header(write: Write) -> None:
    path = write("dup.csv", "id,p,p\n1,0.1,0.2\n2,0.3,0.4\n")
    with pytest.raises(ColumnError) as info:
        open_table(path, "predictions")
    assert (info.value.file, info.value.column) == (path, "p")
    _cli_error(write, path, "'p'", "more than once")


def test_invalid_utf8(tmp_path: Path, write: Write) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("id,p\ncafé,0.5\n".encode("latin-1"))
    targets = write("targets.csv", "id,y\ncafé,1\n")
    result = run_eval(str(path), targets)
    assert_input_error(result, str(path), "UTF-8")


def test_crlf_line_endings(write: Write) -> None:
    path = write("crlf.csv", "id,p\r\n1,0.5\r\n2,0.25\r\n")
    data = open_table(path, "predictions").read(numeric=["p"], other=["id"])
    np.testing.assert_array_equal(data["p"].to_numpy(), [0.5, 0.25])
    assert data["id"].to_pylist() == [1, 2]


@pytest.mark.parametrize("width", [20_000, 120_000])  # the header: ~0.2 and ~1.2 MiB
def test_a_header_longer_than_the_first_block_is_read_whole(write: Write, width: int) -> None:
    names = [f"label_{i:07d}" for i in range(width)]
    row = ",".join(str(i % 2) for i in range(width))
    path = write("wide.csv", ",".join(names) + "\n" + row + "\n" + row + "\n")
    table = open_table(path, "targets")
    assert table.names == names
    data = table.read(numeric=[names[0], names[-1]], other=[])
    assert data[names[-1]].to_pylist() == [(width - 1) % 2] * 2


# --------------------------------------------------------------------------- large files
# Bigger than pyarrow's first block (1 MiB): what is found late must still be named.

N_BIG = 200_000


def _big(write: Write, name: str, cells: dict[int, str], ids: dict[int, str] | None = None) -> str:
    """``id,p`` with N_BIG rows; ``cells`` / ``ids`` replace the values of some data rows."""
    ids = ids or {}
    lines = ["id,p"]
    lines += [
        f"{ids.get(row, row)},{cells.get(row, (row % 89) / 100 + 0.05)}"
        for row in range(1, N_BIG + 1)
    ]
    return write(name, "\n".join(lines) + "\n")


def _big_targets(write: Write, ids: dict[int, str] | None = None) -> str:
    ids = ids or {}
    lines = ["id,y", *(f"{ids.get(row, row)},{row % 2}" for row in range(1, N_BIG + 1))]
    return write("targets_big.csv", "\n".join(lines) + "\n")


def test_late_non_numeric_prediction_names_its_row(write: Write) -> None:
    path = _big(write, "preds.csv", {150_000: "abc"})
    with pytest.raises(InputError) as info:
        _read_everything(path, ["p"], ["id"])
    assert (info.value.column, info.value.row) == ("p", 150_000)
    result = run_eval(path, _big_targets(write))
    assert_input_error(result, path, "'p'", "row 150000", "'abc'")


def test_late_missing_prediction_names_its_row(write: Write) -> None:
    path = _big(write, "preds.csv", {180_000: ""})
    targets = _big_targets(write)
    assert_input_error(run_eval(path, targets), path, "'p'", "row 180000")
    result = run_eval(path, targets, "--drop-missing", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert '"n_dropped": 1' in result.stdout
    assert f'"n_samples": {N_BIG - 1}' in result.stdout


def test_late_text_id_after_numbers(write: Write) -> None:
    """The id column's type is guessed from the first block: a later text id still works."""
    ids = {N_BIG: "x200000"}
    path = _big(write, "preds.csv", {}, ids)
    data = open_table(path, "predictions").read(numeric=["p"], other=["id"])
    assert data["id"].to_pylist()[:2] == ["1", "2"]
    assert data["id"].to_pylist()[-1] == "x200000"
    result = run_eval(path, _big_targets(write, ids), "--format", "csv")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == N_BIG + 1
    assert lines[-1].startswith("x200000,")


@pytest.mark.parametrize("missing", ["NA", "null", "", "NaN", None])
def test_parquet_text_numbers_with_missing_texts_read_as_csv_reads_them(
    tmp_path: Path, missing: str | None
) -> None:
    """A Parquet column of numbers stored as text, with a missing value written as text:
    the same report and the same error as the same column in CSV."""
    import lossctl

    values = ["0.25", missing, "0.75", "0.5"]
    pq.write_table(pa.table({"id": [1, 2, 3, 4], "p": values}), tmp_path / "p.parquet")
    cells = ["" if v is None else v for v in values]
    (tmp_path / "p.csv").write_text(
        "id,p\n" + "".join(f"{i},{c}\n" for i, c in enumerate(cells, 1))
    )
    pq.write_table(pa.table({"id": [1, 2, 3, 4], "y": [0, 1, 1, 0]}), tmp_path / "y.parquet")
    targets = str(tmp_path / "y.parquet")
    reports = []
    for name in ("p.parquet", "p.csv"):
        with pytest.raises(InputError) as error:
            lossctl.evaluate(str(tmp_path / name), targets, id_col="id")
        assert (type(error.value).__name__, error.value.row) == ("MissingValue", 2)
        reports.append(
            lossctl.evaluate(str(tmp_path / name), targets, id_col="id", drop_missing=True)
        )
    assert reports[0].mean_loss == reports[1].mean_loss
    assert reports[0].n_samples == 3


def test_a_bad_value_in_a_later_parquet_batch_names_its_row_of_the_file(tmp_path: Path) -> None:
    """Parquet is read in batches: the row counts from the top of the file, not the batch,
    and the count covers the batches after it."""
    import lossctl

    values = ["0.5"] * 10 + ["x", "y"] + ["0.5", "NA", "z", "0.5"]  # batches of 4: 3 bad
    pq.write_table(pa.table({"p": values}), tmp_path / "p.parquet")
    pq.write_table(pa.table({"y": [1] * 16}), tmp_path / "y.parquet")
    with pytest.raises(InputError) as error:
        lossctl.evaluate(str(tmp_path / "p.parquet"), str(tmp_path / "y.parquet"), chunk_rows=4)
    assert (error.value.column, error.value.row, error.value.count) == ("p", 11, 3)
