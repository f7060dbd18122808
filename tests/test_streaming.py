"""Streaming: however the input is cut into chunks, the evaluation is the same.

The engine reads both inputs in chunks of at most ``chunk_rows`` rows and keeps
every number of the report as a running state; detection is decided over the
whole input (a second pass recomputes the losses when the first pass guessed
wrong); with ``--id`` the rows are joined in step while the ids agree, else
through an index of the targets. These tests check that none of this shows:

1. every ``tests.test_common`` case, with weights, a ``--by`` column, a
   baseline and every gate, gives the same report with chunks of 1, 7 and the
   default number of rows, from DataFrames and from CSV files;
2. one logit far down a file of probabilities makes the whole file logits;
3. per-sample losses written with ``--output`` / ``--format csv`` are the same
   files whatever the chunks, the join or the second pass;
4. the three ways of joining by id give the same report, and the same errors;
5. the progress bar never reaches stdout;
6. inputs cut differently on the two sides (CSV blocks, Parquet row groups)
   pair up row by row.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from scipy.special import expit, log_expit, log_softmax, logit
from scipy.special import softmax as scipy_softmax
from sklearn.metrics import log_loss

import lossctl
import lossctl.io.align
import lossctl.io.ids
from lossctl import errors
from lossctl.cli import progress
from lossctl.cli.progress import ProgressBar
from lossctl.core.defaults import DEFAULT_CHUNK_ROWS
from tests.cli.helpers import assert_input_error, eval_json, run_eval
from tests.robust.test_catalogue import CASES as CATALOGUE
from tests.robust.test_catalogue import printed
from tests.test_common import CASES, SEEDS, Case, N

REL = 1e-12  # "the same numbers", summed in another order
ORACLE = 1e-9  # lossctl against SciPy / scikit-learn
CHUNKINGS = (1, 7, DEFAULT_CHUNK_ROWS)
N_GROUPS = 3

cases = pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])


# --------------------------------------------------------------------------- comparing


def assert_same(got: Any, want: Any, where: str = "report") -> None:
    """Equal field by field: floats within ``REL`` (or both None / NaN), the rest exactly."""
    if want is None or (isinstance(want, float) and math.isnan(want)):
        assert got is None or (isinstance(got, float) and math.isnan(got)), (where, got, want)
    elif isinstance(want, dict):
        assert isinstance(got, dict), (where, got)
        assert list(got) == list(want), (where, list(got), list(want))
        for key, value in want.items():
            assert_same(got[key], value, f"{where}.{key}")
    elif isinstance(want, (list, tuple)):
        assert type(got) is type(want) and len(got) == len(want), (where, got, want)
        for i, (a, b) in enumerate(zip(got, want, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(want, float) and not isinstance(got, bool):
        assert isinstance(got, (int, float)), (where, got)
        assert math.isclose(got, want, rel_tol=REL, abs_tol=0.0), (where, got, want)
    else:
        assert type(got) is type(want) and got == want, (where, got, want)


def assert_same_report(got: lossctl.Report, want: lossctl.Report) -> None:
    """The JSON report, the per-sample arrays and the rows shown are the same."""
    assert_same(got.to_dict(), want.to_dict())
    assert got.losses is not None and want.losses is not None
    np.testing.assert_allclose(got.losses, want.losses, rtol=REL, atol=0)
    if want.weights is None:
        assert got.weights is None
    else:
        np.testing.assert_array_equal(got.weights, want.weights)
    np.testing.assert_array_equal(got.target_rows, want.target_rows)
    assert_same(
        [dataclasses.asdict(r) for r in got.head], [dataclasses.asdict(r) for r in want.head]
    )
    assert_same(
        [dataclasses.asdict(r) for r in got.worst], [dataclasses.asdict(r) for r in want.worst]
    )


# --------------------------------------------------------------------------- data


def _columns(values: np.ndarray, name: str) -> dict[str, np.ndarray]:
    """One column ``name`` for 1-D values; columns "0", "1", ... for 2-D ones."""
    if values.ndim == 1:
        return {name: values}
    return {str(j): values[:, j] for j in range(values.shape[1])}


def _perturbed(case: Case, pred: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Another model's predictions, close to ``pred`` and of the same kind."""
    noise = rng.normal(0.0, 0.2, pred.shape)
    if case.kind != "probabilities":
        return pred + noise  # (the logit placed outside [0, 1] stays there)
    if case.link == "softmax":
        return scipy_softmax(np.log(pred) + noise, axis=1)
    return expit(logit(pred) + noise)


@dataclass(frozen=True)
class Frames:
    """One case's inputs: predictions with a grouping column ``g``; targets with weights ``w``."""

    preds: pd.DataFrame
    targets: pd.DataFrame
    baseline: pd.DataFrame

    @classmethod
    def of(cls, case: Case, seed: int) -> Frames:
        rng = np.random.default_rng(seed)
        pred, target = case.make(rng)
        n = len(pred)
        preds = pd.DataFrame(_columns(pred, "p"))
        preds["g"] = np.array([f"g{i}" for i in range(N_GROUPS)])[rng.integers(0, N_GROUPS, n)]
        targets = pd.DataFrame(_columns(target, "y"))
        targets["w"] = rng.uniform(0.1, 3.0, n)
        baseline = pd.DataFrame(_columns(_perturbed(case, pred, rng), "p"))
        return cls(preds, targets, baseline)

    def to_csv(self, directory: Path) -> tuple[str, str, str]:
        paths = tuple(str(directory / f"{name}.csv") for name in ("preds", "targets", "baseline"))
        for frame, path in zip((self.preds, self.targets, self.baseline), paths, strict=True):
            frame.to_csv(path, index=False)
        return paths  # type: ignore[return-value]


def _write_csv(path: Path, columns: dict[str, Any]) -> str:
    """A CSV file as a user would have it: no quotes (pyarrow quotes all text by default)."""
    plain = pacsv.WriteOptions(quoting_style="none", quoting_header="none")
    pacsv.write_csv(pa.table(columns), str(path), write_options=plain)
    return str(path)


def _bce_from_logits(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-sample binary cross-entropy of logits, by SciPy's log_expit."""
    return -(y * log_expit(z) + (1 - y) * log_expit(-z))


# --------------------------------------------------------------------------- 1. every case


@pytest.mark.parametrize("source", ["frames", "csv"])
@pytest.mark.parametrize("seed", SEEDS)
@cases
def test_report_is_the_same_for_every_chunking(
    case: Case, seed: int, source: str, tmp_path: Path
) -> None:
    """Weights, --by groups, a baseline and four gates: the whole JSON report, the
    per-sample losses, the head and the worst rows do not depend on ``chunk_rows``."""
    frames = Frames.of(case, seed)
    inputs: tuple[Any, ...] = (frames.preds, frames.targets, frames.baseline)
    if source == "csv":
        inputs = frames.to_csv(tmp_path)
    preds, targets, baseline = inputs

    def run(chunk_rows: int, **gates: Any) -> lossctl.Report:
        return lossctl.evaluate(
            preds,
            targets,
            weight_col="w",
            by="g",
            baseline=baseline,
            n_bootstrap=50,
            seed=7,
            chunk_rows=chunk_rows,
            **case.options,
            **gates,
        )

    first = run(DEFAULT_CHUNK_ROWS)
    assert first.baseline is not None
    # Thresholds a margin away from what was observed: on seed 0 the loss gates pass and
    # the others fail, on seed 1 the other way round.
    sign = 1.0 if seed % 2 == 0 else -1.0
    gates = {
        "max_loss": first.mean_loss + sign * 0.1 * abs(first.mean_loss),
        "min_d2": first.d2 + sign * 0.1,
        "max_increase": first.baseline.difference + sign * 0.01,
        "max_increase_pct": first.baseline.difference_pct - sign * 1.0,
    }
    want = run(DEFAULT_CHUNK_ROWS, **gates)
    assert [(g.name, g.passed) for g in want.gates] == [
        ("max_loss", sign > 0),
        ("max_increase", sign > 0),
        ("max_increase_pct", sign < 0),
        ("min_d2", sign < 0),
    ]
    assert (want.task, want.prediction_kind, want.n_samples) == (case.task, case.kind, N)
    assert [g.name for g in want.summary.by_groups] == ["g0", "g1", "g2"]
    for chunk_rows in CHUNKINGS:
        assert_same_report(run(chunk_rows, **gates), want)


def test_assert_same_tells_numbers_apart() -> None:
    """The comparison of part 1 does see a difference (beyond rounding) and a changed text."""
    assert_same({"a": [1.0, None, "x"]}, {"a": [1.0 + 1e-15, float("nan"), "x"]})
    for got in ({"a": [1.0 + 1e-9, None, "x"]}, {"a": [1.0, 0.0, "x"]}, {"a": [1.0, None, "y"]}):
        with pytest.raises(AssertionError):
            assert_same(got, {"a": [1.0, None, "x"]})


# --------------------------------------------------------------------------- 2. detection

BIG = 200_000


@dataclass(frozen=True)
class LateLogits:
    """Files of probabilities but for a logit in the last rows (or the first)."""

    preds: str
    targets: str
    z: np.ndarray
    y: np.ndarray


@pytest.fixture(scope="module")
def late_binary(tmp_path_factory: pytest.TempPathFactory) -> LateLogits:
    rng = np.random.default_rng(11)
    z = rng.uniform(0.0, 1.0, BIG)
    z[BIG - 3] = 3.5
    y = rng.integers(0, 2, BIG)
    directory = tmp_path_factory.mktemp("late_binary")
    return LateLogits(
        _write_csv(directory / "preds.csv", {"p": z}),
        _write_csv(directory / "targets.csv", {"y": y}),
        z,
        y,
    )


@pytest.fixture(scope="module")
def late_multiclass(tmp_path_factory: pytest.TempPathFactory) -> LateLogits:
    rng = np.random.default_rng(12)
    z = rng.dirichlet(np.full(3, 2.0), BIG)
    z[BIG - 1000] = [2.0, -1.5, 0.5]
    y = rng.integers(0, 3, BIG)
    directory = tmp_path_factory.mktemp("late_multiclass")
    return LateLogits(
        _write_csv(directory / "preds.csv", _columns(z, "p")),
        _write_csv(directory / "targets.csv", {"y": y}),
        z,
        y,
    )


def test_late_logit_makes_a_binary_file_logits(late_binary: LateLogits) -> None:
    """Blocks and chunks of probabilities, then one logit near the end: the whole file is
    logits, and the mean is scikit-learn's log loss of sigmoid(z)."""
    d = late_binary
    assert Path(d.preds).stat().st_size > 3 << 20  # several blocks of 1 MiB
    oracle = log_loss(d.y, expit(d.z))
    doc = eval_json(d.preds, d.targets)
    assert (doc["task"], doc["prediction_kind"], doc["n_samples"]) == ("binary", "logits", BIG)
    assert doc["mean_loss"] == pytest.approx(oracle, rel=ORACLE)

    report = lossctl.evaluate(d.preds, d.targets, chunk_rows=1000)
    assert (report.task, report.prediction_kind) == ("binary", "logits")
    assert report.mean_loss == pytest.approx(oracle, rel=ORACLE)
    assert report.losses is not None
    np.testing.assert_allclose(report.losses, _bce_from_logits(d.z, d.y), rtol=ORACLE)


def test_late_logit_makes_a_multiclass_file_logits(late_multiclass: LateLogits) -> None:
    """Rows summing to 1, then one row of logits far down: softmax over the whole file."""
    d = late_multiclass
    oracle = log_loss(d.y, scipy_softmax(d.z, axis=1), labels=[0, 1, 2])
    doc = eval_json(d.preds, d.targets)
    assert (doc["task"], doc["prediction_kind"]) == ("multiclass", "logits")
    assert doc["n_not_summing_to_one"] == 0  # a warning for probabilities only
    assert doc["mean_loss"] == pytest.approx(oracle, rel=ORACLE)

    report = lossctl.evaluate(d.preds, d.targets, chunk_rows=1000)
    assert (report.task, report.prediction_kind) == ("multiclass", "logits")
    assert report.mean_loss == pytest.approx(oracle, rel=ORACLE)
    assert report.losses is not None
    expected = -np.take_along_axis(log_softmax(d.z, axis=1), d.y[:, None], axis=1)[:, 0]
    np.testing.assert_allclose(report.losses, expected, rtol=ORACLE)


def test_early_logit_makes_the_file_logits(tmp_path: Path) -> None:
    """A logit in the first chunk, probabilities after it: still logits (the guess holds)."""
    rng = np.random.default_rng(13)
    z = rng.uniform(0.0, 1.0, 5000)
    z[3] = -2.0
    y = rng.integers(0, 2, z.size)
    preds = _write_csv(tmp_path / "preds.csv", {"p": z})
    targets = _write_csv(tmp_path / "targets.csv", {"y": y})
    oracle = log_loss(y, expit(z))
    assert eval_json(preds, targets)["prediction_kind"] == "logits"
    for chunk_rows in (7, 1000):
        report = lossctl.evaluate(preds, targets, chunk_rows=chunk_rows)
        assert report.prediction_kind == "logits"
        assert report.mean_loss == pytest.approx(oracle, rel=ORACLE)


def _late_task_change(kind: str) -> tuple[pd.DataFrame, pd.DataFrame, str, float]:
    """Inputs whose last rows change the task, the task, and the oracle's mean loss."""
    rng = np.random.default_rng(14)
    n = 200
    if kind == "regression":  # 0/1 targets (binary?) until a 2.5
        p, y = rng.uniform(0.0, 1.0, n), rng.integers(0, 2, n).astype(float)
        y[n - 2] = 2.5
        return pd.DataFrame({"p": p}), pd.DataFrame({"y": y}), "regression", np.mean((p - y) ** 2)
    # one-hot targets (multiclass?) until a row with two labels
    p = rng.dirichlet(np.full(3, 2.0), n)
    y = np.eye(3, dtype=np.int64)[rng.integers(0, 3, n)]
    y[n - 2] = [1, 1, 0]
    bce = -(y * np.log(p) + (1 - y) * np.log1p(-p)).sum(axis=1)
    return pd.DataFrame(_columns(p, "p")), pd.DataFrame(_columns(y, "y")), "multilabel", bce.mean()


@pytest.mark.parametrize("kind", ["regression", "multilabel"])
def test_late_row_changes_the_task(kind: str) -> None:
    """Targets that look binary (or one-hot) for 198 rows, then do not: the task is decided
    over every row, and chunks of 1 and 7 (which guessed otherwise) report the same."""
    preds, targets, task, oracle = _late_task_change(kind)
    want = lossctl.evaluate(preds, targets)
    assert want.task == task
    assert want.mean_loss == pytest.approx(oracle, rel=ORACLE)
    for chunk_rows in (1, 7):
        assert_same_report(lossctl.evaluate(preds, targets, chunk_rows=chunk_rows), want)


# --------------------------------------------------------------------------- 3. output

N_IDS = 300


@dataclass(frozen=True)
class Scenario:
    """Predictions and targets files, the extra arguments, and the oracle's losses in the
    order of PREDICTIONS (with their ids, when aligned by id)."""

    preds: str
    targets: str
    args: tuple[str, ...]
    losses: np.ndarray
    ids: list[str] | None


def _late_logit_scenario(directory: Path) -> Scenario:
    """60 rows of probabilities with a logit at row 58: chunks of 1 or 7 need a second pass."""
    rng = np.random.default_rng(21)
    z = rng.uniform(0.02, 0.98, 60)
    z[57] = 3.5
    y = rng.integers(0, 2, z.size)
    return Scenario(
        _write_csv(directory / "preds.csv", {"p": z}),
        _write_csv(directory / "targets.csv", {"y": y}),
        (),
        _bce_from_logits(z, y),
        None,
    )


def _id_scenario(directory: Path, order: str) -> Scenario:
    """Binary probabilities joined by ``--id id``; ``order`` says how the rows are listed."""
    rng = np.random.default_rng(22)
    ids = np.arange(1, N_IDS + 1)
    p = rng.uniform(0.02, 0.98, N_IDS)
    if order == "late-logit-shuffled":
        p[N_IDS - 5] = -1.5
    y = rng.integers(0, 2, N_IDS)
    pred_order = target_order = np.arange(N_IDS)
    if order == "preds-shuffled":
        pred_order = rng.permutation(N_IDS)
    elif order in ("targets-shuffled", "late-logit-shuffled"):
        target_order = rng.permutation(N_IDS)
    elif order == "in-step-then-shuffled":
        target_order = np.concatenate([np.arange(100), 100 + rng.permutation(N_IDS - 100)])
    expected = (
        _bce_from_logits(p, y)
        if order == "late-logit-shuffled"
        else -(y * np.log(p) + (1 - y) * np.log1p(-p))
    )
    return Scenario(
        _write_csv(directory / "preds.csv", {"id": ids[pred_order], "p": p[pred_order]}),
        _write_csv(directory / "targets.csv", {"id": ids[target_order], "y": y[target_order]}),
        ("--id", "id"),
        expected[pred_order],
        [str(i) for i in ids[pred_order]],
    )


SCENARIOS = [
    "late-logit",
    "in-step",
    "targets-shuffled",
    "preds-shuffled",
    "in-step-then-shuffled",
    "late-logit-shuffled",
]


def _scenario(name: str, directory: Path) -> Scenario:
    return (
        _late_logit_scenario(directory) if name == "late-logit" else _id_scenario(directory, name)
    )


@pytest.mark.parametrize("name", SCENARIOS)
def test_output_files_do_not_depend_on_chunks(name: str, tmp_path: Path) -> None:
    """--output CSV and Parquet are the same files with chunks of 1, 7 and the default;
    --format csv prints the CSV file's bytes; the loss column is the API's ``losses`` (and
    the oracle's), in the order of PREDICTIONS, with the ids of PREDICTIONS."""
    s = _scenario(name, tmp_path)
    csv_files, parquet_tables = [], []
    for chunk_rows in CHUNKINGS:
        out = tmp_path / f"out{chunk_rows}"
        out.mkdir()
        chunk = ("--chunk-rows", str(chunk_rows))
        as_csv = run_eval(
            s.preds, s.targets, *s.args, *chunk, "--output", str(out / "l.csv"), "--format", "csv"
        )
        assert as_csv.exit_code == 0, as_csv.stderr
        csv_bytes = (out / "l.csv").read_bytes()
        assert as_csv.stdout_bytes == csv_bytes
        csv_files.append(csv_bytes)
        as_parquet = run_eval(
            s.preds, s.targets, *s.args, *chunk, "--output", str(out / "l.parquet")
        )
        assert as_parquet.exit_code == 0, as_parquet.stderr
        parquet_tables.append(pq.read_table(out / "l.parquet"))
    for other in csv_files[1:]:
        assert other == csv_files[0]
    for other in parquet_tables[1:]:
        assert other.equals(parquet_tables[0])

    report = lossctl.evaluate(s.preds, s.targets, id_col="id" if s.ids else None)
    assert report.losses is not None
    np.testing.assert_allclose(report.losses, s.losses, rtol=ORACLE)
    read_back = pd.read_csv(io.BytesIO(csv_files[0]), dtype={"id": str})
    table = parquet_tables[0]
    for losses in (read_back["loss"].to_numpy(), table.column("loss").to_numpy()):
        np.testing.assert_allclose(losses, report.losses, rtol=REL, atol=0)
    expected_columns = ["id", "loss"] if s.ids else ["loss"]
    assert list(read_back.columns) == table.column_names == expected_columns
    if s.ids is not None:
        assert read_back["id"].tolist() == s.ids
        assert [str(i) for i in table.column("id").to_pylist()] == s.ids


def test_output_to_file_objects_does_not_depend_on_chunks(tmp_path: Path) -> None:
    """A binary file object given as ``output=`` gets the same CSV bytes, second pass or not."""
    s = _scenario("late-logit-shuffled", tmp_path)
    written = []
    for chunk_rows in CHUNKINGS:
        sink = io.BytesIO()
        lossctl.evaluate(s.preds, s.targets, id_col="id", chunk_rows=chunk_rows, output=sink)
        written.append(sink.getvalue())
    assert written[0].startswith(b"id,loss\n")
    assert written[1:] == written[:1] * 2


# --------------------------------------------------------------------------- 4. joins


ID_STYLES = {
    "text": [f"s{i:04d}" for i in range(N_IDS)],  # increasing as text; hashed
    "integers": [str(i) for i in range(N_IDS)],  # 0..n-1: looked up in a table
    "spread integers": [str(i * 7919 - 10**12) for i in range(N_IDS)],  # binary search
}


@pytest.fixture(params=list(ID_STYLES))
def joined(tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, Path]:
    """One predictions file and three orders of the same targets (with weights and groups),
    each in its own folder as ``targets.csv`` (so every report names the same files)."""
    rng = np.random.default_rng(31)
    ids = np.array(ID_STYLES[request.param])
    probs = rng.dirichlet(np.full(3, 1.5), N_IDS)
    _write_csv(tmp_path / "preds.csv", {"id": ids, **_columns(probs, "p")})
    y, w = rng.integers(0, 3, N_IDS), rng.uniform(0.1, 2.0, N_IDS)
    g = rng.choice(["a", "b", "c"], N_IDS)
    orders = {
        "same": np.arange(N_IDS),
        "shuffled": rng.permutation(N_IDS),
        "in-step-then-shuffled": np.concatenate(
            [np.arange(100), 100 + rng.permutation(N_IDS - 100)]
        ),
    }
    folders = {}
    for name, order in orders.items():
        folder = tmp_path / name
        folder.mkdir()
        _write_csv(
            folder / "targets.csv", {"id": ids[order], "y": y[order], "w": w[order], "g": g[order]}
        )
        folders[name] = folder
    return folders


@pytest.mark.parametrize("chunk_rows", [7, DEFAULT_CHUNK_ROWS])
@pytest.mark.parametrize("order", ["shuffled", "in-step-then-shuffled"])
def test_every_join_gives_the_same_report(
    joined: dict[str, Path], order: str, chunk_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Targets in the predictions' order (joined in step), shuffled (joined by hash), or in
    step for 100 rows then shuffled (the pass restarts): the same JSON report."""
    args: tuple[str, ...] = ("../preds.csv", "targets.csv", "--id", "id", "--weight-col", "w")
    args += ("--by", "g", "--max-loss", "2.0", "--chunk-rows")
    monkeypatch.chdir(joined["same"])
    want = eval_json(*args, str(DEFAULT_CHUNK_ROWS))
    assert (want["task"], want["n_samples"], want["weighted"]) == ("multiclass", N_IDS, True)
    assert [group["name"] for group in want["groups"]] == ["a", "b", "c"]
    monkeypatch.chdir(joined[order])
    assert_same(eval_json(*args, str(chunk_rows)), want)


@pytest.mark.parametrize("chunk_rows", CHUNKINGS)
@pytest.mark.parametrize("style", ["text", "integers"])
def test_ids_in_the_same_order_that_do_not_increase(
    style: str, chunk_rows: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both files list the ids in one order that is not increasing (``img-9`` before
    ``img-10``, or counting down): the report of a hash join, joined in step when the
    first chunk shows it (smaller chunks that start increasing restart by hash); an id
    twice is still named."""
    ids = [f"img-{i}" if style == "text" else str(N_IDS - i) for i in range(N_IDS)]
    _ids_file(tmp_path / "preds.csv", ids, "p")
    _ids_file(tmp_path / "targets.csv", ids, "y")
    order = np.random.default_rng(3).permutation(N_IDS)
    targets = pd.read_csv(tmp_path / "targets.csv", dtype=str).iloc[order]
    targets.to_csv(tmp_path / "shuffled.csv", index=False)
    args = ("--id", "id", "--chunk-rows", str(chunk_rows))
    want = eval_json(str(tmp_path / "preds.csv"), str(tmp_path / "shuffled.csv"), *args)
    if chunk_rows == DEFAULT_CHUNK_ROWS:  # in step all the way: no hash join to fall to
        monkeypatch.setattr(lossctl.io.align.Aligner, "_past_index", None)
    got = eval_json(str(tmp_path / "preds.csv"), str(tmp_path / "targets.csv"), *args)
    assert_same(got, {**want, "inputs": got["inputs"]})
    monkeypatch.undo()
    ids[N_IDS - 3] = ids[5]
    _ids_file(tmp_path / "preds.csv", ids, "p")
    _ids_file(tmp_path / "targets.csv", ids, "y")
    result = run_eval(str(tmp_path / "preds.csv"), str(tmp_path / "targets.csv"), *args)
    assert_input_error(result, "1 ids appear more than once", f"the first, {ids[5]!r}")


def _weak_hash(text: pa.Array) -> np.ndarray:
    """A hash that only tells lengths apart: text ids collide on purpose."""
    return np.asarray(pa.compute.binary_length(text), dtype=np.int64)


@pytest.mark.parametrize("collide", ["every id", "none"])
def test_text_ids_joined_by_hash_survive_collisions(
    collide: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text ids are looked up by a hash of their bytes and each match checked against the
    text: ids of the target that share a hash are looked up another way, and a prediction
    whose id shares a hash with another target id is not matched to it."""
    ids = [f"s{i:04d}" for i in range(N_IDS)]  # one length: every hash the same
    _ids_file(tmp_path / "preds.csv", ids, "p")
    _ids_file(tmp_path / "same.csv", ids, "y")
    want = lossctl.evaluate(str(tmp_path / "preds.csv"), str(tmp_path / "same.csv"), id_col="id")
    order = np.random.default_rng(5).permutation(N_IDS)
    targets = pd.read_csv(tmp_path / "same.csv", dtype=str).iloc[order]
    targets.to_csv(tmp_path / "shuffled.csv", index=False)
    if collide == "every id":
        monkeypatch.setattr(lossctl.io.ids, "_text_hashes", _weak_hash)
    got = lossctl.evaluate(str(tmp_path / "preds.csv"), str(tmp_path / "shuffled.csv"), id_col="id")
    assert got.mean_loss == pytest.approx(want.mean_loss, rel=REL)
    assert got.n_samples == N_IDS


def test_a_prediction_id_that_shares_a_hash_is_not_matched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lossctl.io.ids, "_text_hashes", _weak_hash)
    _ids_file(tmp_path / "preds.csv", ["b", "aa", "zzz"], "p")  # "zzz": the length of "ccc"
    _ids_file(tmp_path / "targets.csv", ["aa", "ccc", "b"], "y")
    result = run_eval(str(tmp_path / "preds.csv"), str(tmp_path / "targets.csv"), "--id", "id")
    assert_input_error(result, "1 ids of", "(first: 'zzz'", "(first: 'ccc'")


@pytest.mark.parametrize(
    ("pred_ids", "target_ids", "missing"),
    [
        (["007", "8", "9"], ["9", "7", "8"], "'007'"),  # "007" is text, never 7
        (["7", "8", "9"], ["9", "+7", "8"], "'7'"),
        (["-9223372036854775808", "2", "1"], ["9223372036854775806", "1", "2"], "'-9223"),
        (["1", "2", "9223372036854775807"], ["2", "1", "-9223372036854775807"], "'9223"),
    ],
)
def test_ids_that_spell_the_same_integer_differently_do_not_match(
    pred_ids: list[str], target_ids: list[str], missing: str, tmp_path: Path
) -> None:
    """Targets in another order (joined by hash, ids read as numbers where they spell
    them the usual way): an id matches only the same text, even at the ends of int64."""
    _ids_file(tmp_path / "preds.csv", pred_ids, "p")
    _ids_file(tmp_path / "targets.csv", target_ids, "y")
    result = run_eval(str(tmp_path / "preds.csv"), str(tmp_path / "targets.csv"), "--id", "id")
    assert_input_error(result, "ids of", "are not in", f"(first: {missing}")


def _ids_file(path: Path, ids: list[str], column: str) -> None:
    rng = np.random.default_rng(len(ids))
    values = rng.uniform(0.05, 0.95, len(ids)) if column == "p" else rng.integers(0, 2, len(ids))
    _write_csv(path, {"id": ids, column: values})


ONE_TO_50 = [str(i) for i in range(1, 51)]
BAD_IDS = {
    # name: (prediction ids, target ids, the message)
    "duplicate-target-id": (
        ONE_TO_50,
        [*ONE_TO_50[:39], "10", *ONE_TO_50[40:]],
        "lossctl: error: targets.csv, column 'id': 1 ids appear more than once; the first, "
        "'10', is on rows 10, 40. Every id must appear exactly once in each file",
    ),
    "duplicate-prediction-id": (
        [*ONE_TO_50[:29], "5", *ONE_TO_50[30:]],
        ONE_TO_50,
        "lossctl: error: preds.csv, column 'id': 1 ids appear more than once; the first, "
        "'5', is on rows 5, 30. Every id must appear exactly once in each file",
    ),
    "other-id": (
        ONE_TO_50,
        [*ONE_TO_50[:44], "99", *ONE_TO_50[45:]],
        "lossctl: error: column 'id': 1 ids of preds.csv are not in targets.csv (first: '45', "
        "row 45); 1 ids of targets.csv are not in preds.csv (first: '99', row 45). Every id "
        "must appear exactly once in each file; or align by row order with --no-id",
    ),
    "targets-end-early": (
        ONE_TO_50,
        ONE_TO_50[:48],
        "lossctl: error: column 'id': 2 ids of preds.csv are not in targets.csv (first: '49', "
        "row 49). Every id must appear exactly once in each file; or align by row order with "
        "--no-id",
    ),
    "predictions-end-early": (
        ONE_TO_50[:47],
        ONE_TO_50,
        "lossctl: error: column 'id': 3 ids of targets.csv are not in preds.csv (first: '48', "
        "row 48). Every id must appear exactly once in each file; or align by row order with "
        "--no-id",
    ),
}


def _parts(directory: Path, ids: list[str], column: str, cuts: list[int]) -> None:
    """The rows of ``_ids_file`` cut into part files ``directory/part-0.csv``, ... at
    ``cuts``."""
    directory.mkdir()
    _ids_file(directory / "whole.csv", ids, column)
    header, *rows = (directory / "whole.csv").read_text().splitlines()
    (directory / "whole.csv").unlink()
    edges = [0, *cuts, len(rows)]
    for k, (a, b) in enumerate(itertools.pairwise(edges)):
        (directory / f"part-{k}.csv").write_text("\n".join([header, *rows[a:b]]) + "\n")


PARTS_BAD_IDS = {
    # name: (prediction ids, target ids, the message); predictions cut after rows 20
    # and 35, targets after row 30
    "duplicate-across-target-parts": (
        ONE_TO_50,
        [*ONE_TO_50[:39], "10", *ONE_TO_50[40:]],
        "lossctl: error: t/*.csv, column 'id': 1 ids appear more than once; the first, '10', "
        "is on rows 10 of t/part-0.csv, 10 of t/part-1.csv. Every id must appear exactly once "
        "in each file",
    ),
    "duplicate-in-one-prediction-part": (
        [*ONE_TO_50[:29], "25", *ONE_TO_50[30:]],
        ONE_TO_50,
        "lossctl: error: p/part-1.csv, column 'id': 1 ids appear more than once; the first, "
        "'25', is on rows 5, 10. Every id must appear exactly once in each file",
    ),
    "other-id": (
        ONE_TO_50,
        [*ONE_TO_50[:44], "99", *ONE_TO_50[45:]],
        "lossctl: error: column 'id': 1 ids of p/*.csv are not in t/*.csv (first: '45', "
        "row 10 of p/part-2.csv); 1 ids of t/*.csv are not in p/*.csv (first: '99', row 15 "
        "of t/part-1.csv). Every id must appear exactly once in each file; or align by row "
        "order with --no-id",
    ),
    "empty-target-id": (
        ONE_TO_50,
        [*ONE_TO_50[:33], "", *ONE_TO_50[34:]],
        "lossctl: error: t/part-1.csv, column 'id', row 4: this id is empty. Every row needs "
        "an id; or align by row order with --no-id",
    ),
}


@pytest.mark.parametrize("chunk_rows", CHUNKINGS)
@pytest.mark.parametrize(
    ("layout", "name"),
    [*(("files", name) for name in BAD_IDS), *(("parts", name) for name in PARTS_BAD_IDS)],
)
def test_bad_ids_found_after_rows_in_step(
    layout: str, name: str, chunk_rows: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ids that agree for a while, then are duplicated or missing: exit 2 with the message
    that names them (the part and its row, for parts), whatever the chunks (the in-step
    join hands over to the hash join)."""
    if layout == "files":
        pred_ids, target_ids, message = BAD_IDS[name]
        _ids_file(tmp_path / "preds.csv", pred_ids, "p")
        _ids_file(tmp_path / "targets.csv", target_ids, "y")
        inputs = ("preds.csv", "targets.csv")
    else:
        pred_ids, target_ids, message = PARTS_BAD_IDS[name]
        _parts(tmp_path / "p", pred_ids, "p", [20, 35])
        _parts(tmp_path / "t", target_ids, "y", [30])
        inputs = ("p/*.csv", "t/*.csv")
    monkeypatch.chdir(tmp_path)
    result = run_eval(*inputs, "--id", "id", "--chunk-rows", str(chunk_rows))
    assert assert_input_error(result) == message


@pytest.mark.parametrize("chunk_rows", CHUNKINGS)
def test_a_missing_target_of_a_hash_joined_part_names_the_part(
    chunk_rows: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ids out of order (so the targets are read whole and indexed), and an empty target in
    the second part of the targets: the message names that part and its row."""
    _parts(tmp_path / "p", ONE_TO_50[::-1], "p", [25])
    _parts(tmp_path / "t", ONE_TO_50, "y", [30])
    part = tmp_path / "t" / "part-1.csv"
    lines = part.read_text().splitlines()
    lines[7] = lines[7].split(",")[0] + ","  # data row 7 of the part: id 37
    part.write_text("\n".join(lines) + "\n")
    monkeypatch.chdir(tmp_path)
    result = run_eval("p/*.csv", "t/*.csv", "--id", "id", "--chunk-rows", str(chunk_rows))
    assert_input_error(result, "t/part-1.csv, column 'y', row 7: this value is missing")


@pytest.mark.parametrize("chunk_rows", CHUNKINGS)
@pytest.mark.parametrize("error", ["DuplicateIds", "MissingIds"])
def test_catalogue_id_errors_for_every_chunking(
    error: str, chunk_rows: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The error catalogue's DuplicateIds and MissingIds cases print the catalogue's line."""
    case = CATALOGUE[error]
    for name, content in case.files.items():
        (tmp_path / name).write_text(str(content), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run_eval(*case.args, "--chunk-rows", str(chunk_rows))
    assert assert_input_error(result) == printed(getattr(errors, error))


def test_group_column_that_turns_to_text_further_down(tmp_path: Path) -> None:
    """A --by column of numbers for more than a CSV block (1 MiB), then a name: the groups
    are those of the column read as text, each once, as from a DataFrame."""
    n = 60_000
    rng = np.random.default_rng(41)
    p, y = rng.uniform(0.05, 0.95, n), rng.integers(0, 2, n)
    g = np.array([str(i % 3) for i in range(n)], dtype=object)
    g[-1] = "x"
    preds = _write_csv(tmp_path / "preds.csv", {"p": p, "g": pa.array(g, pa.string())})
    targets = _write_csv(tmp_path / "targets.csv", {"y": y})
    assert Path(preds).stat().st_size > 1 << 20
    report = lossctl.evaluate(preds, targets, by="g")
    frame = lossctl.evaluate(pd.DataFrame({"p": p, "g": g}), pd.DataFrame({"y": y}), by="g")
    assert [(group.name, group.n_samples) for group in frame.summary.by_groups] == [
        ("0", 20_000),
        ("1", 20_000),
        ("2", 19_999),
        ("x", 1),
    ]
    assert_same(report.to_dict()["groups"], frame.to_dict()["groups"])


# --------------------------------------------------------------------------- 5. progress


@pytest.fixture
def bar_drawn(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The progress bar wanted and drawn for any input; returns the descriptions it shows."""
    shown: list[str] = []
    start = ProgressBar.start

    def spy(self: ProgressBar, total: int | None, unit: str, description: str) -> None:
        shown.append(description)
        start(self, total, unit, description)

    monkeypatch.setattr(ProgressBar, "wanted", staticmethod(lambda no_progress: True))
    monkeypatch.setattr(ProgressBar, "start", spy)
    monkeypatch.setitem(progress.LARGE, "bytes", 0)
    monkeypatch.setitem(progress.LARGE, "rows", 0)
    return shown


@pytest.mark.parametrize("fmt", ["json", "csv", "value"])
def test_progress_bar_never_reaches_stdout(fmt: str, tmp_path: Path, bar_drawn: list[str]) -> None:
    """With the bar drawn (on a terminal-like stderr) stdout is exactly what --no-progress
    prints; the late logit makes it draw a second pass too."""
    s = _late_logit_scenario(tmp_path)
    args = (s.preds, s.targets, "--format", fmt, "--chunk-rows", "7")
    drawn = run_eval(*args, env={"TTY_COMPATIBLE": "1"})
    assert drawn.exit_code == 0, drawn.stderr
    assert len(bar_drawn) == 2  # a bar for each pass
    assert drawn.stderr != ""  # Rich did draw on stderr
    with pytest.MonkeyPatch.context() as undo:
        undo.setattr(ProgressBar, "wanted", staticmethod(lambda no_progress: not no_progress))
        quiet = run_eval(*args, "--no-progress")
    assert quiet.exit_code == 0, quiet.stderr
    assert (quiet.stderr, len(bar_drawn)) == ("", 2)
    assert drawn.stdout_bytes == quiet.stdout_bytes
    if fmt == "json":
        assert json.loads(drawn.stdout)["prediction_kind"] == "logits"
    elif fmt == "value":
        assert float(drawn.stdout) == pytest.approx(s.losses.mean(), rel=ORACLE)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_progress_wins_even_at_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """``wanted`` is True at a terminal, and False there with --no-progress."""
    monkeypatch.setattr(sys, "stderr", _Terminal())
    assert ProgressBar.wanted(False) is True
    assert ProgressBar.wanted(True) is False


# --------------------------------------------------------------------------- 6. cut apart


@pytest.mark.parametrize("parquet_side", ["targets", "preds"])
@cases
def test_sides_cut_differently_pair_up(case: Case, parquet_side: str, tmp_path: Path) -> None:
    """One side CSV, the other Parquet in row groups of 5, aligned by position: chunks of 1
    and 7 give the report of one whole chunk."""
    frames = Frames.of(case, 0)
    paths = {}
    for side, frame in (("preds", frames.preds), ("targets", frames.targets)):
        if side == parquet_side:
            paths[side] = str(tmp_path / f"{side}.parquet")
            table = pa.Table.from_pandas(frame, preserve_index=False)
            pq.write_table(table, paths[side], row_group_size=5)
        else:
            paths[side] = str(tmp_path / f"{side}.csv")
            frame.to_csv(paths[side], index=False)
    assert pq.ParquetFile(paths[parquet_side]).num_row_groups == 12

    def run(chunk_rows: int) -> lossctl.Report:
        return lossctl.evaluate(
            paths["preds"],
            paths["targets"],
            weight_col="w",
            by="g",
            chunk_rows=chunk_rows,
            **case.options,
        )

    want = run(DEFAULT_CHUNK_ROWS)
    assert (want.task, want.prediction_kind, want.n_samples) == (case.task, case.kind, N)
    whole = lossctl.evaluate(frames.preds, frames.targets, weight_col="w", by="g", **case.options)
    assert want.losses is not None and whole.losses is not None
    np.testing.assert_allclose(want.losses, whole.losses, rtol=REL, atol=0)  # rows paired right
    for chunk_rows in (1, 7):
        assert_same_report(run(chunk_rows), want)
