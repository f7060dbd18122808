"""Wide inputs (many prediction columns) take a faster path: all columns converted in one
call, and one finite sum over the chunk before the per-column check. Both must give what the
column-by-column path gives: the same floats, NaN for nulls, the missing value named by its
column and row, and a 40-class report equal to scikit-learn's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import log_loss

import lossctl
from lossctl.core.activations import stack_columns
from lossctl.core.chunk import non_finite, non_finite_columns
from lossctl.io.columns import WIDE, float_columns, to_float
from tests.cli.helpers import assert_input_error, run_eval


def _columns(rng: np.random.Generator, n: int, k: int) -> list[pa.Array | pa.ChunkedArray]:
    """Float64 with nulls, int64, float32, a slice, and chunked columns, in turn."""
    columns: list[pa.Array | pa.ChunkedArray] = []
    for j in range(k):
        values = rng.normal(size=n + 3)
        kind = j % 5
        if kind == 0:
            mask = rng.random(n) < 0.2
            columns.append(pa.array(values[:n], mask=mask))
        elif kind == 1:
            columns.append(pa.array(rng.integers(-(2**40), 2**40, n)))
        elif kind == 2:
            columns.append(pa.array(values[:n].astype(np.float32)))
        elif kind == 3:
            columns.append(pa.array(values).slice(3, n))
        else:
            columns.append(pa.chunked_array([values[:2], values[2:n]]))
    return columns


@pytest.mark.parametrize("k", [WIDE - 1, WIDE, 3 * WIDE + 1])
def test_float_columns_equal_the_column_by_column_conversion(k: int) -> None:
    columns = _columns(np.random.default_rng(k), 37, k)
    got = float_columns(columns)
    assert len(got) == k
    for column, values in zip(columns, got, strict=True):
        expected = to_float(column)
        assert values.dtype == np.float64 and values.flags["C_CONTIGUOUS"]
        np.testing.assert_array_equal(values, expected)  # (NaN where null, in both)


def test_one_sum_finds_a_missing_value_in_any_column_of_many() -> None:
    """Over the chunk's matrix, as EvalState.update passes it."""
    rng = np.random.default_rng(0)
    columns = [rng.random(50) for _ in range(3 * WIDE)]
    assert non_finite_columns(columns, stack_columns(columns)) == [None] * len(columns)
    for value in (np.nan, np.inf, -np.inf):
        broken = [c.copy() for c in columns]
        broken[WIDE + 2][7] = value
        masks = non_finite_columns(broken, stack_columns(broken))
        assert [i for i, m in enumerate(masks) if m is not None] == [WIDE + 2]
        mask = masks[WIDE + 2]
        assert mask is not None and list(np.flatnonzero(mask)) == [7]
    huge = [np.full(4, 1e308) for _ in range(WIDE)]  # the sum overflows: each is checked
    assert (
        non_finite_columns(huge, stack_columns(huge))
        == [non_finite(c) for c in huge]
        == [None] * WIDE
    )


def test_a_forty_class_file_against_scikit_learn(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    k, n = 40, 3_000
    probs = rng.dirichlet(np.ones(k), n)
    y = rng.integers(0, k, n)
    names = [f"class_{i}" for i in range(k)]
    pq.write_table(pa.table({c: probs[:, i] for i, c in enumerate(names)}), tmp_path / "p.parquet")
    pq.write_table(pa.table({"y": [names[i] for i in y]}), tmp_path / "t.parquet")
    for chunk_rows in (65_536, 97):
        report = lossctl.evaluate(
            str(tmp_path / "p.parquet"), str(tmp_path / "t.parquet"), chunk_rows=chunk_rows
        )
        assert report.task == "multiclass"
        assert report.mean_loss == pytest.approx(log_loss(y, probs, labels=range(k)), rel=1e-12)


def test_a_missing_value_of_a_wide_file_is_named(tmp_path: Path) -> None:
    k = 2 * WIDE
    probs = np.full((5, k), 1.0 / k)
    table = pa.table(
        {
            f"c{i}": pa.array(probs[:, i], mask=np.arange(5) == 3 if i == 20 else None)
            for i in range(k)
        }
    )
    pq.write_table(table, tmp_path / "p.parquet")
    pq.write_table(pa.table({"y": ["c0", "c1", "c2", "c3", "c4"]}), tmp_path / "t.parquet")
    result = run_eval(str(tmp_path / "p.parquet"), str(tmp_path / "t.parquet"))
    assert_input_error(result, "column 'c20', row 4: this value is missing")
