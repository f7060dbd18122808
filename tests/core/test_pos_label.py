"""Binary targets that are not 0/1 (``--pos-label``), and the errors around them.

Oracle: scikit-learn's ``log_loss`` of the targets mapped by the positive class
(1 where the target is it, 0 elsewhere), with ``labels=[0, 1]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from sklearn.metrics import log_loss

import lossctl
from lossctl.errors import (
    ConflictingOptions,
    InvalidOption,
    NotBinary,
    PosLabelNeeded,
    TooManyValues,
    UnknownPosLabel,
)
from tests.cli.helpers import assert_input_error, csv_text, eval_json, run, run_eval

RNG = np.random.default_rng(12)
N = 40
P = RNG.uniform(0.02, 0.98, N)


def _values(a: Any, b: Any) -> list[Any]:
    """N targets of the two values ``a`` and ``b``, both present."""
    picks = RNG.integers(0, 2, N)
    picks[:2] = (0, 1)
    return [a if i == 0 else b for i in picks]


def _oracle(targets: list[Any], positive: Any, p: np.ndarray = P) -> float:
    y = np.array([1 if t == positive else 0 for t in targets])
    return float(log_loss(y, p, labels=[0, 1]))


# pos-label as given on the command line, the positive value, the two target values
CASES = [
    ("yes", "yes", ("yes", "no")),
    ("M", "M", ("M", "B")),
    ("1", 1, (-1, 1)),
    ("-1", -1, (-1, 1)),
    ("2", 2, (1, 2)),
    ("1", 1, (1, 2)),  # p is then the probability of 1
    ("1.0", 1, (1, 2)),  # matched as a number
    ("0", 0, (0, 1)),  # the usual 0/1, turned round
]


@pytest.mark.parametrize(("label", "positive", "values"), CASES)
def test_the_mean_loss_is_sklearns_with_targets_mapped_by_pos_label(
    label: str, positive: Any, values: tuple[Any, Any]
) -> None:
    targets = _values(*values)
    report = lossctl.evaluate(P, pd.Series(targets, name="y"), pos_label=label)
    assert report.task == "binary"
    assert report.mean_loss == pytest.approx(_oracle(targets, positive), rel=1e-12)


@pytest.mark.parametrize(("label", "positive", "values"), CASES)
def test_the_command_line_agrees_on_csv_files(
    tmp_path: Path, label: str, positive: Any, values: tuple[Any, Any]
) -> None:
    targets = _values(*values)
    preds = tmp_path / "preds.csv"
    preds.write_text(csv_text(["p"], [[repr(float(v))] for v in P]))
    target_file = tmp_path / "targets.csv"
    target_file.write_text(csv_text(["y"], [[t] for t in targets]))
    doc = eval_json(str(preds), str(target_file), "--pos-label", label)
    assert doc["task"] == "binary"
    assert doc["mean_loss"] == pytest.approx(_oracle(targets, positive), rel=1e-12)
    assert any("is the positive class (--pos-label)" in r for r in doc["detection"]["reasons"])


def test_logits_with_pos_label() -> None:
    z = RNG.uniform(-4.0, 4.0, N)
    targets = _values("spam", "ham")
    report = lossctl.evaluate(z, pd.Series(targets), pos_label="spam")
    assert report.prediction_kind == "logits"
    assert report.mean_loss == pytest.approx(_oracle(targets, "spam", expit(z)), rel=1e-9)


def test_numbers_and_bools_are_taken_as_their_text_in_python() -> None:
    targets = _values(1, 2)
    expected = _oracle(targets, 2)
    for label in (2, 2.0, "2"):
        assert lossctl.evaluate(P, np.array(targets), pos_label=label).mean_loss == pytest.approx(
            expected, rel=1e-12
        )
    flags = _values(True, False)
    report = lossctl.evaluate(P, np.array(flags), pos_label=False)
    assert report.mean_loss == pytest.approx(_oracle(flags, False), rel=1e-12)


def test_the_reason_and_the_encoding_name_the_positive_class() -> None:
    report = lossctl.evaluate(
        np.array([0.9, 0.2, 0.6]), pd.Series(["yes", "no", "no"], name="y"), pos_label="yes"
    )
    assert "targets 'yes'/'no': 'yes' is the positive class (--pos-label)" in report.reasons
    assert report.target_encoding == "1 = 'yes', 0 = 'no'"
    assert [s.target for s in report.head] == ["1", "0", "0"]


def test_a_column_of_the_positive_class_alone() -> None:
    report = lossctl.evaluate(np.array([0.9, 0.6]), pd.Series(["yes", "yes"]), pos_label="yes")
    assert report.mean_loss == pytest.approx(-np.mean(np.log([0.9, 0.6])), rel=1e-12)
    assert report.target_encoding == "1 = 'yes'"


@pytest.mark.parametrize("chunk_rows", [1, 3, 7])
def test_chunked_equals_whole(chunk_rows: int) -> None:
    """The first chunks may hold only the negative class: detection is over every row."""
    targets = ["no"] * 10 + _values("yes", "no")
    p = np.concatenate([np.full(10, 0.3), P])
    whole = lossctl.evaluate(p, pd.Series(targets), pos_label="yes")
    chunked = lossctl.evaluate(p, pd.Series(targets), pos_label="yes", chunk_rows=chunk_rows)
    assert chunked.mean_loss == pytest.approx(whole.mean_loss, rel=1e-12)
    assert whole.mean_loss == pytest.approx(_oracle(targets, "yes", p), rel=1e-12)


# --- true/false keeps working without --pos-label ------------------------------------------


def test_booleans_need_no_pos_label(tmp_path: Path) -> None:
    flags = _values("True", "False")
    preds, targets = tmp_path / "preds.csv", tmp_path / "targets.csv"
    preds.write_text(csv_text(["p"], [[repr(float(v))] for v in P]))
    targets.write_text(csv_text(["y"], [[f] for f in flags]))
    doc = eval_json(str(preds), str(targets))
    assert doc["mean_loss"] == pytest.approx(_oracle(flags, "True"), rel=1e-12)
    with_label = eval_json(str(preds), str(targets), "--pos-label", "True")
    assert with_label["mean_loss"] == pytest.approx(doc["mean_loss"], rel=1e-12)


def test_the_words_true_and_false_as_text_need_no_pos_label() -> None:
    words = _values("true", "false")
    report = lossctl.evaluate(P, pd.Series(words, dtype="string"))
    assert report.task == "binary"
    assert report.mean_loss == pytest.approx(_oracle(words, "true"), rel=1e-12)
    assert "targets 'true'/'false': 'true' is the positive class" in report.reasons


def test_numeric_two_valued_targets_stay_regression_without_pos_label() -> None:
    targets = np.array(_values(-1, 1))
    assert lossctl.evaluate(P, targets).task == "regression"
    assert lossctl.evaluate(P, np.array(_values(1, 2))).task == "regression"


# --- errors -----------------------------------------------------------------------------------


def test_text_two_valued_targets_without_pos_label_ask_for_it(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("p\n0.9\n0.2\n0.7\n")
    (tmp_path / "t.csv").write_text("y\nyes\nno\nno\n")
    result = run_eval(str(tmp_path / "p.csv"), str(tmp_path / "t.csv"))
    line = assert_input_error(result, "t.csv", "column 'y'", "'no'", "'yes'", "--pos-label yes")
    assert "not a number" not in line
    with pytest.raises(PosLabelNeeded):
        lossctl.evaluate(np.array([0.9, 0.2]), pd.Series(["M", "B"]))


def test_task_binary_on_minus_one_and_one_asks_for_pos_label() -> None:
    with pytest.raises(NotBinary) as caught:
        lossctl.evaluate(P, np.array(_values(-1, 1)), task="binary")
    assert "--pos-label" in str(caught.value)
    assert caught.value.row is not None
    with pytest.raises(PosLabelNeeded):
        lossctl.evaluate(P, pd.Series(_values("yes", "no")), task="binary")


def test_a_pos_label_that_is_not_there_names_the_values(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("p\n0.9\n0.2\n0.7\n")
    (tmp_path / "t.csv").write_text("label\nyes\nno\nno\n")
    result = run_eval(str(tmp_path / "p.csv"), str(tmp_path / "t.csv"), "--pos-label", "Y")
    assert_input_error(result, "t.csv", "column 'label'", "'Y'", "'no', 'yes'")
    with pytest.raises(UnknownPosLabel):
        lossctl.evaluate(P, np.array(_values(-1, 1)), pos_label=2)


def test_more_than_two_values_with_pos_label_name_a_third() -> None:
    with pytest.raises(TooManyValues) as caught:
        lossctl.evaluate(
            np.array([0.9, 0.2, 0.5]), pd.Series(["yes", "no", "maybe"]), pos_label="yes"
        )
    assert "'maybe'" in str(caught.value)
    with pytest.raises(TooManyValues) as numbers:
        lossctl.evaluate(np.array([0.9, 0.2, 0.5, 0.4]), np.array([1, 2, 3, 4]), pos_label=1)
    assert "1, 2, 3, ..." not in str(numbers.value)  # values are quoted as written
    assert "'1', '2', '3', ..." in str(numbers.value)


def test_pos_label_does_not_apply_to_other_tasks() -> None:
    with pytest.raises(ConflictingOptions):
        lossctl.evaluate(P, np.array(_values(0, 1)), pos_label="1", task="regression")
    three = RNG.dirichlet(np.ones(3), N)
    with pytest.raises(ConflictingOptions):
        lossctl.evaluate(three, RNG.integers(0, 3, N), pos_label="1")
    with pytest.raises(InvalidOption):
        lossctl.evaluate(P, np.array(_values(0, 1)), pos_label=" ")


def test_detect_takes_pos_label_too(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("p\n0.9\n0.2\n0.7\n")
    (tmp_path / "t.csv").write_text("y\nM\nB\nB\n")
    found = lossctl.detect(str(tmp_path / "p.csv"), str(tmp_path / "t.csv"), pos_label="M")
    assert (found.task, found.target_encoding) == ("binary", "1 = 'M', 0 = 'B'")
    result = run("detect", str(tmp_path / "p.csv"), str(tmp_path / "t.csv"), "--pos-label", "M")
    assert result.exit_code == 0, result.stderr
    assert "'M' is the positive class" in result.stdout
