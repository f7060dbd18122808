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
4. the three ways of joining by id give the same report, and the same errors
   (test_streaming_ids.py);
5. the progress bar never reaches stdout;
6. inputs cut differently on the two sides (CSV blocks, Parquet row groups)
   pair up row by row.
"""

from __future__ import annotations

import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute
import pyarrow.parquet as pq
import pytest
from scipy.special import expit, log_softmax
from scipy.special import softmax as scipy_softmax
from sklearn.metrics import log_loss

import lossctl
import lossctl.io.align
import lossctl.io.ids
from lossctl.cli import progress
from lossctl.cli.progress import ProgressBar
from lossctl.core.defaults import DEFAULT_CHUNK_ROWS
from tests.cli.helpers import eval_json, run_eval
from tests.common_cases import SEEDS, Case, N
from tests.streaming_helpers import (
    CHUNKINGS,
    N_IDS,
    ORACLE,
    REL,
    Frames,
    assert_same,
    assert_same_report,
    bce_from_logits,
    cases,
    columns,
    write_csv,
)

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
    expected = [
        ("max_loss", sign > 0),
        ("max_increase", sign > 0),
        ("max_increase_pct", sign < 0),
        ("min_d2", sign < 0),
    ]
    if not case.has_null:  # no D^2 to gate on (a usage error)
        del gates["min_d2"]
        expected.pop()
    want = run(DEFAULT_CHUNK_ROWS, **gates)
    assert [(g.name, g.passed) for g in want.gates] == expected
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
        write_csv(directory / "preds.csv", {"p": z}),
        write_csv(directory / "targets.csv", {"y": y}),
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
        write_csv(directory / "preds.csv", columns(z, "p")),
        write_csv(directory / "targets.csv", {"y": y}),
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
    np.testing.assert_allclose(report.losses, bce_from_logits(d.z, d.y), rtol=ORACLE)


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
    preds = write_csv(tmp_path / "preds.csv", {"p": z})
    targets = write_csv(tmp_path / "targets.csv", {"y": y})
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
    return pd.DataFrame(columns(p, "p")), pd.DataFrame(columns(y, "y")), "multilabel", bce.mean()


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
        write_csv(directory / "preds.csv", {"p": z}),
        write_csv(directory / "targets.csv", {"y": y}),
        (),
        bce_from_logits(z, y),
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
        bce_from_logits(p, y)
        if order == "late-logit-shuffled"
        else -(y * np.log(p) + (1 - y) * np.log1p(-p))
    )
    return Scenario(
        write_csv(directory / "preds.csv", {"id": ids[pred_order], "p": p[pred_order]}),
        write_csv(directory / "targets.csv", {"id": ids[target_order], "y": y[target_order]}),
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
    assert list(read_back.columns)[: len(expected_columns)] == expected_columns
    assert list(read_back.columns) == table.column_names
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
    assert written[0].startswith(b"id,loss,predicted\n")
    assert written[1:] == written[:1] * 2


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
