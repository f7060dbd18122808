"""Inputs in parts: a glob (``'preds/*.parquet'``) or a directory of parts, Hive partitions too.

The parts of one input read as the single file they were cut from: the same
columns, rows and losses, aligned by id or by position. Each part is read by a
table of its own, so an error inside a part names that file and its row; the
ways a set of parts can be wrong (nothing matches, mixed formats, columns that
differ between parts) are errors of their own.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import lossctl
from lossctl.errors import (
    CorruptParquet,
    MixedPartFormats,
    NoFileMatches,
    NonNumeric,
    NoPartFiles,
    PartColumnsDiffer,
    PartitionColumnClash,
    UnsupportedFormat,
)
from lossctl.io.csv import CsvTable
from lossctl.io.parts import PartsTable
from lossctl.io.readers import open_table
from lossctl.io.sources import is_glob, resolve_parts
from tests.cli.helpers import assert_input_error, run_eval

N = 30
DATES = ("2024-01-01", "2024-01-02", "2024-01-03")


def _data() -> tuple[pa.Table, pa.Table]:
    """Binary predictions and targets of N rows, with ids and a date (ten rows a date)."""
    rng = np.random.default_rng(7)
    ids = [f"r{i:02d}" for i in range(N)]
    preds = pa.table(
        {
            "id": ids,
            "p": rng.uniform(0.01, 0.99, N),
            "date": [DATES[i // 10] for i in range(N)],
        }
    )
    targets = pa.table({"id": ids, "y": rng.integers(0, 2, N)})
    return preds, targets


PREDS, TARGETS = _data()


def _write(table: pa.Table, path: Path) -> str:
    """Write ``table`` as Parquet or CSV, as the file name says, making its directories."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(".parquet"):
        pq.write_table(table, path)
    else:
        pacsv.write_csv(table, path)
    return str(path)


def _cut(table: pa.Table, sizes: list[int]) -> Iterator[pa.Table]:
    start = 0
    for size in sizes:
        yield table.slice(start, size)
        start += size


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working directory, so that labels read as at a shell: ``preds/part-1.csv``."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def whole(here: Path) -> Path:
    """The whole files: predictions (id, p) and targets (id, y), as Parquet and as CSV."""
    for suffix in ("parquet", "csv"):
        _write(PREDS.drop_columns(["date"]), here / f"whole.{suffix}")
        _write(TARGETS, here / f"targets.{suffix}")
    return here


def _parquet_parts(here: Path, name: str = "preds") -> str:
    """The predictions (id, p) in 3 Parquet parts of 10, 12 and 8 rows; returns a glob."""
    for i, part in enumerate(_cut(PREDS.drop_columns(["date"]), [10, 12, 8])):
        _write(part, here / name / f"part-{i}.parquet")
    return f"{name}/*.parquet"


def _csv_parts(here: Path, name: str = "csv_parts") -> str:
    """The predictions (id, p) as a directory of 3 CSV parts, with files to skip."""
    for i, part in enumerate(_cut(PREDS.drop_columns(["date"]), [7, 13, 10])):
        _write(part, here / name / f"part-{i:05d}.csv")
    (here / name / "_SUCCESS").write_text("")
    (here / name / ".part-00000.csv.crc").write_bytes(b"\x00crc")
    (here / name / "README.txt").write_text("not a part")
    _write(PREDS.slice(0, 3).drop_columns(["date"]), here / name / "_temporary" / "0" / "x.csv")
    return name


def _hive_parts(here: Path, name: str = "hive") -> str:
    """The predictions (id, p) in Hive partitions by date: hive/date=2024-01-01/part-0.parquet."""
    parts = _cut(PREDS.drop_columns(["date"]), [10, 10, 10])
    for date, part in zip(DATES, parts, strict=True):
        _write(part, here / name / f"date={date}" / "part-0.parquet")
    return name


def _json(*args: str) -> dict[str, object]:
    result = run_eval(*args, "--format", "json")
    assert result.exit_code == 0, (result.exit_code, result.stderr)
    doc: dict[str, object] = json.loads(result.stdout)
    return doc


# --------------------------------------------------------------------------- finding the parts


def test_a_glob_names_its_parts_in_path_order(here: Path) -> None:
    spec = _parquet_parts(here)
    table = open_table(spec, "predictions")
    assert isinstance(table, PartsTable)
    assert table.label == spec
    assert table.parts == [f"preds/part-{i}.parquet" for i in range(3)]
    assert table.names == ["id", "p"]


def test_a_directory_skips_hidden_files_and_other_types(here: Path) -> None:
    """_SUCCESS, .crc files, _temporary/ and a README are left out, as Spark and pyarrow do."""
    table = open_table(_csv_parts(here), "predictions")
    assert table.parts == [f"csv_parts/part-{i:05d}.csv" for i in range(3)]


def test_parts_sort_as_plain_strings(here: Path) -> None:
    """Code point order, as pyarrow datasets, DuckDB and polars: part-10 before part-2."""
    for i in (2, 10, 1):
        _write(PREDS.slice(i, 1).drop_columns(["date"]), here / "p" / f"part-{i}.csv")
    parts = resolve_parts("p")
    assert parts is not None
    assert [s.label for s in parts.sources] == ["p/part-1.csv", "p/part-10.csv", "p/part-2.csv"]
    data = open_table("p/*.csv", "predictions").read([], ["id"])
    assert data["id"].to_pylist() == ["r01", "r10", "r02"]


def test_a_recursive_glob_reaches_subdirectories(here: Path) -> None:
    _hive_parts(here)
    table = open_table("hive/**/*.parquet", "predictions")
    assert len(table.parts) == 3
    assert "date" in table.names  # the partitions lie below the glob's fixed directory


def test_a_glob_that_matches_directories_reads_their_parts(here: Path) -> None:
    _hive_parts(here)
    table = open_table("hive/date=*", "predictions")
    assert table.parts == [f"hive/date={d}/part-0.parquet" for d in DATES]


def test_single_files_and_stdin_are_not_parts(here: Path) -> None:
    path = _write(PREDS, here / "preds[1].csv")  # glob characters, but a file
    assert not is_glob(path)
    assert resolve_parts(path) is None
    assert resolve_parts("-") is None
    assert resolve_parts("missing.csv") is None  # (resolve says: no such file)
    assert isinstance(open_table(path, "predictions"), CsvTable)
    assert is_glob("preds/*.csv")


def test_one_match_is_still_a_set_of_parts(here: Path) -> None:
    _write(PREDS, here / "only" / "part-0.csv")
    table = open_table("only/*.csv", "predictions")
    assert table.label == "only/*.csv"
    assert table.parts == ["only/part-0.csv"]
    assert table.read(["p"], [])["p"].to_pylist() == PREDS["p"].to_pylist()


# --------------------------------------------------------------------------- reading


def test_parts_read_as_the_whole_file(here: Path) -> None:
    expected = {"id": PREDS["id"].to_pylist(), "p": PREDS["p"].to_pylist()}
    for spec in (_parquet_parts(here), _csv_parts(here)):
        data = open_table(spec, "predictions").read(["p"], ["id"], text=["id"])
        assert {name: column.to_pylist() for name, column in data.items()} == expected


def test_batches_say_their_part_and_where_in_it_they_start(here: Path) -> None:
    table = open_table(_parquet_parts(here), "predictions")
    batches = list(table.batches(["p"], ["id"], rows=4))
    assert [(b.part, b.start, b.num_rows) for b in batches] == [
        (0, 0, 4),
        (0, 4, 4),
        (0, 8, 2),
        (1, 0, 4),
        (1, 4, 4),
        (1, 8, 4),
        (2, 0, 4),
        (2, 4, 4),
    ]
    first = next(b for b in batches if b.part == 1)
    assert first.columns["id"].to_pylist() == ["r10", "r11", "r12", "r13"]


def test_size_and_progress_add_up_over_the_parts(here: Path) -> None:
    table = open_table(_parquet_parts(here), "predictions")
    assert table.size() == (N, "rows")
    assert table.done() == 0
    seen = []
    for batch in table.batches(["p"], [], rows=5):
        seen.append(table.done())
        assert batch.num_rows
    assert seen == sorted(seen)
    assert table.done() == N
    csv_table = open_table(_csv_parts(here), "predictions")
    parts = [os.path.getsize(p) for p in csv_table.parts]
    assert csv_table.size() == (sum(parts), "bytes")
    for _ in csv_table.batches(["p"], []):
        pass
    assert csv_table.done() == sum(parts)


def test_a_csv_column_may_change_type_between_parts(here: Path) -> None:
    (here / "mixed").mkdir()
    (here / "mixed" / "a.csv").write_text("k,p\n1,0.5\n2,0.25\n")
    (here / "mixed" / "b.csv").write_text("p,k\n0.75,cat\n")  # columns in another order
    table = open_table("mixed", "predictions")
    batches = list(table.batches(["p"], ["k"]))
    assert [b.columns["k"].type for b in batches] == [pa.int64(), pa.string()]
    assert table.read(["p"], ["k"])["k"].to_pylist() == ["1", "2", "cat"]


def test_index_columns_come_from_the_first_part(here: Path) -> None:
    frame = PREDS.to_pandas().set_index("id")
    for i, start in enumerate((0, 15)):
        path = here / "indexed" / f"part-{i}.parquet"
        path.parent.mkdir(exist_ok=True)
        frame.iloc[start : start + 15].to_parquet(path)
    table = open_table("indexed", "predictions")
    assert table.index_columns == ["id"]


def test_parquet_parts_are_not_all_held_open(here: Path) -> None:
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc")
    for i in range(40):
        _write(PREDS.slice(i % N, 1), here / "many" / f"part-{i:03d}.parquet")
    before = len(os.listdir("/proc/self/fd"))
    table = open_table("many", "predictions")
    assert len(os.listdir("/proc/self/fd")) - before < 5
    assert len(table.read(["p"], [])["p"]) == 40


# --------------------------------------------------------------------------- Hive partitions


def test_hive_partitions_are_text_columns(here: Path) -> None:
    table = open_table(_hive_parts(here), "predictions")
    assert table.names == ["id", "p", "date"]
    data = table.read(["p"], ["date", "id"])
    assert data["date"].to_pylist() == PREDS["date"].to_pylist()
    assert data["date"].type == pa.string()
    assert data["id"].to_pylist() == PREDS["id"].to_pylist()
    only = table.read([], ["date"])  # partition columns alone still have every row
    assert only["date"].to_pylist() == PREDS["date"].to_pylist()


def test_hive_values_are_decoded_and_hive_null_is_null(here: Path) -> None:
    _write(PREDS.slice(0, 2), here / "h" / "k=a%2Fb" / "w=2" / "x.csv")
    _write(PREDS.slice(2, 1), here / "h" / "k=__HIVE_DEFAULT_PARTITION__" / "w=0.5" / "x.csv")
    table = open_table("h", "predictions")
    assert table.names[-2:] == ["k", "w"]
    data = table.read(["w"], ["k"])  # (k=_... sorts before k=a...)
    assert data["k"].to_pylist() == [None, "a/b", "a/b"]
    assert data["w"].to_pylist() == [0.5, 2.0, 2.0]  # asked for as numbers


def test_a_hive_value_that_is_not_a_number_names_the_part(here: Path) -> None:
    _write(PREDS.slice(0, 2), here / "h" / "w=2" / "x.csv")
    _write(PREDS.slice(2, 2), here / "h" / "w=heavy" / "x.csv")
    with pytest.raises(NonNumeric) as info:
        open_table("h", "predictions").read(["w"], [])
    assert (info.value.file, info.value.column, info.value.row) == ("h/w=heavy/x.csv", "w", 1)


def test_partitions_are_those_below_the_globs_fixed_directory(here: Path) -> None:
    _hive_parts(here)
    assert open_table("hive/date=2024-01-02/*.parquet", "predictions").names == ["id", "p"]
    assert open_table("hive/date=2024-01-02", "predictions").names == ["id", "p"]


# --------------------------------------------------------------------------- losses


def _same(report: lossctl.Report, expected: lossctl.Report) -> None:
    assert report.n_samples == expected.n_samples == N
    assert report.mean_loss == pytest.approx(expected.mean_loss, rel=1e-12)


@pytest.mark.parametrize("by_id", [True, False], ids=["id", "position"])
def test_parts_give_the_losses_of_the_whole_file(whole: Path, by_id: bool) -> None:
    align: dict[str, Any] = {"id_col": "id"}
    if not by_id:
        align = {"no_id": True, "pred_cols": ["p"], "target_cols": ["y"]}
    expected = lossctl.evaluate("whole.parquet", "targets.parquet", **align)
    for spec in (_parquet_parts(whole), _csv_parts(whole)):
        report = lossctl.evaluate(spec, "targets.parquet", **align)
        _same(report, expected)
        assert report.inputs.predictions == spec


def test_parts_through_the_command_line(whole: Path) -> None:
    expected = _json("whole.csv", "targets.csv", "--id", "id")
    for spec in (_parquet_parts(whole), _csv_parts(whole)):
        doc = _json(spec, "targets.csv", "--id", "id")
        assert doc["n_samples"] == expected["n_samples"] == N
        assert doc["mean_loss"] == pytest.approx(expected["mean_loss"], rel=1e-12)
        doc = _json(spec, "targets.csv", "--no-id", "--pred-col", "p", "--target-col", "y")
        assert doc["mean_loss"] == pytest.approx(expected["mean_loss"], rel=1e-12)


def test_both_sides_cut_differently_and_shuffled_match_by_id(whole: Path) -> None:
    rng = np.random.default_rng(3)
    preds = PREDS.drop_columns(["date"]).take(rng.permutation(N))
    targets = TARGETS.take(rng.permutation(N))
    for i, part in enumerate(_cut(preds, [11, 9, 10])):
        _write(part, whole / "p" / f"part-{i}.parquet")
    for i, part in enumerate(_cut(targets, [16, 14])):
        _write(part, whole / "t" / f"part-{i}.csv")
    expected = lossctl.evaluate("whole.parquet", "targets.parquet", id_col="id")
    _same(lossctl.evaluate("p/*.parquet", "t", id_col="id"), expected)
    doc = _json("p/*.parquet", "t", "--id", "id")
    assert doc["mean_loss"] == pytest.approx(expected.mean_loss, rel=1e-12)


def test_hive_partitions_group_with_by(whole: Path) -> None:
    _write(PREDS, whole / "dated.csv")
    expected = _json("dated.csv", "targets.csv", "--id", "id", "--by", "date")
    doc = _json(_hive_parts(whole), "targets.csv", "--id", "id", "--by", "date")
    assert doc["mean_loss"] == pytest.approx(expected["mean_loss"], rel=1e-12)
    groups, wanted = doc["groups"], expected["groups"]
    assert isinstance(groups, list) and isinstance(wanted, list)
    assert [(g["name"], g["n_samples"]) for g in groups] == [(d, 10) for d in DATES]
    for group, other in zip(groups, wanted, strict=True):
        assert group["name"] == other["name"]
        assert group["mean_loss"] == pytest.approx(other["mean_loss"], rel=1e-12)


# --------------------------------------------------------------------------- errors


def test_a_glob_that_matches_nothing(whole: Path) -> None:
    with pytest.raises(NoFileMatches) as info:
        open_table("nothing/*.parquet", "predictions")
    assert info.value.file == "nothing/*.parquet"
    assert_input_error(
        run_eval("nothing/*.parquet", "targets.csv"), "nothing/*.parquet", "no file matches"
    )


def test_a_glob_whose_matches_are_all_skipped_says_so(here: Path) -> None:
    (here / "out").mkdir()
    (here / "out" / "_SUCCESS").write_text("")
    with pytest.raises(NoFileMatches, match="1 matches whose names start with _"):
        open_table("out/*", "predictions")


@pytest.mark.parametrize("extra", [None, "_SUCCESS", "notes.txt"])
def test_a_directory_without_parts(whole: Path, extra: str | None) -> None:
    (whole / "empty").mkdir()
    if extra is not None:
        (whole / "empty" / extra).write_text("")
    with pytest.raises(NoPartFiles) as info:
        open_table("empty", "predictions")
    assert info.value.file == "empty"
    assert_input_error(run_eval("empty", "targets.csv"), "empty: ", "directory", ".parquet")


def test_parts_of_mixed_formats(whole: Path) -> None:
    _write(PREDS.slice(0, 15), whole / "mix" / "a.csv")
    _write(PREDS.slice(15, 15), whole / "mix" / "b.parquet")
    for spec in ("mix", "mix/*"):
        with pytest.raises(MixedPartFormats) as info:
            open_table(spec, "predictions")
        assert info.value.file == spec
        assert_input_error(run_eval(spec, "targets.csv"), spec, "mix/a.csv", "mix/b.parquet")


def test_a_glob_that_matches_a_file_of_another_type(whole: Path) -> None:
    _write(PREDS, whole / "g" / "a.csv")
    (whole / "g" / "notes.txt").write_text("hello")
    with pytest.raises(UnsupportedFormat) as info:
        open_table("g/*", "predictions")
    assert info.value.file == "g/notes.txt"


@pytest.mark.parametrize(
    ("columns", "missing", "extra"),
    [(["id"], "p", None), (["id", "p", "q"], None, "q")],
    ids=["missing", "extra"],
)
def test_a_part_with_other_columns(
    whole: Path, columns: list[str], missing: str | None, extra: str | None
) -> None:
    table = PREDS.drop_columns(["date"]).append_column("q", pa.array([1.0] * N))
    _write(table.slice(0, 15).select(["id", "p"]), whole / "cols" / "part-0.csv")
    _write(table.slice(15, 15).select(columns), whole / "cols" / "part-1.csv")
    with pytest.raises(PartColumnsDiffer) as info:
        open_table("cols", "predictions")
    column = missing or extra
    assert (info.value.file, info.value.column) == ("cols/part-1.csv", column)
    line = assert_input_error(
        run_eval("cols", "targets.csv"), "cols/part-1.csv", f"column {column!r}", "cols/part-0.csv"
    )
    assert ("is not in this part" in line) == (missing is not None)


def test_a_part_without_the_partition_of_the_others(here: Path) -> None:
    _write(PREDS.slice(0, 2).drop_columns(["date"]), here / "h" / "date=1" / "x.csv")
    _write(PREDS.slice(2, 2).drop_columns(["date"]), here / "h" / "y.csv")
    with pytest.raises(PartColumnsDiffer) as info:
        open_table("h", "predictions")
    assert (info.value.file, info.value.column) == ("h/y.csv", "date")


def test_a_partition_that_is_also_a_column(whole: Path) -> None:
    _write(PREDS.slice(0, 15), whole / "h" / "date=2024-01-01" / "part-0.parquet")
    with pytest.raises(PartitionColumnClash) as info:
        open_table("h", "predictions")
    assert (info.value.file, info.value.column) == ("h/date=2024-01-01/part-0.parquet", "date")
    assert_input_error(
        run_eval("h", "targets.csv"), "h/date=2024-01-01/part-0.parquet", "'date'", "partition"
    )


def test_a_bad_value_in_a_part_names_the_part_and_its_row(whole: Path) -> None:
    lines = ["id,p"] + [f"r{i:02d},0.5" for i in range(10)]
    second = ["id,p", "r10,0.1", "r11,0.2", "r12,high", "r13,0.4"]
    (whole / "bad").mkdir()
    (whole / "bad" / "part-0.csv").write_text("\n".join(lines) + "\n")
    (whole / "bad" / "part-1.csv").write_text("\n".join(second) + "\n")
    with pytest.raises(NonNumeric) as info:
        open_table("bad", "predictions").read(["p"], ["id"])
    assert (info.value.file, info.value.column, info.value.row) == ("bad/part-1.csv", "p", 3)
    assert_input_error(
        run_eval("bad", "targets.csv", "--id", "id"),
        "bad/part-1.csv, column 'p', row 3: 'high' is not a number",
    )


def test_a_bad_value_in_a_parquet_part_names_the_part_and_its_row(whole: Path) -> None:
    _write(pa.table({"id": ["r00", "r01"], "p": ["0.1", "0.2"]}), whole / "bp" / "a.parquet")
    _write(
        pa.table({"id": ["r02", "r03", "r04"], "p": ["0.1", "0.2", "x"]}),
        whole / "bp" / "b.parquet",
    )
    with pytest.raises(NonNumeric) as info:
        open_table("bp/*.parquet", "predictions").read(["p"], ["id"])
    assert (info.value.file, info.value.column, info.value.row) == ("bp/b.parquet", "p", 3)


def test_a_corrupt_part_is_named(whole: Path) -> None:
    _write(PREDS.slice(0, 15), whole / "cp" / "a.parquet")
    (whole / "cp" / "b.parquet").write_bytes(b"PAR1 and nothing else")
    with pytest.raises(CorruptParquet) as info:
        open_table("cp", "predictions")
    assert info.value.file == "cp/b.parquet"
    assert_input_error(run_eval("cp", "targets.csv"), "cp/b.parquet", "Parquet")
