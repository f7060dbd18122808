"""A column that holds a list of numbers a row (``"logits": [0.1, 2.3, -1.0]``, Parquet
``list<double>`` or ``fixed_size_list<double, K>``) is read as the K columns ``logits[0]``
... ``logits[K-1]``: the same report as the same numbers spread in K plain columns, checked
against scikit-learn; a list of another length is one clear error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import log_loss

import lossctl
from lossctl.errors import RaggedList
from tests.cli.helpers import assert_input_error, eval_json, run_eval, sample_path
from tests.io.reports import same

N, K = 40, 3


def _data(seed: int = 11) -> tuple[list[int], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    logits = np.round(rng.normal(0.0, 2.0, (N, K)), 4)
    return list(range(1, N + 1)), logits, rng.integers(0, K, N)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> str:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return str(path)


def _parquet(path: Path, table: pa.Table) -> str:
    pq.write_table(table, path, row_group_size=7)  # several row groups
    return str(path)


def _arrow(path: Path, table: pa.Table) -> str:
    with pa.ipc.new_file(str(path), table.schema) as writer:
        writer.write_table(table, max_chunksize=7)  # several record batches
    return str(path)


def _normal(doc: dict[str, Any], path: str) -> dict[str, Any]:
    """A report without the name of its input file (``path``), which its reasons quote."""
    doc = json.loads(json.dumps(doc).replace(json.dumps(path)[1:-1], "PREDS"))
    doc["inputs"].pop("predictions")
    doc["inputs"].pop("targets", None)
    return doc


def _inputs(tmp_path: Path) -> dict[str, str]:
    """The same predictions (and labels, in the same file) in each way of writing them."""
    ids, logits, labels = _data()
    rows = logits.tolist()
    plain = {f"logits[{k}]": logits[:, k] for k in range(K)}
    return {
        "plain": _parquet(
            tmp_path / "plain.parquet", pa.table({"id": ids, **plain, "label": labels})
        ),
        "jsonl": _jsonl(
            tmp_path / "hf.jsonl",
            [
                {"id": i, "logits": r, "label": int(y)}
                for i, r, y in zip(ids, rows, labels, strict=True)
            ],
        ),
        "list": _parquet(
            tmp_path / "list.parquet",
            pa.table(
                {"id": ids, "logits": pa.array(rows, pa.list_(pa.float64())), "label": labels}
            ),
        ),
        "fixed": _parquet(
            tmp_path / "fixed.parquet",
            pa.table(
                {"id": ids, "logits": pa.array(rows, pa.list_(pa.float64(), K)), "label": labels}
            ),
        ),
        "arrow": _arrow(
            tmp_path / "preds.arrow",
            pa.table(
                {"id": ids, "logits": pa.array(rows, pa.large_list(pa.float64())), "label": labels}
            ),
        ),
    }


def test_a_list_column_gives_the_report_of_k_plain_columns(tmp_path: Path) -> None:
    """JSON Lines, Parquet list and fixed_size_list, Arrow IPC large_list: the report of K
    plain columns, whose mean loss is scikit-learn's log_loss of the softmax."""
    _, logits, labels = _data()
    expected = log_loss(labels, _softmax(logits), labels=list(range(K)))
    reports = {}
    for kind, path in _inputs(tmp_path).items():
        doc = eval_json(path, "--target-col", "label")
        assert doc["task"] == "multiclass", kind
        assert doc["inputs"]["pred_columns"] == [f"logits[{k}]" for k in range(K)], kind
        assert doc["mean_loss"] == pytest.approx(expected, rel=1e-12), kind
        reports[kind] = _normal(doc, path)
    for kind, doc in reports.items():
        assert same(doc, reports["plain"]), kind


def test_pred_col_names_the_list_or_one_of_its_items(tmp_path: Path) -> None:
    """``--pred-col logits`` is its K items (a number column beside it left out);
    ``--pred-col 'logits[1]'`` one of them."""
    ids, logits, labels = _data()
    rows = [
        {"id": i, "logits": r, "score": 0.5, "label": int(y)}
        for i, r, y in zip(ids, logits.tolist(), labels, strict=True)
    ]
    path = _jsonl(tmp_path / "hf.jsonl", rows)
    whole = eval_json(path, "--target-col", "label", "--pred-col", "logits")
    assert whole["inputs"]["pred_columns"] == ["logits[0]", "logits[1]", "logits[2]"]
    expected = log_loss(labels, _softmax(logits), labels=list(range(K)))
    assert whole["mean_loss"] == pytest.approx(expected, rel=1e-12)
    binary = (labels == 1).astype(int)
    for row, y in zip(rows, binary, strict=True):
        row["label"] = int(y)
    path = _jsonl(tmp_path / "binary.jsonl", rows)
    one = eval_json(path, "--target-col", "label", "--pred-col", "logits[1]")
    assert one["task"] == "binary"
    expected = log_loss(binary, 1.0 / (1.0 + np.exp(-logits[:, 1])), labels=[0, 1])
    assert one["mean_loss"] == pytest.approx(expected, rel=1e-12)


def test_a_ragged_list_is_one_error_naming_its_row(tmp_path: Path) -> None:
    ids, logits, labels = _data()
    rows = logits.tolist()
    rows[22] = rows[22][:2]  # in the fourth row group
    table = pa.table({"id": ids, "logits": pa.array(rows, pa.list_(pa.float64())), "label": labels})
    for path in (
        _parquet(tmp_path / "ragged.parquet", table),
        _jsonl(tmp_path / "ragged.jsonl", table.to_pylist()),
    ):
        result = run_eval(path, "--target-col", "label")
        line = assert_input_error(result, "column 'logits', row 23:", "length 2", "length 3")
        assert Path(path).name in line
    with pytest.raises(RaggedList):
        lossctl.evaluate(table, target_cols=["label"])


@pytest.mark.parametrize("kind", ["jsonl", "list", "fixed"])
def test_nulls_inside_a_list_and_null_lists_are_missing_values(kind: str, tmp_path: Path) -> None:
    """A null list is K missing values, a null inside a list one; in batches that start
    past a null list (Parquet row groups of 7)."""
    ids, logits, labels = _data()
    rows: list[list[float | None] | None] = [list(r) for r in logits.tolist()]
    rows[4] = rows[13] = None  # null lists: K missing values
    rows[9][1] = None  # a null inside a list
    size = K if kind == "fixed" else None
    table = pa.table(
        {"id": ids, "logits": pa.array(rows, pa.list_(pa.float64(), size or -1)), "label": labels}
    )
    if kind == "jsonl":
        path = _jsonl(tmp_path / "hf.jsonl", table.to_pylist())
    else:
        path = _parquet(tmp_path / f"{kind}.parquet", table)
    result = run_eval(path, "--target-col", "label")
    assert_input_error(result, "column 'logits[0]', row 5:", "missing", "(2 rows affected)")
    doc = eval_json(path, "--target-col", "label", "--drop-missing")
    kept = np.ones(N, dtype=bool)
    kept[[4, 9, 13]] = False
    expected = log_loss(labels[kept], _softmax(logits[kept]), labels=list(range(K)))
    assert doc["n_samples"] == N - 3
    assert doc["mean_loss"] == pytest.approx(expected, rel=1e-12)
    report = lossctl.evaluate(table, target_cols=["label"], drop_missing=True, chunk_rows=6)
    assert report.mean_loss == pytest.approx(expected, rel=1e-12)


def test_a_list_of_labels_is_multilabel_targets(tmp_path: Path) -> None:
    """Targets as a list of 0/1 a row pair with the prediction list by position."""
    ids, logits, _ = _data()
    truth = np.random.default_rng(5).integers(0, 2, (N, K))
    preds = _jsonl(
        tmp_path / "preds.jsonl",
        [{"id": i, "logits": r} for i, r in zip(ids, logits.tolist(), strict=True)],
    )
    order = np.random.default_rng(6).permutation(N)
    targets = _jsonl(
        tmp_path / "targets.jsonl", [{"id": ids[i], "labels": truth[i].tolist()} for i in order]
    )
    doc = eval_json(preds, targets)
    assert doc["task"] == "multilabel"
    assert doc["inputs"]["target_columns"] == ["labels[0]", "labels[1]", "labels[2]"]
    probs = 1.0 / (1.0 + np.exp(-logits))
    expected = sum(log_loss(truth[:, k], probs[:, k], labels=[0, 1]) for k in range(K))
    assert doc["mean_loss"] == pytest.approx(expected, rel=1e-12)


def test_python_api_reads_a_pyarrow_table_with_a_list_column() -> None:
    ids, logits, labels = _data()
    table = pa.table(
        {"id": ids, "logits": pa.array(logits.tolist(), pa.list_(pa.float32(), K)), "label": labels}
    )
    report = lossctl.evaluate(table, target_cols=["label"], chunk_rows=9)
    expected = log_loss(
        labels, _softmax(logits.astype(np.float32).astype(np.float64)), labels=[0, 1, 2]
    )
    assert report.inputs.pred_columns == ("logits[0]", "logits[1]", "logits[2]")
    assert report.mean_loss == pytest.approx(expected, rel=1e-12)


def test_parts_with_list_columns_read_as_one_table(tmp_path: Path) -> None:
    paths = _inputs(tmp_path)
    table = pq.read_table(paths["list"])
    parts = tmp_path / "parts"
    parts.mkdir()
    pq.write_table(table.slice(0, 15), parts / "part-0.parquet")
    pq.write_table(table.slice(15), parts / "part-1.parquet")
    whole = eval_json(paths["list"], "--target-col", "label")
    split = eval_json(str(parts), "--target-col", "label")
    docs = [_normal(split, str(parts)), _normal(whole, paths["list"])]
    for doc in docs:  # (the rows of parts count from 1 in each part)
        for sample in doc["worst"]:
            sample.pop("row")
    assert same(*docs)


def test_the_readme_sample_against_scikit_learn() -> None:
    path = sample_path("multiclass_logits_list.jsonl")
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]
    logits = np.array([row["logits"] for row in rows])
    labels = [row["label"] for row in rows]
    doc = eval_json(path, "--target-col", "label")
    assert doc["n_samples"] == 50
    assert doc["mean_loss"] == pytest.approx(log_loss(labels, _softmax(logits)), rel=1e-12)


@pytest.mark.parametrize(
    ("cells", "kind"),
    [
        ([None, None, None], "list<element: double>"),  # no list to take K from
        ([[], [0.5], [0.2]], "list<element: double>"),  # a first list of none: K = 0
        ([["a"], ["b"], ["c"]], "list<element: string>"),  # not numbers
    ],
)
def test_lists_that_are_not_k_numbers_stay_refused(
    cells: list[Any], kind: str, tmp_path: Path
) -> None:
    value = pa.string() if "string" in kind else pa.float64()
    table = pa.table({"p": pa.array(cells, pa.list_(value)), "y": [0, 1, 0]})
    path = _parquet(tmp_path / "preds.parquet", table)
    result = run_eval(path, "--target-col", "y", "--pred-col", "p")
    assert_input_error(result, "column 'p'", f"holds {kind} values, not numbers")
