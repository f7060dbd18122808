"""EvalOptions: the one options object, built from the library's keyword arguments."""

from __future__ import annotations

import numpy as np
import pytest

import lossctl
from lossctl.errors import ConflictingOptions, InvalidOption, MissingBaseline, UnknownTask
from lossctl.options import ColumnSpec, EvalOptions
from tests.cli.helpers import sample_path

PREDS, TARGETS = sample_path("multiclass_probs.csv"), sample_path("multiclass_labels.csv")


def test_flat_keywords_go_to_their_part() -> None:
    o = EvalOptions.build(pred_cols="cat, dog", max_loss=0.5, eps=1e-7, n_bootstrap=10)
    assert o.columns.pred_cols == ("cat", " dog")  # the plan strips the space if need be
    assert o.gates.max_loss == 0.5
    assert (o.eps, o.n_bootstrap) == (1e-7, 10)


def test_an_unknown_keyword_is_a_type_error_that_suggests_the_name() -> None:
    with pytest.raises(TypeError, match="did you mean 'max_loss'"):
        EvalOptions.build(max_los=1.0)
    with pytest.raises(TypeError, match="unknown option 'pred_col'"):
        lossctl.evaluate(PREDS, TARGETS, pred_col="cat")


def test_options_or_keywords_not_both() -> None:
    with pytest.raises(TypeError, match="not both"):
        lossctl.evaluate(PREDS, TARGETS, options=EvalOptions(), max_loss=1.0)


def test_an_options_object_gives_the_report_of_the_same_keywords() -> None:
    options = lossctl.EvalOptions.build(max_loss=0.5, by="label", worst=2)
    by_object = lossctl.evaluate(PREDS, TARGETS, options=options)
    by_keywords = lossctl.evaluate(PREDS, TARGETS, max_loss=0.5, by="label", worst=2)
    assert by_object.to_dict() == by_keywords.to_dict()
    assert by_object.exit_code == 1  # the mean loss 0.868 is above 0.5
    found = lossctl.detect(PREDS, TARGETS, options=options)
    assert found.to_dict() == lossctl.detect(PREDS, TARGETS).to_dict()


@pytest.mark.parametrize(
    ("options", "error", "words"),
    [
        ({"task": "binomial"}, UnknownTask, "binomial"),
        ({"eps": 0.7}, InvalidOption, "--eps"),
        ({"label_reduction": "max"}, InvalidOption, "--label-reduction"),
        ({"chunk_rows": 0}, InvalidOption, "--chunk-rows"),
        ({"n_bootstrap": 0}, InvalidOption, "--bootstrap"),
        ({"seed": -1}, InvalidOption, "--seed"),
        ({"max_loss": float("nan")}, InvalidOption, "--max-loss"),
        ({"min_d2": True}, InvalidOption, "--min-d2"),
        ({"max_increase": 0.1}, MissingBaseline, "baseline"),
        ({"id_col": "id", "no_id": True}, ConflictingOptions, "--no-id"),
        ({"encoding": "latin-9x"}, lossctl.LossctlError, "latin-9x"),
    ],
)
def test_values_are_checked_once_when_built(
    options: dict[str, object], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        EvalOptions.build(**options)


def test_the_options_are_frozen() -> None:
    o = EvalOptions()
    with pytest.raises(AttributeError):
        o.eps = 0.1  # type: ignore[misc]
    assert o.replace(eps=0.1).eps == 0.1 and o.eps != 0.1
    assert ColumnSpec(pred_cols=["a,b", "c"]).pred_cols == ("a", "b", "c")


def test_the_library_takes_arrays_with_the_options() -> None:
    report = lossctl.evaluate(np.array([0.9, 0.2]), np.array([1, 0]), max_loss=0.1)
    assert [g.passed for g in report.gates] == [False]
