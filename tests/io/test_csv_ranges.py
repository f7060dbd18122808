"""Large CSV files are parsed in ranges cut at line breaks, two at a time.

With ``RANGE`` made small, files of a few hundred KiB take that path: every
result must equal the one-block-at-a-time reader's, including where the
ranges path gives up (a quote) and where a row is bad far down the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.csv
import pytest

import lossctl
from lossctl.errors import InputError, NonNumeric
from lossctl.io import csv as csv_reader
from lossctl.io.readers import InputTable, open_table

N = 20_000


@pytest.fixture
def small_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_reader, "RANGE", 16 << 10)


def _write(path: Path, lines: list[str]) -> str:
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _files(tmp_path: Path, *, late: str | None = None) -> tuple[str, str]:
    rng = np.random.default_rng(0)
    p = rng.dirichlet([1.0, 1.0, 1.0], N)
    y = rng.integers(0, 3, N)
    pred = ["id,a,b,c"] + [f"{i},{r[0]:.17g},{r[1]:.17g},{r[2]:.17g}" for i, r in enumerate(p)]
    true = ["id,y"] + [f"{i},{v}" for i, v in enumerate(y)]
    if late is not None:
        pred[-5] = late
    return _write(tmp_path / "p.csv", pred), _write(tmp_path / "t.csv", true)


def _columns(table: InputTable) -> dict[str, list[object]]:
    data = table.read(numeric=["a", "b", "c"], other=["id"])
    return {name: column.to_pylist() for name, column in data.items()}


def _by_blocks(pred: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[object]]:
    """The columns as the block reader reads them (no file is large enough for ranges)."""
    with monkeypatch.context() as patch:
        _no_ranges(patch)
        return _columns(open_table(pred, "predictions"))


def _no_ranges(patch: pytest.MonkeyPatch) -> None:
    patch.setattr(csv_reader, "RANGE", 1 << 40)
    patch.setattr(csv_reader, "MIN_RANGE", 1 << 40)


def _quoted(text: str) -> str:
    """Every field in quotes, as pyarrow and R write text."""
    return "".join(",".join(f'"{f}"' for f in line.split(",")) + "\n" for line in text.splitlines())


@pytest.mark.parametrize(
    "shape",
    ["plain", "quoted", "lines of 20 KiB, no final line break", "one line of 40 KiB"],
)
def test_ranges_read_what_blocks_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    """Every value and every row, in order, whichever way the file is parsed (the ranges
    are cut at line breaks: after the last line, past lines longer than a first look, and
    between whole quoted fields)."""
    pred, _ = _files(tmp_path)
    text = Path(pred).read_text()
    if shape == "quoted":
        Path(pred).write_text(_quoted(text))
    if shape == "one line of 40 KiB":  # one range: the first cut falls in the last line
        Path(pred).write_text(f"id,a,b,c,pad\n7,0.1,0.2,0.7,{'x' * (40 << 10)}")
    if shape.startswith("lines"):  # longer than a range: a cut falls inside the last line
        header, *rows = text.splitlines()
        wide = ",".join(f"x{i}" for i in range(2000))
        cells = ",".join(["0.123456789"] * 2000)
        Path(pred).write_text(
            "\n".join([f"{header},{wide}", *(f"{r},{cells}" for r in rows[:200])])
        )
    whole = _by_blocks(pred, monkeypatch)
    monkeypatch.setattr(csv_reader, "RANGE", 16 << 10)
    table = open_table(pred, "predictions")

    def unused(*args: object, **kwargs: object) -> None:
        raise AssertionError("the block reader was used")

    monkeypatch.setattr(pyarrow.csv, "open_csv", unused)
    assert _columns(table) == whole


@pytest.mark.parametrize(
    "late_id",
    ['"r""1"', '"r\n1"', 'r"1', '"r,1"x', '"r1'],
    ids=["escaped quote", "quoted line break", "quote inside", "text after quotes", "unclosed"],
)
def test_quotes_that_ranges_cannot_cut_hand_over_to_the_block_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, late_id: str
) -> None:
    """Quoted fields that are not whole fields on one line, far down a quoted file: read
    from there on by the block reader, as if by it alone."""
    pred, _ = _files(tmp_path)
    lines = _quoted(Path(pred).read_text()).splitlines()
    cells = lines[-5].split(",")
    lines[-5] = ",".join([late_id, *cells[1:]])
    Path(pred).write_text("\n".join(lines) + "\n")

    def outcome() -> object:
        try:
            return _columns(open_table(pred, "predictions"))
        except InputError as error:  # the unclosed quote: the same error either way
            return str(error)

    with monkeypatch.context() as patch:
        _no_ranges(patch)
        whole = outcome()
    monkeypatch.setattr(csv_reader, "RANGE", 16 << 10)
    assert outcome() == whole


@pytest.mark.usefixtures("small_ranges")
def test_a_quote_far_down_hands_over_to_the_block_reader(tmp_path: Path) -> None:
    """A quoted field may hold a line break: from that range on, the careful reader reads
    (a quoted value with a line break in it, near the end, is one row)."""
    pred, target = _files(tmp_path, late=f'{N - 5},"0.2",0.3,0.5')
    report = lossctl.evaluate(pred, target, id_col="id")
    assert report.n_samples == N
    with_quote = Path(pred).read_text().replace(f'{N - 5},"0.2"', f"{N - 5},0.2")
    Path(pred).write_text(with_quote)
    assert lossctl.evaluate(pred, target, id_col="id").mean_loss == report.mean_loss


@pytest.mark.usefixtures("small_ranges")
def test_a_bad_value_far_down_is_named_with_its_row(tmp_path: Path) -> None:
    pred, target = _files(tmp_path, late=f"{N - 5},oops,0.3,0.5")
    with pytest.raises(NonNumeric) as error:
        lossctl.evaluate(pred, target, id_col="id")
    assert (error.value.column, error.value.row) == ("a", N - 4)


@pytest.mark.usefixtures("small_ranges")
def test_class_names_after_numbers_across_ranges(tmp_path: Path) -> None:
    """A target column of numbers that turns to names in a later range: every value names
    a prediction column ("1" or "cat"), so the targets are class names."""
    rows = ["id,1,cat"] + [f"{i},0.25,0.75" for i in range(N)]
    late = N - 10
    labels = ["id,y"] + [f"{i},{'cat' if i >= late else 1}" for i in range(N)]
    pred = _write(tmp_path / "p.csv", rows)
    target = _write(tmp_path / "t.csv", labels)
    report = lossctl.evaluate(pred, target, id_col="id")
    assert (report.target_encoding, report.n_samples) == ("class name", N)
    expected = (late * -np.log(0.25) + (N - late) * -np.log(0.75)) / N
    assert report.mean_loss == pytest.approx(expected, rel=1e-12)
