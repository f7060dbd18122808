"""Gates as data: every gate alone and together, exit codes 0/1/2, stderr lines, JSON.

The inputs are the exact regression pair of ``tests/ci/data.py``: the candidate's
mean squared error is 2.5, the baseline's 1.625, so the observed values of the
gates are known in closed form (and checked against scikit-learn).
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import mean_squared_error, r2_score

import lossctl
from lossctl.errors import ExitCode, UsageError
from lossctl.report.model import Gate
from tests.ci.data import (
    BASE_MSE,
    CAND_MSE,
    EXACT_DIFFERENCE,
    N_EXACT,
    Pair,
    exact_regression_pair,
)
from tests.ci.junit import read_junit
from tests.cli.helpers import assert_input_error, run_eval

GATE_ORDER = ["max_loss", "max_increase", "max_increase_pct", "min_d2"]
GATE_LINE = re.compile(
    r"^lossctl: gate (?P<name>\w+) failed: (?P<subject>.+) (?P<observed>\S+) "
    r"(?P<sign>[<>]) (?P<threshold>\S+) \((?P<option>--[\w-]+)\)$"
)


@pytest.fixture
def pair(tmp_path: Path) -> Pair:
    return exact_regression_pair(tmp_path / "data")


def observed(pair: Pair) -> dict[str, float]:
    """What each gate observes, from scikit-learn, never from lossctl."""
    cand = mean_squared_error(pair.y, pair.pred)
    base = mean_squared_error(pair.y, pair.base_pred)
    return {
        "max_loss": cand,
        "max_increase": cand - base,
        "max_increase_pct": 100.0 * (cand - base) / base,
        "min_d2": r2_score(pair.y, pair.pred),
    }


def test_the_exact_pair_is_what_the_tests_assume(pair: Pair) -> None:
    seen = observed(pair)
    assert seen["max_loss"] == CAND_MSE
    assert seen["max_increase"] == EXACT_DIFFERENCE == CAND_MSE - BASE_MSE
    assert seen["max_increase_pct"] == pytest.approx(100 * 0.875 / 1.625, rel=1e-15)
    assert 0.0 < seen["min_d2"] < 1.0


def _eval(pair: Pair, *options: str, fmt: str = "json") -> tuple[int, dict | None, list[str]]:
    result = run_eval(pair.preds, pair.targets, *options, "--format", fmt)
    doc = json.loads(result.stdout) if fmt == "json" and result.stdout else None
    return result.exit_code, doc, result.stderr.splitlines()


def _options(pair: Pair, name: str, threshold: float) -> list[str]:
    option = "--" + name.replace("_", "-")
    extra = ["--baseline", pair.base] if name in ("max_increase", "max_increase_pct") else []
    return [*extra, option, repr(threshold)]


# Thresholds on either side of the observed values: (gate, passing, failing).
# A max_* gate passes at equality; min_d2 too.
EITHER_SIDE = [
    ("max_loss", 2.5, 2.4999),
    ("max_loss", 3.0, 0.0),
    ("max_increase", 0.875, 0.8749),
    ("max_increase", 10.0, -1.0),
    ("max_increase_pct", 53.9, 53.8),
    ("max_increase_pct", 100.0, 0.0),
    ("min_d2", -1.0, 0.999),
]


@pytest.mark.parametrize(("name", "passing", "failing"), EITHER_SIDE)
def test_each_gate_alone_passes_with_exit_0_and_fails_with_exit_1(
    pair: Pair, name: str, passing: float, failing: float
) -> None:
    expected = observed(pair)[name]

    code, doc, stderr = _eval(pair, *_options(pair, name, passing))
    assert (code, stderr) == (0, [])
    assert doc is not None and doc["passed"] is True
    assert [g["name"] for g in doc["gates"]] == [name]
    gate = doc["gates"][0]
    assert gate["threshold"] == passing and gate["passed"] is True
    assert gate["observed"] == pytest.approx(expected, rel=1e-12)

    code, doc, stderr = _eval(pair, *_options(pair, name, failing))
    assert code == 1
    assert doc is not None and doc["passed"] is False
    assert doc["gates"] == [
        {"name": name, "threshold": failing, "observed": gate["observed"], "passed": False}
    ]
    assert len(stderr) == 1, stderr
    assert GATE_LINE.match(stderr[0]), stderr[0]


def test_min_d2_at_exactly_the_observed_value_passes(pair: Pair) -> None:
    _, doc, _ = _eval(pair)
    assert doc is not None
    d2 = doc["d2"]
    assert d2 == pytest.approx(r2_score(pair.y, pair.pred), rel=1e-12)
    code, doc, stderr = _eval(pair, "--min-d2", repr(d2))
    assert (code, stderr) == (0, [])
    code, _, stderr = _eval(pair, "--min-d2", repr(float(np.nextafter(d2, 2.0))))
    assert code == 1 and len(stderr) == 1


def test_max_increase_gates_pass_when_the_candidate_is_the_better_model(pair: Pair) -> None:
    """Swap the roles: the difference is -0.875, below a threshold of 0."""
    result = run_eval(
        pair.base,
        pair.targets,
        "--baseline",
        pair.preds,
        "--max-increase",
        "0",
        "--max-increase-pct",
        "0",
        "--format",
        "json",
    )
    assert (result.exit_code, result.stderr) == (0, "")
    gates = json.loads(result.stdout)["gates"]
    assert [g["observed"] for g in gates] == pytest.approx(
        [-EXACT_DIFFERENCE, -100 * EXACT_DIFFERENCE / CAND_MSE], rel=1e-12
    )


ALL_PASS = {"max_loss": 2.6, "max_increase": 0.9, "max_increase_pct": 54.0, "min_d2": -5.0}
ALL_FAIL = {"max_loss": 2.0, "max_increase": 0.5, "max_increase_pct": 10.0, "min_d2": 0.9999}


def _all_gates(pair: Pair, thresholds: dict[str, float]) -> list[str]:
    options = ["--baseline", pair.base]
    for name in GATE_ORDER:
        options += ["--" + name.replace("_", "-"), repr(thresholds[name])]
    return options


def test_all_gates_passing_together_exit_0_silently(pair: Pair) -> None:
    code, doc, stderr = _eval(pair, *_all_gates(pair, ALL_PASS))
    assert (code, stderr) == (0, [])
    assert doc is not None
    assert [g["name"] for g in doc["gates"]] == GATE_ORDER
    assert all(g["passed"] for g in doc["gates"]) and doc["passed"] is True


@pytest.mark.parametrize("failing", [*GATE_ORDER, "all"])
def test_combined_gates_exit_1_with_one_stderr_line_per_failed_gate(
    pair: Pair, failing: str
) -> None:
    """Each gate failing among passing ones, and all of them failing at once."""
    names = GATE_ORDER if failing == "all" else [failing]
    thresholds = {n: (ALL_FAIL if n in names else ALL_PASS)[n] for n in GATE_ORDER}
    code, doc, stderr = _eval(pair, *_all_gates(pair, thresholds))
    assert code == 1
    assert doc is not None
    assert [(g["name"], g["passed"]) for g in doc["gates"]] == [
        (n, n not in names) for n in GATE_ORDER
    ]
    assert [GATE_LINE.match(line)["name"] for line in stderr] == names  # type: ignore[index]


def test_a_failed_gate_line_names_the_observed_value_and_the_threshold(pair: Pair) -> None:
    expected = observed(pair)
    _, doc, stderr = _eval(pair, *_all_gates(pair, ALL_FAIL))
    assert doc is not None
    by_name = {g["name"]: g for g in doc["gates"]}
    for line in stderr:
        match = GATE_LINE.match(line)
        assert match is not None, line
        name = match["name"]
        assert float(match["observed"]) == pytest.approx(expected[name], rel=1e-9)
        assert float(match["observed"]) == pytest.approx(by_name[name]["observed"], rel=1e-9)
        assert float(match["threshold"]) == ALL_FAIL[name]
        assert match["option"] == "--" + name.replace("_", "-")
        assert match["sign"] == ("<" if name == "min_d2" else ">")


@pytest.mark.parametrize("fmt", ["table", "json", "value", "csv"])
def test_a_failed_gate_still_prints_the_report_and_writes_output(
    pair: Pair, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / "losses.csv"
    result = run_eval(
        pair.preds, pair.targets, "--max-loss", "1", "--output", str(out), "--format", fmt
    )
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1
    squared = (pair.pred - pair.y) ** 2
    if fmt == "table":
        assert "mean loss" in result.stdout and "FAILED" in result.stdout
        assert "Gates" in result.stdout
    elif fmt == "json":
        assert json.loads(result.stdout)["mean_loss"] == CAND_MSE
    elif fmt == "value":
        assert float(result.stdout) == CAND_MSE
    else:
        assert pd.read_csv(io.StringIO(result.stdout))["loss"].tolist() == list(squared)
    written = pd.read_csv(out)
    assert written["id"].tolist() == pair.ids
    assert written["loss"].tolist() == list(squared)


@pytest.mark.parametrize("option", ["--max-increase", "--max-increase-pct"])
def test_an_increase_gate_without_a_baseline_is_a_usage_error(
    pair: Pair, tmp_path: Path, option: str
) -> None:
    junit = tmp_path / "gates.xml"
    result = run_eval(pair.preds, pair.targets, option, "0.1", "--junit", str(junit))
    assert_input_error(result, option, "--baseline")
    (case,) = read_junit(junit)  # the JUnit file says why
    assert [(type(e).__name__, e.type) for e in case.result] == [("Error", "MissingBaseline")]


def test_the_library_report_carries_the_exit_code(pair: Pair) -> None:
    clean = lossctl.evaluate(pair.preds, pair.targets)
    assert clean.gates == () and clean.passed is True and clean.exit_code == ExitCode.OK

    report = lossctl.evaluate(
        pair.preds, pair.targets, baseline=pair.base, max_loss=3.0, max_increase=0.5
    )
    assert [(g.name, g.passed) for g in report.gates] == [
        ("max_loss", True),
        ("max_increase", False),
    ]
    assert report.passed is False
    assert report.exit_code == ExitCode.GATE_FAILED == 1
    assert report.gates[1].observed == pytest.approx(EXACT_DIFFERENCE, rel=1e-12)

    passing = lossctl.evaluate(pair.preds, pair.targets, min_d2=-1.0)
    assert passing.exit_code == ExitCode.OK


def test_the_library_refuses_an_increase_gate_without_a_baseline(pair: Pair) -> None:
    with pytest.raises(UsageError, match="--baseline") as caught:
        lossctl.evaluate(pair.preds, pair.targets, max_increase_pct=1.0)
    assert caught.value.exit_code == ExitCode.INPUT_ERROR


def test_cli_json_gates_equal_the_library_gates(pair: Pair) -> None:
    _, doc, _ = _eval(pair, *_all_gates(pair, ALL_FAIL))
    report = lossctl.evaluate(
        pair.preds,
        pair.targets,
        baseline=pair.base,
        max_loss=ALL_FAIL["max_loss"],
        max_increase=ALL_FAIL["max_increase"],
        max_increase_pct=ALL_FAIL["max_increase_pct"],
        min_d2=ALL_FAIL["min_d2"],
    )
    assert doc is not None
    assert doc["gates"] == report.to_dict()["gates"]
    assert len(report.gates) == len(GATE_ORDER) and not any(g.passed for g in report.gates)


@pytest.mark.parametrize(
    ("gate", "passed"),
    [
        (Gate.at_most("max_loss", 1.0, 1.0), True),
        (Gate.at_most("max_loss", 1.0, float(np.nextafter(1.0, 2.0))), False),
        (Gate.at_most("max_loss", 1.0, float("nan")), False),
        (Gate.at_least("min_d2", 0.5, 0.5), True),
        (Gate.at_least("min_d2", 0.5, float(np.nextafter(0.5, 0.0))), False),
        (Gate.at_least("min_d2", 0.5, float("nan")), False),
        (Gate.at_most("max_increase_pct", 5.0, float("inf")), False),
    ],
)
def test_gate_semantics_strict_and_nan_fails(gate: Gate, passed: bool) -> None:
    assert gate.passed is passed
    assert gate.message.startswith(f"gate {gate.name} {'passed' if passed else 'failed'}: ")


def test_an_infinite_threshold_gives_valid_json_and_passes(pair: Pair) -> None:
    result = run_eval(pair.preds, pair.targets, "--max-loss", "inf", "--format", "json")
    assert (result.exit_code, result.stderr) == (0, "")
    (gate,) = json.loads(result.stdout)["gates"]
    assert gate == {"name": "max_loss", "threshold": None, "observed": CAND_MSE, "passed": True}


def test_n_exact_rows_are_all_evaluated(pair: Pair) -> None:
    _, doc, _ = _eval(pair)
    assert doc is not None and doc["n_samples"] == N_EXACT
