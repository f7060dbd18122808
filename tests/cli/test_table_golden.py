"""The Rich table, rendered at a fixed width with colour off, against a golden text file.

The golden file was generated once and checked by eye. To regenerate it after an
intended change of layout, run (then read the diff before committing)::

    python -c "from tests.cli.test_table_golden import regenerate; regenerate()"

The version in the panel title is written as ``VERSION``, so a version bump
does not break the comparison.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
from pathlib import Path

import pytest
from rich.console import Console

import lossctl
from lossctl.report.table import render_table
from tests.cli.helpers import run_eval

GOLDEN = Path(__file__).parent / "golden" / "table_multiclass.txt"
WIDTH = 100

# Six images, three classes. Row 4 is a confident mistake; row 6 does not sum to 1.
PREDS = """\
id,cat,dog,bird
a1,0.7,0.2,0.1
a2,0.1,0.8,0.1
a3,0.25,0.25,0.5
a4,0.05,0.9,0.05
a5,0.6,0.3,0.1
a6,0.2,0.2,0.5
"""
# The labels, listed in another order (joined by id).
LABELS = """\
id,label
a6,bird
a5,dog
a4,bird
a3,bird
a2,dog
a1,cat
"""
ARGS = ["preds.csv", "labels.csv", "--head", "3", "--worst", "2"]


def _write_inputs(directory: Path) -> None:
    (directory / "preds.csv").write_text(PREDS, encoding="utf-8")
    (directory / "labels.csv").write_text(LABELS, encoding="utf-8")


def _render(report: lossctl.Report, width: int = WIDTH, **console: object) -> str:
    options: dict[str, object] = {
        "width": width,
        "color_system": None,
        "force_terminal": False,
        "record": True,
        "file": io.StringIO(),
        "highlight": False,
    }
    options.update(console)
    target = Console(**options)  # type: ignore[arg-type]
    render_table(report, target)
    return target.file.getvalue()  # type: ignore[attr-defined, no-any-return]


def _library_table() -> str:
    """The table of the fixed input, rendered by the library (cwd holds the inputs)."""
    report = lossctl.evaluate("preds.csv", "labels.csv", head=3, worst=2)
    return _render(dataclasses.replace(report, version="VERSION"))


def _normalise_version(text: str) -> str:
    """``╭─ lossctl 0.1.0 ────╮`` -> ``╭─ lossctl VERSION ──╮``, keeping the line's width."""

    def swap(match: re.Match[str]) -> str:
        replacement = "lossctl VERSION "
        return replacement + "─" * max(len(match.group(0)) - len(replacement), 1)

    return re.sub(rf"lossctl {re.escape(lossctl.__version__)} ─+", swap, text, count=1)


def _lines(text: str) -> list[str]:
    """The lines without trailing spaces (Rich pads them), and no blank lines at the end."""
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def regenerate() -> None:  # pragma: no cover - a tool for humans
    import tempfile

    here = Path.cwd()
    with tempfile.TemporaryDirectory() as tmp:
        _write_inputs(Path(tmp))
        os.chdir(tmp)
        try:
            text = _library_table()
        finally:
            os.chdir(here)
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text("\n".join(_lines(text)) + "\n", encoding="utf-8")


@pytest.fixture
def inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    _write_inputs(tmp_path)
    monkeypatch.chdir(tmp_path)  # relative paths: the table shows them
    return tmp_path


def test_library_table_matches_golden(inputs: Path) -> None:
    golden = GOLDEN.read_text(encoding="utf-8")
    assert lossctl.__version__ not in golden
    assert _lines(_library_table()) == _lines(golden)


def test_cli_table_matches_golden(inputs: Path) -> None:
    result = run_eval(*ARGS, env={"COLUMNS": str(WIDTH), "NO_COLOR": "1"})
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert "\x1b[" not in result.stdout
    assert f"lossctl {lossctl.__version__}" in result.stdout
    golden = GOLDEN.read_text(encoding="utf-8")
    assert _lines(_normalise_version(result.stdout)) == _lines(golden)


def test_golden_holds_the_right_numbers() -> None:
    """What was checked by eye, checked again by machine: the golden's key numbers."""
    import math

    golden = GOLDEN.read_text(encoding="utf-8")
    losses = [-math.log(p) for p in (0.7, 0.8, 0.5, 0.05, 0.3, 0.5)]
    assert f"{sum(losses) / 6:.6g}" in golden
    assert "multiclass" in golden
    assert "softmax" in golden
    assert "6" in golden
    assert "probability rows that do not sum to 1 within 1e-6: 1 (first: row 6)" in golden
    worst = golden.split("Worst 2 rows", 1)[1].split("Loss histogram", 1)[0]
    assert worst.index("a4") < worst.index("a5")  # 2.996 (row 4) before 1.204 (row 5)
    assert f"{-math.log(0.05):.6g}" in worst
    histogram = golden.split("Loss histogram", 1)[1].split("Metrics", 1)[0]
    counts = [int(line.split()[2]) for line in histogram.splitlines() if "█" in line]
    assert counts == [1, 3, 2]  # 0.223 | 0.357 0.693 0.693 | 1.204 2.996
    first = golden.split("First 3 rows", 1)[1].split("Worst 2 rows", 1)[0]
    assert [i for i in ("a1", "a2", "a3", "a4", "a5", "a6") if i in first] == ["a1", "a2", "a3"]


MARKUP = "[red]x[/red]"
MARKUP_PREDS = f"""\
id,{MARKUP},[bold]y
[blue]i1[/blue],0.9,0.1
i2,0.2,0.8
i3,0.4,0.6
"""
MARKUP_LABELS = f"""\
id,label
[blue]i1[/blue],{MARKUP}
i2,[bold]y
i3,{MARKUP}
"""


def test_names_from_the_files_are_printed_literally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "p.csv").write_text(MARKUP_PREDS, encoding="utf-8")
    (tmp_path / "y.csv").write_text(MARKUP_LABELS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run_eval("p.csv", "y.csv", env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert MARKUP in out  # in the column list, the rows and the per-class table
    assert out.count(MARKUP) >= 3
    assert "[bold]y" in out
    assert "[blue]i1[/blue]" in out

    report = lossctl.evaluate("p.csv", "y.csv")
    coloured = _render(report, 120, color_system="standard", force_terminal=True)
    assert MARKUP in coloured
    assert "\x1b[31m" not in coloured  # nothing was turned red
    assert "\x1b[34m" not in coloured  # nor blue
