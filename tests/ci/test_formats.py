"""CI formats: JUnit XML (parsed back with an XML parser), the Markdown summary,
``--step-summary`` and the refusal to overwrite inputs or leave files after an error."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.ci.data import EXACT_DIFFERENCE, Pair, exact_regression_pair, write_csv
from tests.cli.helpers import assert_input_error, run_eval, sample_path

GATES_MIXED = ["--max-loss", "3", "--max-increase", "0.5", "--min-d2", "0.999"]


@pytest.fixture
def pair(tmp_path: Path) -> Pair:
    return exact_regression_pair(tmp_path / "data")


def _files(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()}


# --------------------------------------------------------------------------- JUnit


def test_junit_has_one_testcase_per_gate_and_a_failure_for_each_failed_one(
    pair: Pair, tmp_path: Path
) -> None:
    junit = tmp_path / "out" / "gates.xml"
    junit.parent.mkdir()
    result = run_eval(
        pair.preds, pair.targets, "--baseline", pair.base, *GATES_MIXED, "--junit", str(junit)
    )
    assert result.exit_code == 1
    assert _files(junit.parent) == {"gates.xml"}  # no temporary file left beside it

    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "2", "0")
    assert (root.get("tests"), root.get("failures")) == ("3", "2")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["max_loss", "max_increase", "min_d2"]
    assert [len(c.findall("failure")) for c in cases] == [0, 1, 1]

    failure_messages = [c.find("failure").get("message") for c in cases[1:]]  # type: ignore[union-attr]
    stderr_lines = [line.removeprefix("lossctl: ") for line in result.stderr.splitlines()]
    assert failure_messages == stderr_lines
    assert "0.875" in failure_messages[0] and "0.5" in failure_messages[0]
    for case in cases[1:]:
        failure = case.find("failure")
        assert failure is not None and failure.text == failure.get("message")

    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["task"] == "regression"
    assert float(properties["mean_loss"]) == 2.5
    assert properties["n_samples"] == "40"


def test_junit_counts_when_every_gate_passes(pair: Pair, tmp_path: Path) -> None:
    junit = tmp_path / "gates.xml"
    result = run_eval(pair.preds, pair.targets, "--max-loss", "3", "--junit", str(junit))
    assert result.exit_code == 0
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("1", "0")
    (case,) = suite.findall("testcase")
    assert case.get("name") == "max_loss" and list(case) == []


def test_junit_without_gates_has_one_passing_testcase(pair: Pair, tmp_path: Path) -> None:
    junit = tmp_path / "gates.xml"
    assert run_eval(pair.preds, pair.targets, "--junit", str(junit)).exit_code == 0
    root = ET.parse(junit).getroot()
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("1", "0")
    (case,) = suite.findall("testcase")
    assert case.findall("failure") == [] and case.findall("error") == []


def test_junit_escapes_file_derived_text(tmp_path: Path) -> None:
    """A file name with XML metacharacters still gives a parseable document."""
    weird = tmp_path / 'a<b>&"c.csv'
    weird.write_text(Path(sample_path("binary_probs.csv")).read_text())
    junit = tmp_path / "gates.xml"
    result = run_eval(
        str(weird), sample_path("binary_labels.csv"), "--max-loss", "0.1", "--junit", str(junit)
    )
    assert result.exit_code == 1
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["predictions"] == str(weird)


# --------------------------------------------------------------------------- Markdown


def _cells(line: str) -> list[str]:
    """The cells of a Markdown table row, splitting on pipes that are not escaped."""
    inner = line.strip()[1:-1]
    return [c.strip() for c in re.split(r"(?<!\\)\|", inner)]


def test_markdown_summary_has_task_losses_gates_and_baseline(pair: Pair, tmp_path: Path) -> None:
    md = tmp_path / "summary.md"
    result = run_eval(
        pair.preds,
        pair.targets,
        "--baseline",
        pair.base,
        *GATES_MIXED,
        "--markdown",
        str(md),
        "--format",
        "json",
    )
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    text = md.read_text(encoding="utf-8")
    assert text.startswith("### lossctl: regression")
    assert "FAILED" in text.splitlines()[0]
    rows = {(_cells(line)[0]): _cells(line) for line in text.splitlines() if line.startswith("|")}
    assert rows["mean loss"][1:] == ["2.5", "1.625", "+0.875 (+53.8%)", _interval(doc)]
    assert rows["samples"] == ["samples", "40"]
    assert rows["`max_loss`"] == ["`max_loss`", "3", "2.5", "passed"]
    assert rows["`max_increase`"] == ["`max_increase`", "0.5", "0.875", "**FAILED**"]
    assert rows["`min_d2`"][1] == "0.999" and rows["`min_d2`"][3] == "**FAILED**"
    assert rows["`min_d2`"][2] == f"{doc['d2']:.6g}"
    assert f"{doc['null_loss']:.6g}" in text
    assert "paired bootstrap over 40 rows, 1000 resamples, seed 0" in text
    assert doc["baseline"]["difference"] == EXACT_DIFFERENCE


def _interval(doc: dict) -> str:
    b = doc["baseline"]
    return f"[{b['ci_low']:.6g}, {b['ci_high']:.6g}]"


def test_markdown_escapes_pipes_in_file_derived_names(tmp_path: Path) -> None:
    preds = write_csv(
        tmp_path / "pred|v2.csv", {"p": [0.9, 0.2, 0.6, 0.3], "seg|ment": ["a|b", "c", "a|b", "c"]}
    )
    targets = write_csv(tmp_path / "y.csv", {"y": [1, 0, 1, 1]})
    md = tmp_path / "summary.md"
    result = run_eval(preds, targets, "--by", "seg|ment", "--markdown", str(md))
    assert result.exit_code == 0, result.stderr
    text = md.read_text(encoding="utf-8")
    assert "pred\\|v2.csv" in text
    table_lines = [line for line in text.splitlines() if line.startswith("|")]
    by_header = next(line for line in table_lines if "samples" in line and "weight" in line)
    assert _cells(by_header) == ["seg\\|ment", "samples", "weight", "mean loss"]
    group_rows = [_cells(line) for line in table_lines if line.startswith("| a\\|b")]
    assert len(group_rows) == 1 and len(group_rows[0]) == 4
    for line in table_lines:  # every row of a table has as many cells as its header
        assert len(_cells(line)) in (2, 4), line


def test_markdown_without_gates_or_baseline(pair: Pair, tmp_path: Path) -> None:
    md = tmp_path / "s.md"
    assert run_eval(pair.preds, pair.targets, "--markdown", str(md)).exit_code == 0
    text = md.read_text(encoding="utf-8")
    assert "| mean loss | **2.5** |" in text
    assert "| gate |" not in text and "95% CI" not in text and "Baseline `" not in text
    assert "gates" not in text.splitlines()[0]


# --------------------------------------------------------------------------- step summary


def test_step_summary_appends_to_github_step_summary(pair: Pair, tmp_path: Path) -> None:
    summary = tmp_path / "step_summary.md"
    summary.write_text("# earlier step\n", encoding="utf-8")
    md = tmp_path / "summary.md"
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    args = [pair.preds, pair.targets, "--max-loss", "3", "--step-summary"]
    assert run_eval(*args, "--markdown", str(md), env=env).exit_code == 0
    own = md.read_text(encoding="utf-8")
    assert summary.read_text(encoding="utf-8") == "# earlier step\n" + own
    assert run_eval(*args, env=env).exit_code == 0
    assert summary.read_text(encoding="utf-8") == "# earlier step\n" + own + own


def test_step_summary_creates_the_file_when_there_is_none(pair: Pair, tmp_path: Path) -> None:
    summary = tmp_path / "new.md"
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    assert run_eval(pair.preds, pair.targets, "--step-summary", env=env).exit_code == 0
    assert summary.read_text(encoding="utf-8").startswith("### lossctl: regression")


def test_step_summary_does_nothing_when_the_variable_is_unset(
    pair: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.chdir(tmp_path)
    before = _files(tmp_path)
    result = run_eval(pair.preds, pair.targets, "--step-summary", "--format", "value")
    assert (result.exit_code, result.stderr, float(result.stdout)) == (0, "", 2.5)
    assert _files(tmp_path) == before


def test_without_the_flag_the_step_summary_is_left_alone(pair: Pair, tmp_path: Path) -> None:
    summary = tmp_path / "step_summary.md"
    summary.write_text("kept\n", encoding="utf-8")
    result = run_eval(pair.preds, pair.targets, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.exit_code == 0
    assert summary.read_text(encoding="utf-8") == "kept\n"


def test_a_failed_gate_still_writes_the_step_summary(pair: Pair, tmp_path: Path) -> None:
    summary = tmp_path / "step_summary.md"
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    result = run_eval(pair.preds, pair.targets, "--max-loss", "1", "--step-summary", env=env)
    assert result.exit_code == 1
    assert "| `max_loss` | 1 | 2.5 | **FAILED** |" in summary.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("option", ["--junit", "--markdown"])
@pytest.mark.parametrize("which", ["preds", "targets", "base"])
def test_naming_an_input_is_a_usage_error_and_writes_nothing(
    pair: Pair, tmp_path: Path, option: str, which: str
) -> None:
    victim = Path(getattr(pair, which))
    before = victim.read_bytes()
    other = "--markdown" if option == "--junit" else "--junit"
    other_path = tmp_path / "other.out"
    result = run_eval(
        pair.preds,
        pair.targets,
        "--baseline",
        pair.base,
        option,
        str(victim),
        other,
        str(other_path),
    )
    assert_input_error(result, option, "input")
    assert victim.read_bytes() == before
    assert not other_path.exists()
    assert not any(name.endswith(".tmp") for name in _files(victim.parent))


def test_an_output_in_a_missing_directory_is_a_usage_error(pair: Pair, tmp_path: Path) -> None:
    result = run_eval(pair.preds, pair.targets, "--junit", str(tmp_path / "no" / "g.xml"))
    assert_input_error(result, "--junit", "directory")


def test_after_an_input_error_no_junit_or_markdown_file_exists(tmp_path: Path) -> None:
    targets = write_csv(tmp_path / "t.csv", {"y": [1, 0, 1]})
    preds = write_csv(tmp_path / "p.csv", {"p": ["0.5", "1.5x", "0.2"]})
    out = tmp_path / "out"
    out.mkdir()
    summary = out / "step.md"
    result = run_eval(
        preds,
        targets,
        "--max-loss",
        "1",
        "--junit",
        str(out / "g.xml"),
        "--markdown",
        str(out / "s.md"),
        "--step-summary",
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert result.exit_code == 2, result.stderr
    assert _files(out) == set()
