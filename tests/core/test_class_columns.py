"""Class columns named the usual ways (``prob_setosa``, ``setosa_prob``), and TARGETS
files that hold other columns beside the target.

Oracle: scikit-learn's ``log_loss`` with the classes in the prediction columns' order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import log_loss

import lossctl
from lossctl.core.labels import affixes
from lossctl.errors import TooManyTargetColumns, UnknownClass
from tests.cli.helpers import assert_input_error, csv_text, eval_json, run_eval

CLASSES = ("setosa", "versicolor", "virginica")
RNG = np.random.default_rng(3)
N = 30
PROBS = RNG.dirichlet(np.full(3, 2.0), N)
INDEX = RNG.integers(0, 3, N)
NAMES = [CLASSES[i] for i in INDEX]


def _oracle() -> float:
    return float(log_loss(INDEX, PROBS, labels=[0, 1, 2]))


@pytest.mark.parametrize(
    ("columns", "reason"),
    [
        (["prob_" + c for c in CLASSES], "common prefix 'prob_'"),
        (["p_" + c for c in CLASSES], "common prefix 'p_'"),
        (["proba_" + c for c in CLASSES], "common prefix 'proba_'"),
        ([c + "_prob" for c in CLASSES], "common suffix '_prob'"),
        (["model.p-" + c for c in CLASSES], "common prefix 'model.p-'"),
    ],
)
def test_class_names_without_the_common_prefix_or_suffix(columns: list[str], reason: str) -> None:
    report = lossctl.evaluate(pd.DataFrame(PROBS, columns=columns), pd.Series(NAMES, name="y"))
    assert (report.task, report.target_encoding) == ("multiclass", "class name")
    assert f"class names are the prediction columns without their {reason}" in report.reasons
    assert report.mean_loss == pytest.approx(_oracle(), rel=1e-12)


def test_the_command_line_says_so(tmp_path: Path) -> None:
    preds, targets = tmp_path / "preds.csv", tmp_path / "targets.csv"
    preds.write_text(csv_text([f"prob_{c}" for c in CLASSES], PROBS.tolist()))
    targets.write_text(csv_text(["species"], [[n] for n in NAMES]))
    doc = eval_json(str(preds), str(targets))
    assert doc["mean_loss"] == pytest.approx(_oracle(), rel=1e-12)
    assert (
        "class names are the prediction columns without their common prefix 'prob_'"
        in doc["detection"]["reasons"]
    )


def test_the_prefix_stops_at_a_separator() -> None:
    """``prob_a1, prob_a2``: the common prefix is ``prob_a``, the class names ``a1, a2``."""
    (affix,) = affixes(("prob_a1", "prob_a2"))
    assert (affix.kind, affix.text, affix.names) == ("prefix", "prob_", ("a1", "a2"))
    pred = pd.DataFrame({"prob_a1": [0.3, 0.8], "prob_a2": [0.7, 0.2]})
    report = lossctl.evaluate(pred, pd.Series(["a2", "a1"]))
    assert report.mean_loss == pytest.approx(-np.mean(np.log([0.7, 0.8])), rel=1e-12)


def test_no_affix_that_leaves_an_empty_or_a_repeated_name() -> None:
    assert affixes(("p_", "p_a")) == ()
    assert [(a.text, a.names) for a in affixes(("x_a_p", "y_a_p"))] == [
        ("_a_p", ("x", "y")),
        ("_p", ("x_a", "y_a")),
    ]
    assert affixes(("only_one",)) == ()


def test_targets_that_do_not_all_match_are_still_the_clear_error() -> None:
    pred = pd.DataFrame(PROBS[:3], columns=[f"prob_{c}" for c in CLASSES])
    with pytest.raises(UnknownClass) as caught:
        lossctl.evaluate(pred, pd.Series(["setosa", "iris", "virginica"], name="y"))
    assert caught.value.row == 2
    assert str(caught.value) == (
        "targets, column 'y', row 2: 'iris' is neither a class name nor a class index 0..2. "
        "The classes "
        "are the prediction columns without their common prefix 'prob_': setosa, versicolor, "
        "virginica"
    )


def test_exact_column_names_come_first() -> None:
    pred = pd.DataFrame({"p_a": [0.2, 0.9], "p_b": [0.8, 0.1]})
    report = lossctl.evaluate(pred, pd.Series(["p_b", "p_a"]))
    assert "every target is a prediction column name, so class names" in report.reasons


def test_numeric_class_names_are_unaffected() -> None:
    """``p_0, p_1, p_2`` with targets 0..2 are class indices, as before; ``p_1, p_2, p_3``
    with targets 1, 2 too (indices, not names: the prefix rule is for text targets)."""
    pred = pd.DataFrame(PROBS, columns=["p_0", "p_1", "p_2"])
    report = lossctl.evaluate(pred, INDEX)
    assert report.target_encoding == "class index"
    assert report.mean_loss == pytest.approx(_oracle(), rel=1e-12)
    shifted = pd.DataFrame(PROBS, columns=["p_1", "p_2", "p_3"])
    few = np.where(INDEX == 0, 1, INDEX)
    report = lossctl.evaluate(shifted, few)
    assert report.target_encoding == "class index"
    assert report.mean_loss == pytest.approx(log_loss(few, PROBS, labels=[0, 1, 2]), rel=1e-12)


# --- TARGETS files with other columns ------------------------------------------------------


def _files(tmp_path: Path, targets: str, preds: str = "id,p\n1,0.9\n2,0.2\n3,0.6\n") -> list[str]:
    (tmp_path / "preds.csv").write_text(preds)
    (tmp_path / "targets.csv").write_text(targets)
    return [str(tmp_path / "preds.csv"), str(tmp_path / "targets.csv")]


def test_a_split_and_a_date_beside_the_label_name_the_label(tmp_path: Path) -> None:
    args = _files(
        tmp_path,
        "id,label,split,date\n1,1,train,2024-01-01\n2,0,test,2024-01-02\n3,1,test,2024-01-03\n",
    )
    assert_input_error(
        run_eval(*args), "targets.csv", "'label' looks like the target", "--target-col label"
    )
    doc = eval_json(*args, "--target-col", "label")
    assert doc["mean_loss"] == pytest.approx(-np.mean(np.log([0.9, 0.8, 0.6])), rel=1e-12)


def test_without_a_usual_name_the_first_plain_column_is_suggested(tmp_path: Path) -> None:
    args = _files(tmp_path, "id,fold,churned\n1,a,1\n2,b,0\n3,a,1\n")
    assert_input_error(run_eval(*args), "'churned' may be the target", "--target-col churned")
    with pytest.raises(TooManyTargetColumns):
        lossctl.detect(*args)


def test_as_many_columns_as_classes_name_the_target_in_the_error(tmp_path: Path) -> None:
    """Three class columns and three TARGETS columns could pair by position: the error in
    the date column says which column looks like the target."""
    preds = csv_text(["id", *(f"prob_{c}" for c in CLASSES)], [[i, *PROBS[i]] for i in range(3)])
    targets = csv_text(
        ["id", "species", "split", "date"],
        [[i, NAMES[i], "train", "2024-01-0" + str(i + 1)] for i in range(3)],
    )
    args = _files(tmp_path, targets, preds)
    result = run_eval(*args)
    assert_input_error(result, "column 'date'", "'species' is the target", "--target-col species")
    doc = eval_json(*args, "--target-col", "species")
    assert doc["task"] == "multiclass"
