"""A saved pandas index is never data: not a prediction, not a target."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import log_loss

import lossctl

P = [0.9, 0.2, 0.3, 0.65]
Y = [1, 0, 0, 1]
EXPECTED = log_loss(Y, P)


@pytest.mark.parametrize("index_in", ["both", "predictions", "targets"])
@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_saved_index_columns_are_set_aside(tmp_path: Path, index_in: str, kind: str) -> None:
    index = pd.Index([10, 11, 12, 13])
    frames = {"p": pd.DataFrame({"p": P}, index=index), "y": pd.DataFrame({"y": Y}, index=index)}
    paths = {}
    for name, frame in frames.items():
        with_index = index_in == "both" or (index_in == "predictions") == (name == "p")
        path = tmp_path / f"{name}.{kind}"
        if kind == "parquet":
            frame.to_parquet(path, index=with_index)
        else:
            frame.to_csv(path, index=with_index)  # an index column with an empty header
        paths[name] = str(path)
    report = lossctl.evaluate(paths["p"], paths["y"])
    assert report.task == "binary"
    assert report.inputs.pred_columns == ("p",)
    assert report.mean_loss == pytest.approx(EXPECTED, rel=1e-12)
    assert any("saved index" in reason for reason in report.reasons)


def test_dataframe_index_named_id_matches_rows() -> None:
    preds = pd.DataFrame({"p": P}, index=pd.Index(["a", "b", "c", "d"], name="id"))
    targets = pd.DataFrame({"y": Y[::-1]}, index=pd.Index(["d", "c", "b", "a"], name="id"))
    report = lossctl.evaluate(preds, targets)
    assert report.inputs.id_column == "id"
    assert report.mean_loss == pytest.approx(EXPECTED, rel=1e-12)


def test_unnamed_dataframe_index_is_ignored() -> None:
    preds = pd.DataFrame({"p": P}, index=[7, 3, 9, 1])
    report = lossctl.evaluate(preds, np.array(Y))
    assert report.inputs.pred_columns == ("p",)
    assert report.mean_loss == pytest.approx(EXPECTED, rel=1e-12)
