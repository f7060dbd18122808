"""The drop gates: --max-accuracy-drop and --max-auc-drop (``max_accuracy_drop=``,
``max_auc_drop=``) observe the baseline's accuracy (multilabel: subset accuracy) or macro
ROC AUC minus the predictions', in the metric's own units, and pass when that is at most
the threshold: exit 0, or 1 when one fails, with the gate in the JSON, JUnit and
Markdown as every gate; bad input is exit 2 and one line.

The exact case: 8 binary rows, the baseline ranks and classifies every row right
(accuracy 1, ROC AUC 1); the predictions swap the scores of one negative and one positive
row (0.4 and 0.6), so 6 of 8 are right (accuracy 0.75) and 15 of the 16 pairs are ranked
right (ROC AUC 0.9375). The drops are 0.25 and 0.0625, exact in binary floating point.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, roc_auc_score

import lossctl
from lossctl.errors import ConflictingOptions, InvalidOption, MetricNotForTask, MissingBaseline
from tests.ci.data import write_csv
from tests.ci.junit import read_junit
from tests.cli.helpers import assert_input_error, run_eval

Y = [0, 0, 0, 0, 1, 1, 1, 1]
BASE = [0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9]
PRED = [0.1, 0.2, 0.3, 0.6, 0.4, 0.7, 0.8, 0.9]
ACCURACY_DROP, AUC_DROP = 0.25, 0.0625


@pytest.fixture
def files(tmp_path: Path) -> list[str]:
    """PREDICTIONS TARGETS --baseline BASELINE of the exact case."""
    ids = [f"r{i}" for i in range(len(Y))]
    return [
        write_csv(tmp_path / "preds.csv", {"id": ids, "p": PRED}),
        write_csv(tmp_path / "labels.csv", {"id": ids, "y": Y}),
        "--baseline",
        write_csv(tmp_path / "base.csv", {"id": ids, "p": BASE}),
    ]


def test_the_exact_case_is_what_scikit_learn_says() -> None:
    """The drops of the module docstring, from scikit-learn."""
    y, base, pred = np.array(Y), np.array(BASE), np.array(PRED)
    drop = accuracy_score(y, base > 0.5) - accuracy_score(y, pred > 0.5)
    assert drop == ACCURACY_DROP
    assert roc_auc_score(y, base) - roc_auc_score(y, pred) == AUC_DROP


@pytest.mark.parametrize(
    ("option", "drop"), [("--max-accuracy-drop", ACCURACY_DROP), ("--max-auc-drop", AUC_DROP)]
)
def test_a_drop_gate_passes_at_its_threshold_and_fails_below_it(
    files: list[str], option: str, drop: float
) -> None:
    name = option[2:].replace("-", "_")
    passed = run_eval(*files, option, repr(drop), "--format", "json")
    assert passed.exit_code == 0, passed.stderr
    assert passed.stderr == ""
    (gate,) = json.loads(passed.stdout)["gates"]
    assert gate == {"name": name, "threshold": drop, "observed": drop, "passed": True}
    below = repr(math.nextafter(drop, 0.0))
    failed = run_eval(*files, option, below, "--format", "json")
    assert failed.exit_code == 1, failed.stderr
    (gate,) = json.loads(failed.stdout)["gates"]
    assert (gate["observed"], gate["passed"]) == (drop, False)
    subject = "accuracy" if "accuracy" in option else "ROC AUC"
    assert failed.stderr == (
        f"lossctl: gate {name} failed: {subject} drop from the baseline {drop:.10g} > "
        f"{float(below):g} ({option})\n"
    )


def test_the_python_api_takes_the_drop_gates(files: list[str]) -> None:
    preds, targets, _, base = files
    report = lossctl.evaluate(
        preds, targets, baseline=base, max_accuracy_drop=0.3, max_auc_drop=0.05
    )
    assert [(g.name, g.observed, g.passed) for g in report.gates] == [
        ("max_accuracy_drop", ACCURACY_DROP, True),
        ("max_auc_drop", AUC_DROP, False),
    ]
    assert int(report.exit_code) == 1
    assert report.baseline is not None and report.baseline.metrics is not None
    assert report.baseline.metrics.values["accuracy"] == 1.0
    assert report.baseline.metrics.values["roc_auc"] == 1.0


def test_junit_and_markdown_hold_the_drop_gates(files: list[str], tmp_path: Path) -> None:
    junit, markdown = tmp_path / "gates.xml", tmp_path / "summary.md"
    result = run_eval(
        *files,
        "--max-loss", "10",
        "--max-accuracy-drop", "0.3",
        "--max-auc-drop", "0.05",
        "--junit", str(junit),
        "--markdown", str(markdown),
        "--format", "value",
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr
    suite = read_junit(junit)
    assert [case.name for case in suite] == ["max_loss", "max_accuracy_drop", "max_auc_drop"]
    assert suite.failures == 1
    failed = next(case for case in suite if case.name == "max_auc_drop")
    assert (
        failed.result and "ROC AUC drop from the baseline 0.0625 > 0.05" in failed.result[0].message
    )
    text = markdown.read_text(encoding="utf-8")
    assert "| `max_accuracy_drop` | 0.3 | 0.25 | passed |" in text
    assert "| `max_auc_drop` | 0.05 | 0.0625 | **FAILED** |" in text
    assert "| accuracy | 0.75 | 1 | -0.25 | |" in text


def test_a_candidate_better_than_its_baseline_drops_below_zero(files: list[str]) -> None:
    preds, targets, _, base = files
    report = lossctl.evaluate(base, targets, baseline=preds, max_accuracy_drop=0)
    assert [(g.observed, g.passed) for g in report.gates] == [(-ACCURACY_DROP, True)]


def test_an_undefined_metric_fails_its_drop_gate(tmp_path: Path) -> None:
    """Targets of one class: ROC AUC is undefined (null) for both, and the gate fails."""
    preds = write_csv(tmp_path / "p.csv", {"p": [0.2, 0.4, 0.7]})
    base = write_csv(tmp_path / "b.csv", {"p": [0.3, 0.5, 0.6]})
    targets = write_csv(tmp_path / "t.csv", {"y": [1, 1, 1]})
    result = run_eval(preds, targets, "--baseline", base, "--max-auc-drop", "1", "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["baseline"]["metrics"]["roc_auc"] is None
    assert doc["gates"] == [
        {"name": "max_auc_drop", "threshold": 1.0, "observed": None, "passed": False}
    ]


def test_the_accuracy_drop_of_multilabel_is_of_the_subset_accuracy(tmp_path: Path) -> None:
    """Two labels; the predictions get rows 1 and 2 wholly right (subset accuracy 1/2), the
    baseline rows 1 to 3 (3/4): a drop of 1/4, though each has 6 of 8 labels right."""
    y = {"a": [1, 0, 1, 0], "b": [0, 1, 1, 0]}
    pred = {"a": [0.9, 0.2, 0.8, 0.7], "b": [0.1, 0.8, 0.3, 0.4]}
    base = {"a": [0.9, 0.2, 0.8, 0.6], "b": [0.1, 0.8, 0.7, 0.6]}
    report = lossctl.evaluate(
        write_csv(tmp_path / "p.csv", pred),
        write_csv(tmp_path / "t.csv", y),
        baseline=write_csv(tmp_path / "b.csv", base),
        max_accuracy_drop=0.25,
    )
    assert report.task == "multilabel"
    assert report.metrics is not None and report.metrics.values["subset_accuracy"] == 0.5
    assert report.baseline is not None and report.baseline.metrics is not None
    assert report.baseline.metrics.values["subset_accuracy"] == 0.75
    assert [(g.observed, g.passed) for g in report.gates] == [(0.25, True)]


REGRESSION = ["sample_data/regression_preds.csv", "sample_data/regression_targets.csv"]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--max-accuracy-drop", "0.01"], ["--max-accuracy-drop compares with a baseline"]),
        (["--max-auc-drop", "0.01"], ["--max-auc-drop compares with a baseline"]),
        (
            ["BASELINE", "--max-accuracy-drop", "-0.01"],
            ["--max-accuracy-drop -0.01 is not a finite number of 0 or more"],
        ),
        (["BASELINE", "--max-auc-drop", "inf"], ["--max-auc-drop inf is not a finite number"]),
        (["BASELINE", "--max-auc-drop", "nan"], ["--max-auc-drop is not a number"]),
        (
            ["BASELINE", "--max-auc-drop", "0.01", "--no-metrics"],
            ["--max-auc-drop gates a metric, and --no-metrics turns the metrics off"],
        ),
        (
            ["REGRESSION", "--max-accuracy-drop", "0.01"],
            ["--max-accuracy-drop gates a metric that regression predictions do not have"],
        ),
        (
            ["REGRESSION", "--max-auc-drop", "0.01"],
            ["--max-auc-drop gates a metric that regression", "or use --max-increase"],
        ),
    ],
)
def test_bad_drop_gates_are_one_line_and_exit_2(
    files: list[str], args: list[str], fragments: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    if args[0] == "BASELINE":
        args = [*files, *args[1:]]
    elif args[0] == "REGRESSION":
        args = [*REGRESSION, "--baseline", REGRESSION[0], *args[1:]]
    else:
        args = [*files[:2], *args]
    assert_input_error(run_eval(*args), *fragments)


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"max_accuracy_drop": 0.1}, MissingBaseline),
        ({"baseline": "B", "max_auc_drop": -1.0}, InvalidOption),
        ({"baseline": "B", "max_auc_drop": float("inf")}, InvalidOption),
        ({"baseline": "B", "max_accuracy_drop": 0.1, "metrics": False}, ConflictingOptions),
    ],
)
def test_the_python_api_refuses_the_same_drop_gates(
    files: list[str], options: dict[str, object], error: type[Exception]
) -> None:
    preds, targets, _, base = files
    if options.get("baseline") == "B":
        options = {**options, "baseline": base}
    with pytest.raises(error):
        lossctl.evaluate(preds, targets, **options)


def test_the_python_api_refuses_a_drop_gate_on_regression(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    with pytest.raises(MetricNotForTask):
        lossctl.evaluate(*REGRESSION, baseline=REGRESSION[0], max_auc_drop=0.1)
