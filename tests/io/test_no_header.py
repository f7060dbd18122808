"""Files without a header line: ``--no-header``, and a first line of numbers read as data.

The files are written as NumPy and pandas write them (``numpy.savetxt``,
``DataFrame.to_csv(header=False)``); every case evaluates all n rows against
scikit-learn's value, or stops with one line that suggests the flag.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import log_loss, mean_squared_error

import lossctl
from lossctl.errors import LengthMismatch, NoHeaderNotCsv, NonNumeric
from tests.cli.helpers import assert_input_error, eval_json, run_eval

N = 40
rng = np.random.default_rng(7)
PROBS = rng.dirichlet(np.ones(3), size=N)
CLASSES = rng.integers(0, 3, N)
P_BINARY = rng.uniform(0.05, 0.95, N)
Y_BINARY = (rng.random(N) < P_BINARY).astype(int)


@pytest.fixture
def numpy_pair(tmp_path: Path) -> tuple[str, str]:
    """A multiclass pair as numpy.savetxt writes it: no header in either file."""
    preds, labels = tmp_path / "P.csv", tmp_path / "y.csv"
    np.savetxt(preds, PROBS, delimiter=",")
    np.savetxt(labels, CLASSES, fmt="%d")
    return str(preds), str(labels)


def test_the_numpy_pair_evaluates_every_row_with_one_flag(numpy_pair: tuple[str, str]) -> None:
    doc = eval_json(*numpy_pair, "--no-header")
    assert doc["n_samples"] == N
    assert doc["inputs"]["pred_columns"] == ["0", "1", "2"]
    assert doc["mean_loss"] == pytest.approx(log_loss(CLASSES, PROBS), rel=1e-12)


def test_without_the_flag_the_row_lost_to_a_header_is_an_error_that_names_it(
    numpy_pair: tuple[str, str],
) -> None:
    """The predictions' first line (0.98, ...) is read as data; the labels' first line
    (an integer) stays a name, so the targets have one row fewer: exit 2, never n - 1."""
    preds, labels = numpy_pair
    line = assert_input_error(run_eval(preds, labels), f"has {N} rows", f"has {N - 1}")
    assert f"first line of {labels} is data" in line and "--no-header" in line
    with pytest.raises(LengthMismatch, match="--no-header"):
        lossctl.evaluate(preds, labels)


def test_binary_pair_one_column_each(tmp_path: Path) -> None:
    np.savetxt(tmp_path / "p.csv", P_BINARY)
    np.savetxt(tmp_path / "y.csv", Y_BINARY, fmt="%d")
    report = lossctl.evaluate(tmp_path / "p.csv", tmp_path / "y.csv", no_header=True)
    assert (report.task, report.n_samples) == ("binary", N)
    assert report.mean_loss == pytest.approx(log_loss(Y_BINARY, P_BINARY), rel=1e-12)


def test_a_first_line_of_non_integers_is_data_and_the_reasons_say_so(tmp_path: Path) -> None:
    np.savetxt(tmp_path / "P.csv", PROBS, delimiter=",")
    pd.DataFrame({"label": CLASSES}).to_csv(tmp_path / "y.csv", index=False)
    doc = eval_json(str(tmp_path / "P.csv"), str(tmp_path / "y.csv"))
    assert doc["n_samples"] == N
    assert doc["mean_loss"] == pytest.approx(log_loss(CLASSES, PROBS), rel=1e-12)
    said = [r for r in doc["detection"]["reasons"] if "first line of" in r]
    assert len(said) == 1 and "is numbers, not column names: read as data" in said[0]


def test_regression_files_of_numbers_need_no_flag(tmp_path: Path) -> None:
    truth = rng.normal(size=N)
    guess = truth + rng.normal(scale=0.3, size=N)
    np.savetxt(tmp_path / "pred.csv", guess)
    np.savetxt(tmp_path / "true.csv", truth)
    report = lossctl.evaluate(tmp_path / "pred.csv", tmp_path / "true.csv")
    assert (report.task, report.n_samples) == ("regression", N)
    assert report.mean_loss == pytest.approx(mean_squared_error(truth, guess), rel=1e-12)


@pytest.mark.parametrize("header", ["1,2,3", "0,1,2", "-1,0,1"])
def test_a_header_of_integers_stays_names(tmp_path: Path, header: str) -> None:
    """SPEC: columns 1,2,3 with labels 1..3 name those classes."""
    names = header.split(",")
    preds = tmp_path / "preds.csv"
    pd.DataFrame(PROBS, columns=names).to_csv(preds, index=False)
    labels = tmp_path / "labels.csv"
    pd.DataFrame({"y": [names[c] for c in CLASSES]}).to_csv(labels, index=False)
    report = lossctl.evaluate(preds, labels)
    assert report.n_samples == N
    assert report.mean_loss == pytest.approx(log_loss(CLASSES, PROBS), rel=1e-12)


@pytest.mark.parametrize("kind", ["gzip", "tsv", "stdin"])
def test_no_header_applies_to_every_csv_input(tmp_path: Path, kind: str) -> None:
    text = "".join(",".join(repr(float(v)) for v in row) + "\n" for row in PROBS)
    labels = tmp_path / "y.csv"
    labels.write_text("".join(f"{c}\n" for c in CLASSES))
    stdin = None
    if kind == "gzip":
        preds = str(tmp_path / "P.csv.gz")
        Path(preds).write_bytes(gzip.compress(text.encode()))
    elif kind == "tsv":
        preds = str(tmp_path / "P.tsv")
        Path(preds).write_text(text.replace(",", "\t"))
    else:
        preds, stdin = "-", text
    result = run_eval(preds, str(labels), "--no-header", "--format", "value", input=stdin)
    assert result.exit_code == 0, result.stderr
    assert float(result.stdout) == pytest.approx(log_loss(CLASSES, PROBS), rel=1e-12)


def test_a_large_file_read_in_ranges(tmp_path: Path) -> None:
    """Files of several MiB are cut into ranges parsed apart: the first range has no
    header either."""
    n = 120_000
    probs = np.random.default_rng(1).dirichlet(np.ones(4), size=n)
    classes = np.random.default_rng(2).integers(0, 4, n)
    np.savetxt(tmp_path / "P.csv", probs, delimiter=",")
    np.savetxt(tmp_path / "y.csv", classes, fmt="%d")
    assert (tmp_path / "P.csv").stat().st_size > 8 << 20
    report = lossctl.evaluate(tmp_path / "P.csv", tmp_path / "y.csv", no_header=True)
    assert report.n_samples == n
    assert report.mean_loss == pytest.approx(log_loss(classes, probs), rel=1e-10)


def test_rows_of_a_bad_value_count_from_the_first_line(tmp_path: Path) -> None:
    preds = tmp_path / "p.csv"
    preds.write_text("0.1\n0.2\noops\n0.4\n")
    (tmp_path / "y.csv").write_text("0\n1\n0\n1\n")
    with pytest.raises(NonNumeric) as caught:
        lossctl.evaluate(preds, tmp_path / "y.csv", no_header=True)
    assert (caught.value.column, caught.value.row) == ("0", 3)


def test_a_header_read_as_data_by_mistake_is_an_error_that_says_so(tmp_path: Path) -> None:
    np.savetxt(tmp_path / "P.csv", PROBS, delimiter=",")
    pd.DataFrame({"label": CLASSES}).to_csv(tmp_path / "y.csv", index=False)
    result = run_eval(str(tmp_path / "P.csv"), str(tmp_path / "y.csv"), "--no-header")
    assert_input_error(result, "y.csv names its columns, leave out --no-header")


def test_no_header_without_any_csv_input_is_an_error(tmp_path: Path) -> None:
    pd.DataFrame(PROBS, columns=list("abc")).to_parquet(tmp_path / "p.parquet")
    pd.DataFrame({"y": list(np.array(list("abc"))[CLASSES])}).to_parquet(tmp_path / "y.parquet")
    with pytest.raises(NoHeaderNotCsv):
        lossctl.evaluate(tmp_path / "p.parquet", tmp_path / "y.parquet", no_header=True)
    # (beside a CSV input, --no-header applies to it alone)
    np.savetxt(tmp_path / "y.csv", CLASSES, fmt="%d")
    pd.DataFrame(PROBS, columns=["0", "1", "2"]).to_parquet(tmp_path / "P.parquet")
    report = lossctl.evaluate(tmp_path / "P.parquet", tmp_path / "y.csv", no_header=True)
    assert report.mean_loss == pytest.approx(log_loss(CLASSES, PROBS), rel=1e-12)
