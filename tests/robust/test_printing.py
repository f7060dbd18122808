"""Text from the files is printed as it is: Rich markup in a file name, a column name, an id
or a class name is shown literally in the table, the JSON and the error messages, never
read as markup; a name with a line break in it cannot split an error message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.helpers import assert_input_error, run, run_eval

MARKUP = ["[red]cat[/red]", "[bold]dog", "[link=https://example.com]x[/link]"]
PREDS = "id,{0},{1},{2},[red]g\n[blue]a1[/blue],0.2,0.7,0.1,[b]x\na2,0.6,0.3,0.1,[b]x\n"
TARGETS = "id,label\n[blue]a1[/blue],{1}\na2,{0}\n"


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "[red]preds.csv").write_text(PREDS.format(*MARKUP))
    (tmp_path / "targets.csv").write_text(TARGETS.format(*MARKUP))
    return tmp_path


ARGS = ["[red]preds.csv", "targets.csv", "--pred-col", ",".join(MARKUP), "--by", "[red]g"]


def test_the_table_shows_markup_literally(here: Path) -> None:
    result = run_eval(*ARGS, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for text in [*MARKUP, "[red]preds.csv", "[blue]a1[/blue]", "[b]x"]:
        assert text in out, text
    assert "Mean loss by [red]g" in out  # a table title made of a column name
    assert "\x1b" not in out  # no style was applied from the file's text


def test_detect_shows_markup_literally(here: Path) -> None:
    result = run("detect", *ARGS[:4], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    assert "[red]preds.csv" in result.stdout
    assert all(text in result.stdout for text in MARKUP)


def test_json_holds_the_names_as_they_are(here: Path) -> None:
    result = run_eval(*ARGS, "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["inputs"]["predictions"] == "[red]preds.csv"
    assert doc["inputs"]["pred_columns"] == MARKUP
    assert [g["name"] for g in doc["groups"]] == ["[b]x"]


def test_error_messages_show_markup_literally(here: Path) -> None:
    line = assert_input_error(run_eval("[red]preds.csv", "targets.csv", "--pred-col", "[red]ca"))
    assert line.startswith(
        "lossctl: error: [red]preds.csv, column '[red]ca': no such column (named by --pred-col)"
    )
    assert "'[red]cat[/red]'" in line


def test_a_line_break_in_a_name_stays_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text('"a\nb",c\n0.5,0.5\n')
    (tmp_path / "t.csv").write_text("y\n0\n")
    result = run_eval(str(tmp_path / "p.csv"), str(tmp_path / "t.csv"), "--pred-col", "a\nb,x")
    line = assert_input_error(result)
    assert "column 'x': no such column" in line
    assert "'a\\nb'" in line  # the name, escaped


def test_a_bug_whose_words_span_lines_is_still_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lossctl.engine

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("first line\nsecond line\r\nthird")

    monkeypatch.setattr(lossctl.engine, "evaluate", boom)
    (tmp_path / "p.csv").write_text("p\n0.5\n")
    result = run_eval(str(tmp_path / "p.csv"), str(tmp_path / "p.csv"))
    assert result.exit_code == 3
    assert result.stderr.count("\n") == 1
    assert "RuntimeError: first line second line third. This is a bug" in result.stderr
