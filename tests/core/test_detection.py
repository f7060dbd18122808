"""The SPEC's auto-detection rules, one by one, the overrides, and the reasons given.

"Auto-detection (over the whole input, never per chunk) with a reason":
several target columns decide between multiclass (one-hot), multilabel (0/1)
and multi-output regression; one target and several predictions is
multiclass; one of each is binary for 0/1 targets, else regression. Any
prediction value outside [0, 1] means logits.
"""

from __future__ import annotations

from functools import reduce

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import lossctl
from lossctl.core.profiles import PredictionProfile, TargetColumn, TargetProfile
from lossctl.errors import ExitCode, LossctlError

CHUNKINGS = [1, 2, 3, 65536]


def _why(report: lossctl.Report) -> str:
    return " | ".join(report.reasons)


def _losses(report: lossctl.Report) -> np.ndarray:
    assert report.losses is not None
    return report.losses


def _bce_from_logits(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """log(1 + e^z) - y z, with NumPy's stable logaddexp as the oracle."""
    return np.logaddexp(0.0, z) - y * z


def _cce_from_logits(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.logaddexp.reduce(z, axis=1) - z[np.arange(y.size), y]


# --- rule 1: several target columns -------------------------------------------------------

PROB_ROWS = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.25, 0.25, 0.5]])
LOGIT_ROWS = np.array([[2.0, -1.0, 0.5], [-0.5, 1.5, 0.0], [0.1, 0.2, 3.0], [0.0, 0.0, 0.0]])
ONE_HOT = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1]])
CLASS = np.array([0, 1, 2, 2])


def test_one_hot_targets_and_rows_summing_to_one_are_multiclass() -> None:
    report = lossctl.evaluate(PROB_ROWS, ONE_HOT)
    assert (report.task, report.prediction_kind) == ("multiclass", "probabilities")
    assert (report.activation, report.target_encoding) == ("softmax", "one-hot")
    assert "one-hot" in _why(report) and "summing to 1" in _why(report)
    np.testing.assert_allclose(_losses(report), -np.log([0.7, 0.8, 0.4, 0.5]), rtol=1e-12)


def test_one_hot_targets_and_logits_are_multiclass() -> None:
    report = lossctl.evaluate(LOGIT_ROWS, ONE_HOT)
    assert (report.task, report.prediction_kind) == ("multiclass", "logits")
    assert "one-hot" in _why(report) and "logits" in _why(report)
    np.testing.assert_allclose(_losses(report), _cce_from_logits(LOGIT_ROWS, CLASS), rtol=1e-12)


def test_one_hot_targets_with_probability_rows_not_summing_to_one_are_multilabel() -> None:
    pred = PROB_ROWS.copy()
    pred[1, 1] = 0.9  # this row sums to 1.1
    report = lossctl.evaluate(pred, ONE_HOT)
    assert (report.task, report.prediction_kind) == ("multilabel", "probabilities")
    assert "0/1" in _why(report)
    expected = -np.sum(np.where(ONE_HOT == 1, np.log(pred), np.log1p(-pred)), axis=1)
    np.testing.assert_allclose(_losses(report), expected, rtol=1e-12)


@pytest.mark.parametrize("logits", [False, True], ids=["probs", "logits"])
def test_multi_hot_targets_are_multilabel(logits: bool) -> None:
    targets = np.array([[1, 1, 0], [0, 0, 0], [0, 0, 1], [1, 1, 1]])
    pred = LOGIT_ROWS if logits else PROB_ROWS
    report = lossctl.evaluate(pred, targets)
    assert report.task == "multilabel"
    assert report.prediction_kind == ("logits" if logits else "probabilities")
    assert (report.activation, report.target_encoding) == ("sigmoid", "0/1 per label")
    assert "0/1" in _why(report)


@pytest.mark.parametrize(
    "targets",
    [
        np.array([[0.5, 2.0], [1.0, -3.0], [2.5, 0.0]]),
        np.array([[0, 2], [1, 0], [1, 1]]),  # integers, but not all 0/1
    ],
    ids=["floats", "integers"],
)
def test_several_other_target_columns_are_multi_output_regression(targets: np.ndarray) -> None:
    pred = np.array([[0.4, 1.0], [1.0, -2.0], [2.0, 0.5]])
    report = lossctl.evaluate(pred, targets)
    assert (report.task, report.prediction_kind, report.activation) == (
        "regression",
        "values",
        "identity",
    )
    assert "other than 0/1" in _why(report)
    np.testing.assert_allclose(_losses(report), np.mean((pred - targets) ** 2, axis=1))


PREDS_ABC = pd.DataFrame({"a": [0.1, 0.8, 0.3], "b": [0.6, 0.1, 0.3], "c": [0.3, 0.1, 0.4]})


@pytest.mark.parametrize(
    ("targets", "task"),
    [
        ([[0, 0, 1], [1, 0, 0], [0, 1, 0]], "multiclass"),
        ([[1, 0, 1], [1, 1, 0], [0, 0, 0]], "multilabel"),
        ([[0.5, 2.0, -1.0], [1.5, 0.0, 3.0], [2.0, 2.5, 0.5]], "regression"),
    ],
)
def test_several_target_columns_match_predictions_by_name_in_any_order(
    targets: list[list[float]], task: str
) -> None:
    y = np.array(targets, dtype=np.float64)  # in the order a, b, c
    p = PREDS_ABC.to_numpy()
    shuffled = pd.DataFrame({"c": y[:, 2], "a": y[:, 0], "b": y[:, 1]})
    renamed = pd.DataFrame({"x": y[:, 0], "y": y[:, 1], "z": y[:, 2]})  # no names agree
    if task == "multiclass":
        expected = -np.log(np.sum(np.where(y == 1, p, 0.0), axis=1))
    elif task == "multilabel":
        expected = -np.sum(np.where(y == 1, np.log(p), np.log1p(-p)), axis=1)
    else:
        expected = np.mean((p - y) ** 2, axis=1)
    for frame in (shuffled, renamed):
        report = lossctl.evaluate(PREDS_ABC, frame)
        assert report.task == task
        np.testing.assert_allclose(_losses(report), expected, rtol=1e-12)


# --- rule 2: one target column, several prediction columns --------------------------------


def test_one_target_and_several_predictions_are_multiclass() -> None:
    report = lossctl.evaluate(PROB_ROWS, CLASS)
    assert (report.task, report.prediction_kind) == ("multiclass", "probabilities")
    assert "one target column and 3 prediction columns" in _why(report)
    assert report.n_not_summing == 0


def test_one_target_and_several_predictions_not_summing_to_one_is_still_multiclass() -> None:
    pred = np.array([[0.7, 0.7, 0.1], [0.1, 0.8, 0.1]])
    report = lossctl.evaluate(pred, np.array([0, 1]))
    assert report.task == "multiclass"
    assert report.n_not_summing == 1
    assert report.first_not_summing == 1
    assert "do not sum to 1" not in _why(report)  # a warning, not a reason for the task
    assert any("do not sum to 1" in w and "row 1" in w for w in report.warnings)


# --- rule 3: one target column, one prediction column -------------------------------------


@pytest.mark.parametrize(
    ("targets", "task"),
    [
        (np.array([0, 1, 1, 0]), "binary"),
        (np.array([0.0, 1.0, 1.0, 0.0]), "binary"),
        (np.array([0, 0, 0, 0]), "binary"),
        (np.array([0, 1, 2, 1]), "regression"),
        (np.array([0.0, 1.0, 0.5, 1.0]), "regression"),
        (np.array([-1.0, 1.0, 1.0, -1.0]), "regression"),
    ],
)
def test_one_target_and_one_prediction_are_binary_for_0_1_targets_else_regression(
    targets: np.ndarray, task: str
) -> None:
    pred = np.array([0.2, 0.7, 0.9, 0.4])
    report = lossctl.evaluate(pred, targets)
    assert report.task == task
    if task == "binary":
        assert "holding only 0/1" in _why(report)
        expected = -np.where(targets == 1, np.log(pred), np.log1p(-pred))
    else:
        assert "other than 0/1" in _why(report)
        assert report.prediction_kind == "values"
        expected = (pred - targets) ** 2
    np.testing.assert_allclose(_losses(report), expected, rtol=1e-12)


@pytest.mark.parametrize(
    "targets",
    [
        np.array([False, True, True, False]),
        pd.Series([False, True, True, False], name="is_spam"),
        pd.DataFrame({"is_spam": pd.array([False, True, True, False], dtype="boolean")}),
    ],
    ids=["numpy", "pandas-bool", "pandas-boolean"],
)
def test_boolean_targets_are_binary(targets: object) -> None:
    pred = np.array([0.2, 0.7, 0.9, 0.4])
    report = lossctl.evaluate(pred, targets)
    assert (report.task, report.target_encoding) == ("binary", "0/1")
    np.testing.assert_allclose(_losses(report), -np.log([0.8, 0.7, 0.9, 0.6]), rtol=1e-12, atol=0)


# --- probabilities or logits, over the whole input ----------------------------------------


@pytest.mark.parametrize("outside", [1.5, -0.25])
@pytest.mark.parametrize("chunk_rows", CHUNKINGS)
def test_one_value_outside_0_1_in_the_last_row_means_logits(
    chunk_rows: int, outside: float
) -> None:
    z = np.array([0.1, 0.9, 0.5, 0.3, 0.7, 0.2, 0.8, outside])
    y = np.array([0, 1, 1, 0, 1, 0, 1, 1])
    report = lossctl.evaluate(z, y, chunk_rows=chunk_rows)
    assert (report.task, report.prediction_kind) == ("binary", "logits")
    assert "outside [0, 1], so logits" in _why(report)
    np.testing.assert_allclose(_losses(report), _bce_from_logits(z, y), rtol=1e-12, atol=0)


@pytest.mark.parametrize("chunk_rows", CHUNKINGS)
def test_one_multiclass_value_outside_0_1_in_the_last_row_means_logits(chunk_rows: int) -> None:
    z = np.vstack([np.tile(PROB_ROWS, (2, 1)), [[1.2, -0.1, -0.1]]])
    y = np.array([*CLASS, *CLASS, 0])
    for targets in (y, np.eye(3, dtype=np.int64)[y]):
        report = lossctl.evaluate(z, targets, chunk_rows=chunk_rows)
        assert (report.task, report.prediction_kind) == ("multiclass", "logits")
        np.testing.assert_allclose(_losses(report), _cce_from_logits(z, y), rtol=1e-12, atol=0)


def test_zero_and_one_themselves_are_probabilities() -> None:
    report = lossctl.evaluate(np.array([0.0, 1.0, 0.5]), np.array([0, 1, 1]))
    assert report.prediction_kind == "probabilities"
    assert "every prediction lies in [0, 1]" in _why(report)


@pytest.mark.parametrize("chunk_rows", CHUNKINGS)
def test_a_non_binary_target_in_the_last_row_makes_it_regression(chunk_rows: int) -> None:
    y = np.array([0, 1, 1, 0, 1, 0, 1, 3])
    report = lossctl.evaluate(np.linspace(0.1, 0.9, 8), y, chunk_rows=chunk_rows)
    assert report.task == "regression"


@pytest.mark.parametrize("chunk_rows", CHUNKINGS)
def test_a_multi_hot_last_row_makes_it_multilabel(chunk_rows: int) -> None:
    targets = np.vstack([ONE_HOT, ONE_HOT, [[1, 1, 0]]])
    pred = np.vstack([PROB_ROWS, PROB_ROWS, [[0.5, 0.4, 0.1]]])
    report = lossctl.evaluate(pred, targets, chunk_rows=chunk_rows)
    assert report.task == "multilabel"


@pytest.mark.parametrize("chunk_rows", CHUNKINGS)
def test_a_last_row_not_summing_to_one_makes_one_hot_targets_multilabel(chunk_rows: int) -> None:
    targets = np.vstack([ONE_HOT, ONE_HOT, [[1, 0, 0]]])
    pred = np.vstack([PROB_ROWS, PROB_ROWS, [[0.5, 0.4, 0.4]]])
    report = lossctl.evaluate(pred, targets, chunk_rows=chunk_rows)
    assert report.task == "multilabel"


def test_ids_and_weights_play_no_part_in_detection() -> None:
    """Weights of 5 are not logits; ids are not predictions; weights are not targets."""
    preds = pd.DataFrame({"id": [10, 20, 30], "p": [0.2, 0.5, 0.9]})
    targets = pd.DataFrame({"id": [30, 10, 20], "y": [1, 0, 1], "w": [5.0, 2.0, 7.0]})
    report = lossctl.evaluate(preds, targets, weight_col="w")
    assert (report.task, report.prediction_kind) == ("binary", "probabilities")
    assert report.inputs.pred_columns == ("p",)
    assert report.inputs.target_columns == ("y",)
    assert "id" in _why(report)
    # aligned by id: p=0.2 -> y=0 (w 2), p=0.5 -> y=1 (w 7), p=0.9 -> y=1 (w 5)
    expected = -np.log([0.8, 0.5, 0.9])
    np.testing.assert_allclose(_losses(report), expected, rtol=1e-12)
    assert report.mean_loss == pytest.approx(np.average(expected, weights=[2, 7, 5]), rel=1e-12)


# --- class names or class indices ---------------------------------------------------------


def test_numeric_column_names_matching_every_label_are_class_names() -> None:
    pred = pd.DataFrame({"1": [0.2, 0.3, 0.6], "2": [0.3, 0.3, 0.3], "3": [0.5, 0.4, 0.1]})
    report = lossctl.evaluate(pred, np.array([1, 3, 2]))
    assert report.target_encoding == "class name"
    assert "class names" in _why(report)
    np.testing.assert_allclose(_losses(report), -np.log([0.2, 0.4, 0.3]), rtol=1e-12)


def test_labels_that_are_a_subset_of_numeric_column_names_are_class_names() -> None:
    pred = pd.DataFrame({"1": [0.2, 0.3], "2": [0.3, 0.3], "3": [0.5, 0.4]})
    report = lossctl.evaluate(pred, np.array([1, 2]))
    assert report.target_encoding == "class name"
    np.testing.assert_allclose(_losses(report), -np.log([0.2, 0.3]), rtol=1e-12)


def test_labels_0_to_2_with_columns_a_b_c_are_class_indices() -> None:
    pred = pd.DataFrame({"a": [0.2, 0.3, 0.6], "b": [0.3, 0.3, 0.3], "c": [0.5, 0.4, 0.1]})
    report = lossctl.evaluate(pred, np.array([0, 2, 1]))
    assert report.target_encoding == "class index"
    assert "class indices" in _why(report)
    np.testing.assert_allclose(_losses(report), -np.log([0.2, 0.4, 0.3]), rtol=1e-12)


def test_labels_not_all_column_names_are_indices_even_with_numeric_names() -> None:
    """Columns 1, 2, 3 with labels 0..2: 0 is no column name, so every label is an index."""
    pred = pd.DataFrame({"1": [0.2, 0.3, 0.6], "2": [0.3, 0.3, 0.3], "3": [0.5, 0.4, 0.1]})
    report = lossctl.evaluate(pred, np.array([0, 2, 1]))
    assert report.target_encoding == "class index"
    np.testing.assert_allclose(_losses(report), -np.log([0.2, 0.4, 0.3]), rtol=1e-12)


def test_text_labels_are_class_names() -> None:
    pred = pd.DataFrame({"dog": [0.2, 0.3, 0.6], "cat": [0.3, 0.3, 0.3], "emu": [0.5, 0.4, 0.1]})
    report = lossctl.evaluate(pred, pd.DataFrame({"animal": ["dog", "emu", "cat"]}))
    assert report.target_encoding == "class name"
    np.testing.assert_allclose(_losses(report), -np.log([0.2, 0.4, 0.3]), rtol=1e-12)


def test_unknown_class_name_is_an_input_error_naming_the_row() -> None:
    pred = pd.DataFrame({"dog": [0.2, 0.3, 0.6], "cat": [0.8, 0.7, 0.4]})
    with pytest.raises(LossctlError) as caught:
        lossctl.evaluate(pred, pd.DataFrame({"animal": ["dog", "cat", "cow"]}))
    error = caught.value
    assert error.exit_code == ExitCode.INPUT_ERROR
    assert (error.column, error.row) == ("animal", 3)
    assert "cow" in error.message


def test_class_index_out_of_range_is_an_input_error_naming_the_row() -> None:
    pred = pd.DataFrame({"a": [0.2, 0.3, 0.6], "b": [0.8, 0.7, 0.4]})
    with pytest.raises(LossctlError) as caught:
        lossctl.evaluate(pred, pd.DataFrame({"label": [0, 2, 1]}))
    assert caught.value.exit_code == ExitCode.INPUT_ERROR
    assert (caught.value.column, caught.value.row) == ("label", 2)


# --- overrides ----------------------------------------------------------------------------


def test_task_override_regression_on_binary_looking_data() -> None:
    pred, y = np.array([0.2, 0.7, 0.9]), np.array([0, 1, 1])
    report = lossctl.evaluate(pred, y, task="regression")
    assert (report.task, report.prediction_kind, report.activation) == (
        "regression",
        "values",
        "identity",
    )
    assert "set by --task" in _why(report)
    np.testing.assert_allclose(_losses(report), (pred - y) ** 2, rtol=1e-12)


def test_task_override_multilabel_on_multiclass_looking_data() -> None:
    report = lossctl.evaluate(PROB_ROWS, ONE_HOT, task="multilabel")
    assert report.task == "multilabel"
    assert "set by --task" in _why(report)
    expected = -np.sum(np.where(ONE_HOT == 1, np.log(PROB_ROWS), np.log1p(-PROB_ROWS)), axis=1)
    np.testing.assert_allclose(_losses(report), expected, rtol=1e-12)


def test_task_override_binary_on_regression_looking_data_is_an_input_error() -> None:
    with pytest.raises(LossctlError) as caught:
        lossctl.evaluate(np.array([0.2, 0.7]), np.array([0, 2]), task="binary")
    assert caught.value.exit_code == ExitCode.INPUT_ERROR
    assert caught.value.row == 2


def test_from_logits_true_reads_unit_interval_values_as_logits() -> None:
    z, y = np.array([0.2, 0.7, 0.9]), np.array([0, 1, 1])
    report = lossctl.evaluate(z, y, from_logits=True)
    assert report.prediction_kind == "logits"
    assert "--from-logits" in _why(report)
    np.testing.assert_allclose(_losses(report), _bce_from_logits(z, y), rtol=1e-12)


def test_from_logits_true_on_multiclass_applies_softmax() -> None:
    report = lossctl.evaluate(PROB_ROWS, CLASS, from_logits=True)
    assert (report.task, report.prediction_kind) == ("multiclass", "logits")
    np.testing.assert_allclose(_losses(report), _cce_from_logits(PROB_ROWS, CLASS), rtol=1e-12)


def test_from_logits_false_reads_probabilities() -> None:
    report = lossctl.evaluate(np.array([0.2, 0.7]), np.array([0, 1]), from_logits=False)
    assert report.prediction_kind == "probabilities"
    assert "--from-probs" in _why(report)


def test_from_logits_false_with_a_value_outside_0_1_names_column_and_row() -> None:
    preds = pd.DataFrame({"score": [0.2, 0.7, 1.5, -2.0]})
    with pytest.raises(LossctlError) as caught:
        lossctl.evaluate(preds, np.array([0, 1, 1, 0]), from_logits=False, chunk_rows=2)
    error = caught.value
    assert error.exit_code == ExitCode.INPUT_ERROR
    assert (error.column, error.row, error.count) == ("score", 3, 2)
    assert "1.5" in error.message


def test_from_logits_does_not_apply_to_regression() -> None:
    with pytest.raises(LossctlError) as caught:
        lossctl.evaluate(np.array([0.5, 2.0]), np.array([1.5, 3.0]), from_logits=True)
    assert caught.value.exit_code == ExitCode.INPUT_ERROR


def test_unknown_task_is_a_usage_error() -> None:
    with pytest.raises(LossctlError) as caught:
        lossctl.evaluate(np.array([0.5]), np.array([1]), task="ranking")
    assert caught.value.exit_code == ExitCode.INPUT_ERROR


def test_the_report_carries_the_detection() -> None:
    report = lossctl.evaluate(np.array([0.2, 0.7]), np.array([0, 1]))
    doc = report.to_dict()
    for key in ("task", "activation", "prediction_kind", "loss", "n_samples", "mean_loss"):
        assert key in doc
    assert doc["detection"]["reasons"] == list(report.reasons)
    assert "binary" in doc["detection"]["text"]
    assert "probabilities" in doc["detection"]["text"]


# --- profiles: merged over chunks == the whole input --------------------------------------

probabilities_or_logits = st.one_of(
    st.floats(0.0, 1.0), st.sampled_from([0.0, 1.0, 0.5, -0.5, 2.0]), st.floats(-10.0, 10.0)
)


@st.composite
def chunked_inputs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    n = draw(st.integers(1, 25))
    k = draw(st.integers(1, 4))
    pred = draw(hnp.arrays(np.float64, (n, k), elements=probabilities_or_logits))
    targets = draw(hnp.arrays(np.float64, (n, k), elements=st.sampled_from([0.0, 1.0, 2.0, 0.5])))
    return pred, targets, draw(st.integers(1, n + 1))


@settings(max_examples=100, deadline=None)
@given(chunked_inputs())
def test_profiles_merged_over_chunks_equal_the_whole_input(
    data: tuple[np.ndarray, np.ndarray, int],
) -> None:
    pred, target_values, chunk = data
    n, k = pred.shape
    names = [str(j) for j in range(k)]
    matrix = pred[:, 0] if k == 1 else pred
    columns = [TargetColumn(f"t{j}", target_values[:, j]) for j in range(k)]
    starts = range(0, n, chunk)

    pred_parts = [PredictionProfile.of(matrix[s : s + chunk], s) for s in starts]
    target_parts = [
        TargetProfile.of([c.slice(s, s + chunk) for c in columns], names, s) for s in starts
    ]

    assert reduce(PredictionProfile.merge, pred_parts, PredictionProfile()) == (
        PredictionProfile.of(matrix, 0)
    )
    empty = TargetProfile.of([c.slice(0, 0) for c in columns], names)
    assert reduce(TargetProfile.merge, target_parts, empty) == TargetProfile.of(columns, names)
