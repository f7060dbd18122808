"""CI formats: JUnit XML (valid against the JUnit XSD, read back with junitparser, also
after an input error), the Markdown summary, ``--step-summary`` and the refusal to
overwrite inputs or leave files after an error."""

from __future__ import annotations

import json
import re
import socket
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

import pytest
import xmlschema
from junitparser import Error, Failure

from lossctl.report.ci import render_junit_error
from tests.ci.data import EXACT_DIFFERENCE, Pair, exact_regression_pair, write_csv
from tests.ci.junit import assert_valid_junit, junit_schema, read_junit
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

    suite = read_junit(junit)
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (3, 2, 0, 0)
    assert (suite.name, suite.hostname) == ("lossctl", socket.gethostname())
    started = datetime.fromisoformat(suite.timestamp).replace(tzinfo=timezone.utc)
    assert abs((datetime.now(timezone.utc) - started).total_seconds()) < 600
    assert 0 <= suite.time < 600
    cases = list(suite)
    assert [c.name for c in cases] == ["max_loss", "max_increase", "min_d2"]
    assert {c.classname for c in cases} == {"lossctl.gates"}
    assert [c.is_passed for c in cases] == [True, False, False]

    failures = [c.result[0] for c in cases[1:]]
    assert all(isinstance(f, Failure) and f.type == "GateFailed" for f in failures)
    stderr_lines = [line.removeprefix("lossctl: ") for line in result.stderr.splitlines()]
    assert [f.message for f in failures] == stderr_lines
    assert [f.text for f in failures] == stderr_lines
    assert "0.875" in stderr_lines[0] and "0.5" in stderr_lines[0]

    properties = {p.name: p.value for p in suite.properties()}
    assert properties["task"] == "regression"
    assert float(properties["mean_loss"]) == 2.5
    assert properties["n_samples"] == "40"
    root = ET.parse(junit).getroot()
    (system_out,) = root.iter("system-out")
    assert (system_out.text or "").startswith("regression (identity + squared_error)")
    (system_err,) = root.iter("system-err")
    assert (system_err.text or "").splitlines() == stderr_lines


def test_junit_counts_when_every_gate_passes(pair: Pair, tmp_path: Path) -> None:
    junit = tmp_path / "gates.xml"
    result = run_eval(pair.preds, pair.targets, "--max-loss", "3", "--junit", str(junit))
    assert result.exit_code == 0
    suite = read_junit(junit)
    assert (suite.tests, suite.failures, suite.errors) == (1, 0, 0)
    (case,) = suite
    assert case.name == "max_loss" and case.is_passed and case.result == []


def test_junit_without_gates_has_one_passing_testcase(pair: Pair, tmp_path: Path) -> None:
    junit = tmp_path / "gates.xml"
    assert run_eval(pair.preds, pair.targets, "--junit", str(junit)).exit_code == 0
    suite = read_junit(junit)
    assert (suite.tests, suite.failures) == (1, 0)
    (case,) = suite
    assert (case.classname, case.name, case.result) == ("lossctl.eval", "evaluation", [])


def test_junit_escapes_file_derived_text(tmp_path: Path) -> None:
    """A file name with XML metacharacters still gives a valid document."""
    weird = tmp_path / 'a<b>&"c.csv'
    weird.write_text(Path(sample_path("binary_probs.csv")).read_text())
    junit = tmp_path / "gates.xml"
    result = run_eval(
        str(weird), sample_path("binary_labels.csv"), "--max-loss", "0.1", "--junit", str(junit)
    )
    assert result.exit_code == 1
    props = {p.name: p.value for p in read_junit(junit).properties()}
    assert props["predictions"] == str(weird)


def test_junit_holds_what_xml_cannot_as_escapes() -> None:
    """Control characters from a file (a column name, a cell) would make the XML invalid."""
    text = render_junit_error("column 'a\x01b', row 2: '\x1b[31m' is not a number", "NonNumeric")
    assert_valid_junit(text)
    (error,) = ET.fromstring(text.encode()).iter("error")
    assert error.get("message") == "column 'a\\x01b', row 2: '\\x1b[31m' is not a number"


@pytest.mark.parametrize(
    ("pattern", "replacement"),
    [
        ("<testsuites>", '<testsuites tests="1">'),  # the XSD allows no attribute there
        (' hostname="[^"]*"', ""),
        ('timestamp="([^"]*)"', r'timestamp="\1Z"'),  # no time zone
        (' id="0"', ""),
        (' package="lossctl"', ""),
        (' type="NonNumeric"', ""),
        ("<system-err>.*?</system-err>", ""),
        ("<properties />", ""),
        ('(<testcase [^>]*) time="[^"]*"', r"\1"),
        ("</testcase>", '<failure type="x"/></testcase>'),  # at most one result
    ],
)
def test_the_xsd_refuses_what_readers_refuse(pattern: str, replacement: str) -> None:
    """The test's schema is not a rubber stamp: each rule of JUnit.xsd is in force."""
    good = render_junit_error("bad value", "NonNumeric")
    assert_valid_junit(good)
    bad = re.sub(pattern, replacement, good, count=1, flags=re.DOTALL)
    assert bad != good
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        junit_schema().validate(bad)


# --------------------------------------------------------------------------- JUnit on exit 2


def _error_case(junit: Path, stderr: str) -> Error:
    """The one test case of an error JUnit file; its message is the stderr line's."""
    suite = read_junit(junit)
    assert (suite.tests, suite.failures, suite.errors) == (1, 0, 1)
    (case,) = suite
    (error,) = case.result
    assert isinstance(error, Error)
    assert error.message == error.text == stderr.removeprefix("lossctl: error: ").rstrip("\n")
    return error


def test_an_input_error_still_writes_the_junit_file_with_the_message(tmp_path: Path) -> None:
    targets = write_csv(tmp_path / "t.csv", {"y": [1, 0, 1]})
    preds = write_csv(tmp_path / "p.csv", {"p": ["0.5", "1.5x", "0.2"]})
    junit = tmp_path / "junit.xml"
    result = run_eval(preds, targets, "--max-loss", "1", "--junit", str(junit))
    assert result.exit_code == 2, result.stderr
    error = _error_case(junit, result.stderr)
    assert error.type == "NonNumeric" and "'1.5x' is not a number" in error.message


def test_a_usage_error_still_writes_the_junit_file(pair: Pair, tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    result = run_eval(pair.preds, pair.targets, "--junit", str(junit), "--task", "binomial")
    assert result.exit_code == 2
    error = _error_case(junit, result.stderr)
    assert error.type == "BadParameter" and "'binomial' is not one of" in error.message


def test_no_error_junit_where_the_arguments_cannot_be_followed(pair: Pair, tmp_path: Path) -> None:
    """``--junit`` missing its value, or a file in a missing directory: nothing is written."""
    assert run_eval(pair.preds, pair.targets, "--max-loss", "x", "--junit").exit_code == 2
    missing = tmp_path / "no" / "junit.xml"
    result = run_eval(pair.preds, pair.targets, "--task", "x", "--junit", str(missing))
    assert result.exit_code == 2
    assert _files(tmp_path) == {"data"}  # the inputs' directory alone


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


def _by_rows(text: str) -> list[list[str]]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.endswith("| weight | mean loss |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(_cells(line))
    return rows


def test_a_long_by_table_shows_the_100_worst_groups_and_says_how_many_are_left_out(
    tmp_path: Path,
) -> None:
    md = tmp_path / "s.md"
    data = sample_path("binary_single.csv")
    args = [data, "--target-col", "churned", "--by", "id", "--markdown", str(md)]
    result = run_eval(*args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    groups = json.loads(result.stdout)["groups"]
    assert len(groups) == 200
    rows = _by_rows(md.read_text(encoding="utf-8"))
    worst = sorted(groups, key=lambda g: -g["mean_loss"])[:100]
    assert [row[0] for row in rows] == [g["name"] for g in worst]
    assert [float(row[3]) for row in rows] == [float(f"{g['mean_loss']:.6g}") for g in worst]
    assert (
        "The 100 groups of highest mean loss are shown; 100 more were left out "
        "(all are in the JSON report)." in md.read_text(encoding="utf-8")
    )


def test_a_short_by_table_is_whole_worst_first(tmp_path: Path) -> None:
    md = tmp_path / "s.md"
    preds = write_csv(tmp_path / "p.csv", {"p": [0.9, 0.2, 0.6, 0.3], "g": ["a", "b", "c", "a"]})
    targets = write_csv(tmp_path / "y.csv", {"y": [1, 0, 0, 1]})
    assert run_eval(preds, targets, "--by", "g", "--markdown", str(md)).exit_code == 0
    text = md.read_text(encoding="utf-8")
    assert [row[0] for row in _by_rows(text)] == ["c", "a", "b"]
    assert "left out" not in text


def test_the_markdown_summary_stays_well_under_1_mib(tmp_path: Path) -> None:
    """5,000 groups named by 2,000-character values: the summary is cut, cells too."""
    n = 5000
    names = [f"{i:05d}" + "x" * 2000 for i in range(n)]
    preds = write_csv(tmp_path / "p.csv", {"p": [0.5] * n, "g": names})
    targets = write_csv(tmp_path / "y.csv", {"y": [1, 0] * (n // 2)})
    md = tmp_path / "s.md"
    assert run_eval(preds, targets, "--by", "g", "--markdown", str(md)).exit_code == 0
    size = md.stat().st_size
    assert size < 64 * 1024, size
    rows = _by_rows(md.read_text(encoding="utf-8"))
    assert len(rows) == 100 and all(len(row[0]) <= 200 and row[0].endswith("…") for row in rows)
    assert "4900 more were left out" in md.read_text(encoding="utf-8")


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
    if other == "--junit":  # the error is said in the JUnit file, when that is not the culprit
        _error_case(other_path, result.stderr)
    else:
        assert not other_path.exists()
    assert not any(name.endswith(".tmp") for name in _files(victim.parent))


def test_an_output_in_a_missing_directory_is_a_usage_error(pair: Pair, tmp_path: Path) -> None:
    result = run_eval(pair.preds, pair.targets, "--junit", str(tmp_path / "no" / "g.xml"))
    assert_input_error(result, "--junit", "directory")


def test_after_an_input_error_only_the_junit_file_exists(tmp_path: Path) -> None:
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
    assert _files(out) == {"g.xml"}
    _error_case(out / "g.xml", result.stderr)
