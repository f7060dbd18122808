"""Every way in gives the same report: CSV, Parquet, Arrow IPC (file, stream, Feather), JSON
Lines and NumPy .npy files; pyarrow Tables and RecordBatches, polars DataFrames and any object
with ``__arrow_c_stream__`` in the Python API. The numbers are checked against scikit-learn
once per task; every bad file of the new formats is one clear error.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.feather as feather
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import log_loss, mean_squared_error

import lossctl
from lossctl.errors import (
    CorruptArrow,
    CorruptNpy,
    EmptyFile,
    InvalidJson,
    LossctlError,
    MixedJsonTypes,
    NotJsonObject,
    UnsupportedColumnType,
    UnsupportedFormat,
    UnsupportedNpy,
)
from lossctl.io.arrow import ArrowIpcTable
from lossctl.io.jsonl import JsonLinesTable
from lossctl.io.npy import NpyTable
from lossctl.io.readers import open_table
from lossctl.io.sources import output_suffix, resolve, split_suffix
from tests.cli.helpers import assert_input_error, eval_json, run_eval
from tests.io.reports import same

N = 60
TASKS = ("binary", "multiclass", "multilabel", "regression")


# --------------------------------------------------------------------------- data


def _data(task: str, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Predictions (2-D, or 1-D for binary) and targets (1-D or 2-D) of one task."""
    rng = np.random.default_rng(seed)
    if task == "binary":
        return np.round(rng.uniform(0.01, 0.99, N), 6), rng.integers(0, 2, N)
    if task == "multiclass":
        p = rng.dirichlet([1.0, 1.0, 1.0], N)
        return p, rng.integers(0, 3, N)
    if task == "multilabel":
        return np.round(rng.normal(0.0, 2.0, (N, 3)), 4), rng.integers(0, 2, (N, 3))
    return np.round(rng.normal(3.0, 2.0, (N, 2)), 4), np.round(rng.normal(3.0, 2.0, (N, 2)), 4)


def _columns(array: np.ndarray) -> dict[str, np.ndarray]:
    """Columns named by position, as a .npy file's are."""
    if array.ndim == 1:
        return {"0": array}
    return {str(i): array[:, i] for i in range(array.shape[1])}


def _oracle(task: str, preds: np.ndarray, targets: np.ndarray) -> float:
    """The mean loss, by scikit-learn."""
    if task == "binary":
        return float(log_loss(targets, preds, labels=[0, 1]))
    if task == "multiclass":
        return float(log_loss(targets, preds, labels=[0, 1, 2]))
    if task == "multilabel":  # summed over labels
        probs = 1.0 / (1.0 + np.exp(-preds))
        return sum(float(log_loss(targets[:, k], probs[:, k])) for k in range(preds.shape[1]))
    return float(mean_squared_error(targets, preds))


def _write_ipc(table: pa.Table, path: Path, stream: bool) -> None:
    new = ipc.new_stream if stream else ipc.new_file
    with new(str(path), table.schema) as writer:
        writer.write_table(table, max_chunksize=7)  # several record batches


def _write_jsonl(table: pa.Table, path: Path) -> None:
    lines = [json.dumps(row) for row in table.to_pylist()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_npy(table: pa.Table, path: Path) -> None:
    columns = [table.column(i).to_numpy() for i in range(table.num_columns)]
    np.save(path, columns[0] if len(columns) == 1 else np.column_stack(columns))


WRITERS: dict[str, Callable[[pa.Table, Path], None]] = {
    "csv": lambda t, p: pacsv.write_csv(t, str(p)),
    "parquet": lambda t, p: pq.write_table(t, p, row_group_size=11),
    "arrow": lambda t, p: _write_ipc(t, p, stream=False),
    "ipc": lambda t, p: _write_ipc(t, p, stream=True),
    "feather": lambda t, p: feather.write_feather(t, str(p), chunksize=9),
    "jsonl": _write_jsonl,
    "npy": _write_npy,
}


def _write(table: pa.Table, tmp_path: Path, name: str, fmt: str) -> str:
    path = tmp_path / f"{name}.{fmt}"
    WRITERS[fmt](table, path)
    return str(path)


def _normal(doc: dict[str, Any]) -> dict[str, Any]:
    """A report without the names of its input files."""
    doc = json.loads(json.dumps(doc))
    doc["inputs"].pop("predictions")
    doc["inputs"].pop("targets")
    return doc


# --------------------------------------------------------------------------- same report


@pytest.mark.parametrize("task", TASKS)
def test_every_format_gives_the_same_report(task: str, tmp_path: Path) -> None:
    """The same columns (named by position, as .npy names them) written in each format."""
    preds, targets = _data(task)
    pred_table, target_table = pa.table(_columns(preds)), pa.table(_columns(targets))
    reports = {}
    for fmt in WRITERS:
        p = _write(pred_table, tmp_path, "preds", fmt)
        t = _write(target_table, tmp_path, "targets", fmt)
        report = lossctl.evaluate(p, t, chunk_rows=16)
        assert report.task == task, fmt
        reports[fmt] = _normal(report.to_dict())
        np.testing.assert_allclose(report.mean_loss, _oracle(task, preds, targets), rtol=1e-12)
    first = reports["csv"]
    for fmt, doc in reports.items():
        assert same(doc, first), (fmt, doc, first)
    # the command line prints the same report
    for fmt in ("arrow", "ipc", "jsonl", "npy"):
        cli = eval_json(str(tmp_path / f"preds.{fmt}"), str(tmp_path / f"targets.{fmt}"))
        assert same(_normal(cli), first), fmt


def _named(seed: int = 3) -> tuple[pa.Table, pa.Table]:
    """Multiclass with ids, class names as targets, the targets in another order."""
    preds, targets = _data("multiclass", seed)
    ids = [f"img{i:03d}" for i in range(N)]
    classes = ["cat", "dog", "bird"]
    pred_table = pa.table({"id": ids, **dict(zip(classes, preds.T, strict=True))})
    order = np.random.default_rng(seed).permutation(N)
    target_table = pa.table(
        {"id": [ids[i] for i in order], "label": [classes[targets[i]] for i in order]}
    )
    return pred_table, target_table


@pytest.mark.parametrize("fmt", [f for f in WRITERS if f != "npy"])
def test_ids_and_class_names_in_every_named_format(fmt: str, tmp_path: Path) -> None:
    pred_table, target_table = _named()
    csv = lossctl.evaluate(
        _write(pred_table, tmp_path, "p", "csv"), _write(target_table, tmp_path, "t", "csv")
    )
    other = lossctl.evaluate(
        _write(pred_table, tmp_path, "p", fmt), _write(target_table, tmp_path, "t", fmt)
    )
    assert same(_normal(other.to_dict()), _normal(csv.to_dict()))
    assert other.inputs.id_column == "id"


class StreamOnly:
    """An object that exports a table through ``__arrow_c_stream__`` and nothing else."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return self._table.__arrow_c_stream__(requested_schema)


def _frames(table: pa.Table) -> dict[str, object]:
    """The in-memory ways to give a table to lossctl.evaluate."""
    import polars

    return {
        "pyarrow Table": table,
        "RecordBatch": table.combine_chunks().to_batches()[0],
        "__arrow_c_stream__": StreamOnly(table),
        "polars": polars.from_arrow(table),
        "pandas": table.to_pandas(),
    }


def test_python_api_takes_arrow_objects_and_polars() -> None:
    pred_table, target_table = _named()
    expected = lossctl.evaluate(pred_table, target_table).to_dict()
    preds, targets = _frames(pred_table), _frames(target_table)
    for kind in preds:
        report = lossctl.evaluate(preds[kind], targets[kind])
        assert same(report.to_dict(), expected), kind
        assert lossctl.detect(preds[kind], targets[kind]).target_encoding == "class name"
    oracle = log_loss(
        [["cat", "dog", "bird"].index(v) for v in _aligned_labels(pred_table, target_table)],
        np.column_stack([pred_table.column(c).to_numpy() for c in ("cat", "dog", "bird")]),
    )
    assert expected["mean_loss"] == pytest.approx(oracle, rel=1e-12)


def _aligned_labels(pred_table: pa.Table, target_table: pa.Table) -> list[str]:
    by_id = dict(
        zip(target_table["id"].to_pylist(), target_table["label"].to_pylist(), strict=True)
    )
    return [by_id[i] for i in pred_table["id"].to_pylist()]


def test_polars_series_and_categorical_labels() -> None:
    import polars as pl

    preds = pl.DataFrame({"cat": [0.2, 0.6, 0.1], "dog": [0.8, 0.4, 0.9]})
    labels = pl.DataFrame({"label": pl.Series(["dog", "cat", "dog"]).cast(pl.Categorical)})
    report = lossctl.evaluate(preds, labels)
    assert report.task == "multiclass"
    assert report.mean_loss == pytest.approx(log_loss([1, 0, 1], preds.to_numpy()), rel=1e-12)
    binary = lossctl.evaluate(pl.Series("p", [0.1, 0.8, 0.3]), pl.Series("y", [0, 1, 0]))
    assert list(binary.inputs.pred_columns) == ["p"]
    assert binary.mean_loss == pytest.approx(log_loss([0, 1, 0], [0.1, 0.8, 0.3]), rel=1e-12)


# --------------------------------------------------------------------------- streaming


def test_arrow_file_and_stream_read_batch_by_batch(tmp_path: Path) -> None:
    table = pa.table({"p": np.linspace(0.0, 1.0, 50), "k": np.arange(50)})
    for fmt, stream in (("arrow", False), ("ipc", True)):
        path = tmp_path / f"t.{fmt}"
        _write_ipc(table, path, stream)
        opened = open_table(str(path), "predictions")
        assert isinstance(opened, ArrowIpcTable)
        assert opened.is_file is not stream
        batches = list(opened.batches(["p"], ["k"], rows=5))
        assert [b.start for b in batches][:3] == [0, 5, 7]  # batches of 7, cut to 5
        assert max(b.num_rows for b in batches) <= 5
        assert opened.done() == 50
        assert opened.size() == (None if stream else (50, "rows"))
        whole = opened.read(["p"], ["k"])
        assert whole["k"].to_pylist() == list(range(50))


def test_a_stream_named_arrow_and_a_file_named_ipc(tmp_path: Path) -> None:
    """The format is told by content: the extension only says Arrow IPC."""
    table = pa.table({"p": [0.25, 0.5]})
    _write_ipc(table, tmp_path / "s.arrow", stream=True)
    _write_ipc(table, tmp_path / "f.ipc", stream=False)
    for name in ("s.arrow", "f.ipc"):
        assert open_table(str(tmp_path / name), "x").read(["p"], [])["p"].to_pylist() == [
            0.25,
            0.5,
        ]


def test_npy_reads_slices_of_a_memory_map(tmp_path: Path) -> None:
    array = np.arange(30.0).reshape(10, 3)
    np.save(tmp_path / "a.npy", np.asfortranarray(array.astype(">f8")))  # big-endian, Fortran
    table = open_table(str(tmp_path / "a.npy"), "x")
    assert isinstance(table, NpyTable)
    assert table.names == ["0", "1", "2"]
    batches = list(table.batches(["2"], ["0"], rows=4))
    assert [b.start for b in batches] == [0, 4, 8]
    assert pa.chunked_array([b.columns["2"] for b in batches]).to_pylist() == list(array[:, 2])
    assert table.size() == (10, "rows") and table.done() == 10


def test_npy_record_array_is_named_by_its_fields(tmp_path: Path) -> None:
    records = np.array([(1, 0.25, "cat"), (2, 0.75, "dog")], dtype="i8,f8,U3")
    records.dtype.names = ("id", "p", "label")
    np.save(tmp_path / "r.npy", records)
    table = open_table(str(tmp_path / "r.npy"), "x")
    assert table.names == ["id", "p", "label"]
    assert table.read(["p"], ["label"])["label"].to_pylist() == ["cat", "dog"]


def test_jsonl_streams_blocks_and_unifies_types_that_change_further_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = ['{"y": 1, "p": 1, "note": null}'] * 300 + ['{"y": 0.5, "p": 0.25}'] * 300
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    table = JsonLinesTable(resolve(str(path)), block_size=1024)
    assert table.names == ["y", "p", "note"]
    batches = list(table.batches(["p"], ["y"]))
    assert len(batches) > 2
    p = pa.chunked_array([b.columns["p"] for b in batches])
    y = [v for b in batches for v in b.columns["y"].to_pylist()]
    assert p.to_pylist() == [1.0] * 300 + [0.25] * 300
    assert y == [1] * 300 + [0.5] * 300
    assert table.done() == 600
    # and evaluated as the same rows in CSV are
    monkeypatch.setattr("lossctl.io.jsonl.BLOCK_SIZE", 1024)
    csv = tmp_path / "t.csv"
    csv.write_text("y,p\n" + "1,1\n" * 300 + "0.5,0.25\n" * 300, encoding="utf-8")
    args = {"pred_cols": "p", "target_cols": "y"}
    jsonl = lossctl.evaluate(str(path), **args)
    assert jsonl.task == "regression"
    docs = [_normal(r.to_dict()) for r in (jsonl, lossctl.evaluate(str(csv), **args))]
    for doc in docs:  # (whose reasons name the file: "the targets are columns of t.csv")
        doc.pop("detection")
    assert same(*docs)


@pytest.mark.parametrize("fmt", ["arrow", "ipc", "jsonl", "npy"])
def test_parts_of_the_new_formats(fmt: str, tmp_path: Path) -> None:
    preds, targets = _data("binary")
    (tmp_path / "parts").mkdir()
    for i, rows in enumerate(np.array_split(np.arange(N), 3)):
        _write(pa.table({"0": preds[rows]}), tmp_path / "parts", f"part-{i}", fmt)
    t = _write(pa.table({"0": targets}), tmp_path, "targets", "csv")
    for spec in (str(tmp_path / "parts"), str(tmp_path / "parts" / f"*.{fmt}")):
        report = lossctl.evaluate(spec, t)
        assert report.mean_loss == pytest.approx(_oracle("binary", preds, targets), rel=1e-12)


# --------------------------------------------------------------------------- extensions


def test_inputs_and_outputs_have_tables_of_their_own() -> None:
    for name in ("a.arrow", "a.feather", "a.ipc", "a.jsonl", "a.ndjson", "a.npy"):
        assert split_suffix(Path(name))[0] is not None, name
        assert output_suffix(Path(name)) == (None, None), name
    assert output_suffix(Path("a.csv.gz")) == ("csv", "gzip")
    assert output_suffix(Path("a.parquet")) == ("parquet", None)
    for name in ("a.jsonl.gz", "a.npy.zst", "a.arrow.bz2"):  # only CSV may be compressed
        assert split_suffix(Path(name))[0] is None, name


def test_an_input_type_is_not_an_output_type(tmp_path: Path, sample: Any) -> None:
    for name in ("losses.arrow", "losses.jsonl", "losses.npy"):
        out = str(tmp_path / name)
        result = run_eval(sample("binary_probs.csv"), sample("binary_labels.csv"), "--output", out)
        assert_input_error(result, name, "unsupported output type")
        assert not Path(out).exists()


# --------------------------------------------------------------------------- bad files


def _ipc_bytes(table: pa.Table, stream: bool) -> bytes:
    sink = io.BytesIO()
    new = ipc.new_stream if stream else ipc.new_file
    with new(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=2)
    return sink.getvalue()


def _npy_bytes(array: np.ndarray) -> bytes:
    sink = io.BytesIO()
    np.save(sink, array, allow_pickle=True)
    return sink.getvalue()


GOOD = pa.table({"p": [0.1, 0.8, 0.3, 0.4, 0.6]})
# (lists of numbers are read as columns: tests/io/test_list_columns.py; lists of text are not)
NESTED = pa.table({"p": [["a"], ["b"], ["c"], ["d"], ["e"]]})
STRUCTS = pa.table({"p": [{"a": 0.1}, {"a": 0.8}, {"a": 0.3}, {"a": 0.4}, {"a": 0.6}]})

#: file name -> (content, error class, fragments of the message)
BAD: dict[str, tuple[bytes, type[LossctlError], tuple[str, ...]]] = {
    "cube.npy": (_npy_bytes(np.zeros((5, 2, 2))), UnsupportedNpy, ("3-D array", "(5, 2, 2)")),
    "scalar.npy": (_npy_bytes(np.float64(0.5)), UnsupportedNpy, ("0-d array",)),
    "objects.npy": (
        _npy_bytes(np.array([0.1, None, 0.3, 0.4, 0.6], dtype=object)),
        UnsupportedNpy,
        ("Python objects",),
    ),
    "complex.npy": (_npy_bytes(np.ones(5, dtype=complex)), UnsupportedNpy, ("complex128",)),
    "cut.npy": (_npy_bytes(np.ones(5))[:-8], CorruptNpy, ("not a readable .npy file",)),
    "text.npy": (b"p\n0.1\n", CorruptNpy, ("magic",)),
    "list.jsonl": (
        b'{"p": 0.1}\n{"p": 0.8}\n\n[0.3]\n{"p": 0.4}\n{"p": 0.6}\n',
        NotJsonObject,
        ("line 4 is a list, not an object: [0.3]",),
    ),
    "number.jsonl": (b'{"p": 0.1}\n7\n', NotJsonObject, ("line 2 is a number",)),
    "invalid.jsonl": (
        b'{"p": 0.1}\n{"p": 0.8}\n{"p": 0.3\n{"p": 0.4}\n{"p": 0.6}\n',
        InvalidJson,
        ("line 3 is not valid JSON",),
    ),
    "mixed.jsonl": (
        b'{"p": 0.1}\n{"p": "0.8"}\n{"p": 0.3}\n{"p": 0.4}\n{"p": 0.6}\n',
        MixedJsonTypes,
        ("column 'p', row 2", "a string, where row 1 holds a number"),
    ),
    "empty.jsonl": (b"", EmptyFile, ("is empty",)),
    "blank.jsonl": (b"\n \n", EmptyFile, ("holds no JSON object",)),
    "nested.jsonl": (
        b'{"p": ["a"]}\n{"p": ["b"]}\n{"p": ["c"]}\n{"p": ["d"]}\n{"p": ["e"]}\n',
        UnsupportedColumnType,
        ("column 'p'", "list<item: string>"),
    ),
    "lists.arrow": (_ipc_bytes(NESTED, False), UnsupportedColumnType, ("column 'p'", "list<")),
    "lists.ipc": (_ipc_bytes(NESTED, True), UnsupportedColumnType, ("column 'p'", "list<")),
    "structs.arrow": (_ipc_bytes(STRUCTS, True), UnsupportedColumnType, ("column 'p'", "struct<")),
    "cut.arrow": (_ipc_bytes(GOOD, False)[:-30], CorruptArrow, ("Arrow IPC file",)),
    "cut.ipc": (_ipc_bytes(GOOD, True)[:-30], CorruptArrow, ("Arrow IPC stream",)),
    "junk.feather": (b"not arrow", CorruptArrow, ("is not readable as an Arrow IPC",)),
    "empty.arrow": (b"", CorruptArrow, ("is not readable",)),
    "table.jsonl.gz": (b"", UnsupportedFormat, ("unsupported file type",)),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_file(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content, error, fragments = BAD[name]
    monkeypatch.chdir(tmp_path)
    Path(name).write_bytes(content)
    Path("targets.csv").write_text("y\n0\n1\n0\n0\n1\n", encoding="utf-8")
    with pytest.raises(error) as info:
        open_table(name, "predictions").read(["0" if name.endswith(".npy") else "p"], [])
    assert info.value.file == name
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)
    result = run_eval(name, "targets.csv", "--output", "losses.csv")
    assert_input_error(result, name, *fragments)
    assert not Path("losses.csv").exists()


def test_a_stream_cut_after_its_first_batches_leaves_no_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The error comes after batches were evaluated and written: still no output file."""
    monkeypatch.chdir(tmp_path)
    table = pa.table({"p": np.linspace(0.05, 0.95, 40)})
    Path("preds.ipc").write_bytes(_ipc_bytes(table, True)[:-100])
    Path("targets.csv").write_text("y\n" + "0\n1\n" * 20, encoding="utf-8")
    result = run_eval("preds.ipc", "targets.csv", "--output", "losses.csv", "--chunk-rows", "2")
    assert_input_error(result, "preds.ipc", "cannot be read as an Arrow IPC stream")
    assert not Path("losses.csv").exists()
