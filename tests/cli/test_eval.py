"""``lossctl eval`` end to end (in-process): formats, outputs, gates, help, overrides, chunks.

The numbers are checked against the oracles of tests/cli/sample_oracles.py (pandas,
NumPy, SciPy and scikit-learn), never against lossctl itself (except where the point
is that two lossctl runs agree). Inputs and options: test_eval_inputs.py.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import log_loss, mean_squared_error

import lossctl
from tests.cli.helpers import (
    assert_one_error_line,
    csv_text,
    eval_json,
    eval_value,
    run,
    run_eval,
    sample_path,
)
from tests.cli.sample_oracles import (
    CASE_IDS,
    CASES,
    CLASSES,
    Case,
    aligned,
    bce_from_logits,
    binary_probs,
    multiclass_probs,
    multiclass_y,
    multilabel_probs,
    regression,
    write_aligned_multiclass_labels,
)


def test_the_oracles_agree_with_scikit_learn() -> None:
    """The hand-written oracles above are themselves checked against scikit-learn."""
    p, t = aligned("binary_probs.csv", "binary_labels.csv")
    assert binary_probs().mean() == pytest.approx(log_loss(t["churned"], p["p_churn"]), rel=1e-12)
    p, t = aligned("multiclass_probs.csv", "multiclass_labels.csv")
    expected = log_loss(multiclass_y(t), p[CLASSES].to_numpy(), labels=[0, 1, 2])
    assert multiclass_probs().mean() == pytest.approx(expected, rel=1e-12)
    p, t = aligned("regression_preds.csv", "regression_targets.csv")
    assert regression().mean() == pytest.approx(mean_squared_error(t["price"], p["price"]))


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_format_json_matches_the_oracle(case: Case) -> None:
    doc = eval_json(*case.args())
    expected = case.per_sample()
    assert doc["task"] == case.task
    assert doc["prediction_kind"] == case.kind
    assert doc["n_samples"] == len(expected)
    assert doc["mean_loss"] == pytest.approx(expected.mean(), rel=1e-12)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_format_value_is_the_bare_mean(case: Case) -> None:
    result = run_eval(*case.args(), "--format", "value")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.count("\n") == 1
    assert float(result.stdout) == pytest.approx(case.per_sample().mean(), rel=1e-12)
    assert float(result.stdout) == eval_json(*case.args())["mean_loss"]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_format_csv_is_the_per_sample_losses_in_prediction_order(case: Case) -> None:
    result = run_eval(*case.args(), "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    table = pd.read_csv(io.StringIO(result.stdout))
    assert list(table.columns)[:2] == ["id", "loss"]
    predicted = list(table.columns)[2:]  # the predicted class, or label by label
    assert all(name.startswith("predicted") for name in predicted)
    assert bool(predicted) == (case.task != "regression")
    preds = pd.read_csv(sample_path(case.preds))
    assert table["id"].tolist() == preds["id"].tolist()
    np.testing.assert_allclose(table["loss"].to_numpy(), case.per_sample(), rtol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_format_table_shows_task_and_mean(case: Case) -> None:
    result = run_eval(*case.args())  # --format table is the default
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    assert case.task in out
    assert case.kind in out
    assert f"{case.per_sample().mean():.6g}" in out
    assert f"{len(case.per_sample())}" in out
    assert "\x1b[" not in out  # not a terminal: no colour codes
    explicit = run_eval(*case.args(), "--format", "table")
    assert explicit.stdout == out


# --------------------------------------------------------------------------- --output


@pytest.mark.parametrize("suffix", ["csv", "parquet", "tsv", "csv.gz"])
def test_output_file_holds_id_then_loss_in_prediction_order(tmp_path: Path, suffix: str) -> None:
    preds, targets = sample_path("multiclass_probs.csv"), sample_path("multiclass_labels.csv")
    out = tmp_path / f"losses.{suffix}"
    result = run_eval(preds, targets, "--output", str(out), "--format", "json")
    assert result.exit_code == 0, result.stderr
    if suffix == "parquet":
        table = pq.read_table(out)
    else:
        delimiter = "\t" if suffix == "tsv" else ","
        table = pacsv.read_csv(out, parse_options=pacsv.ParseOptions(delimiter=delimiter))
    assert table.column_names == ["id", "loss", "predicted"]
    expected_ids = pd.read_csv(preds)["id"].tolist()
    classes = pd.read_csv(preds).drop(columns="id")
    argmax = classes.columns[classes.to_numpy().argmax(axis=1)].tolist()
    assert [str(c) for c in table.column("predicted").to_pylist()] == argmax
    assert table.column("id").to_pylist() == expected_ids
    losses = np.asarray(table.column("loss").to_numpy())
    np.testing.assert_allclose(losses, multiclass_probs(), rtol=1e-12)
    # the very numbers of the library and of the JSON report, not just close ones
    library = lossctl.evaluate(preds, targets)
    assert library.losses is not None
    np.testing.assert_array_equal(losses, library.losses)
    doc = json.loads(result.stdout)
    assert doc["n_samples"] == len(losses)
    assert doc["mean_loss"] == pytest.approx(losses.mean(), rel=1e-12)
    for row in doc["worst"]:
        assert losses[row["row"] - 1] == row["loss"]
        assert expected_ids[row["row"] - 1] == row["id"]


def test_output_without_an_id_has_only_the_loss_column(tmp_path: Path) -> None:
    out = tmp_path / "losses.parquet"
    aligned = write_aligned_multiclass_labels(tmp_path)
    result = run_eval(sample_path("multiclass_probs.csv"), aligned, "--no-id", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    table = pq.read_table(out)
    assert table.column_names == ["loss", "predicted"]
    np.testing.assert_allclose(table.column("loss").to_numpy(), multiclass_probs(), rtol=1e-12)


# --------------------------------------------------------------------------- --max-loss


def test_max_loss_passes_silently_when_the_mean_is_below() -> None:
    args = [sample_path("multiclass_probs.csv"), sample_path("multiclass_labels.csv")]
    result = run_eval(*args, "--max-loss", "1.0", "--format", "json")
    assert result.exit_code == 0
    assert result.stderr == ""
    doc = json.loads(result.stdout)
    assert doc["mean_loss"] < 1.0
    assert [g["passed"] for g in doc["gates"]] == [True]
    assert doc["passed"] is True


def test_max_loss_equal_to_the_mean_passes() -> None:
    """The gate fails only when the mean is strictly above the threshold."""
    args = [sample_path("regression_preds.csv"), sample_path("regression_targets.csv")]
    mean = eval_value(*args)
    assert run_eval(*args, "--max-loss", repr(mean)).exit_code == 0
    assert run_eval(*args, "--max-loss", repr(math.nextafter(mean, 0.0))).exit_code == 1


@pytest.mark.parametrize("fmt", ["json", "table", "value", "csv"])
def test_max_loss_failure_exits_1_with_the_report_and_one_stderr_line(
    tmp_path: Path, fmt: str
) -> None:
    args = [sample_path("multiclass_probs.csv"), sample_path("multiclass_labels.csv")]
    out = tmp_path / "losses.csv"
    mean = multiclass_probs().mean()
    result = run_eval(*args, "--max-loss", "0.5", "--format", fmt, "--output", str(out))
    assert result.exit_code == 1
    # the report is complete on stdout
    if fmt == "json":
        doc = json.loads(result.stdout)
        assert doc["mean_loss"] == pytest.approx(mean, rel=1e-12)
        assert doc["passed"] is False
        assert doc["gates"] == [
            {"name": "max_loss", "threshold": 0.5, "observed": doc["mean_loss"], "passed": False}
        ]
    elif fmt == "value":
        assert float(result.stdout) == pytest.approx(mean, rel=1e-12)
    elif fmt == "csv":
        assert len(result.stdout.splitlines()) == 1 + 150
    else:
        assert f"{mean:.6g}" in result.stdout
    # one line on stderr: the observed value and the threshold
    line = assert_one_error_line(result.stderr, "0.5", prefix="lossctl: ")
    numbers = [float(x) for x in re.findall(r"\d+\.\d+(?:e[-+]?\d+)?", line)]
    assert any(x == pytest.approx(mean, rel=1e-6) for x in numbers), line
    assert 0.5 in numbers
    # --output is written in full anyway
    written = pd.read_csv(out)
    assert len(written) == 150
    np.testing.assert_allclose(written["loss"].to_numpy(), multiclass_probs(), rtol=1e-12)


# --------------------------------------------------------------------------- version, help


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout == f"lossctl {lossctl.__version__}\n"
    assert result.stderr == ""


def test_help_lists_the_eval_command() -> None:
    result = run("--help")
    assert result.exit_code == 0
    assert "eval" in result.stdout
    assert result.stderr == ""


def test_no_arguments_show_help_without_an_empty_error() -> None:
    """``lossctl`` alone shows the help; it must not add an error line with no message."""
    for args in ((), ("eval",)):
        result = run(*args)
        assert "Usage" in result.stdout
        for line in result.stderr.splitlines():
            message = line.removeprefix("lossctl: error:").replace("(see 'lossctl --help')", "")
            assert message.strip(), f"an error line without a message: {line!r}"


SPEC_OPTIONS = [
    "--task",
    "--from-logits",
    "--from-probs",
    "--target-col",
    "--pred-col",
    "--id",
    "--no-id",
    "--weight-col",
    "--eps",
    "--format",
    "--output",
    "--max-loss",
    "--drop-missing",
    "--label-reduction",
    "--head",
    "--worst",
    "--debug",
]


def test_eval_help_lists_every_option_of_the_spec() -> None:
    result = run("eval", "--help", env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert result.stderr == ""
    for option in SPEC_OPTIONS:
        assert option in result.stdout, option
    for choice in ("table", "json", "csv", "value", "multilabel", "regression"):
        assert choice in result.stdout


def test_eval_help_prints_square_brackets_literally() -> None:
    """The --eps help says ``[eps, 1 - eps]``: it must not be eaten as Rich markup."""
    result = run("eval", "--help", env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "[eps, 1 - eps]" in result.stdout


# --------------------------------------------------------------------------- overrides


def test_task_regression_override_gives_the_mse_of_the_raw_values() -> None:
    p, t = aligned("binary_probs.csv", "binary_labels.csv")
    expected = mean_squared_error(t["churned"], p["p_churn"])
    doc = eval_json(
        sample_path("binary_probs.csv"), sample_path("binary_labels.csv"), "--task", "regression"
    )
    assert (doc["task"], doc["activation"], doc["prediction_kind"]) == (
        "regression",
        "identity",
        "values",
    )
    assert doc["mean_loss"] == pytest.approx(expected, rel=1e-12)
    assert any("--task" in reason for reason in doc["detection"]["reasons"])


def test_from_logits_override_reads_probabilities_as_logits() -> None:
    p, t = aligned("binary_probs.csv", "binary_labels.csv")
    expected = bce_from_logits(p["p_churn"].to_numpy(), t["churned"].to_numpy()).mean()
    args = [sample_path("binary_probs.csv"), sample_path("binary_labels.csv")]
    auto = eval_json(*args)
    doc = eval_json(*args, "--from-logits")
    assert auto["prediction_kind"] == "probabilities"
    assert doc["prediction_kind"] == "logits"
    assert doc["mean_loss"] == pytest.approx(expected, rel=1e-12)
    assert any("--from-logits" in reason for reason in doc["detection"]["reasons"])


def test_from_probs_override_agrees_with_detection_and_says_so() -> None:
    args = [sample_path("multilabel_probs.csv"), sample_path("multilabel_labels.csv")]
    doc = eval_json(*args, "--from-probs", "--task", "multilabel")
    assert doc["prediction_kind"] == "probabilities"
    assert doc["mean_loss"] == pytest.approx(multilabel_probs().mean(), rel=1e-12)
    reasons = doc["detection"]["reasons"]
    assert any("--from-probs" in reason for reason in reasons)
    assert any("--task" in reason for reason in reasons)


# --------------------------------------------------------------------------- chunks


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_chunk_rows_do_not_change_the_result(case: Case) -> None:
    whole = run_eval(*case.args(), "--format", "csv")
    chunked = run_eval(*case.args(), "--format", "csv", "--chunk-rows", "7")
    assert whole.exit_code == chunked.exit_code == 0
    assert whole.stdout == chunked.stdout
    assert eval_json(*case.args(), "--chunk-rows", "7")["mean_loss"] == pytest.approx(
        case.per_sample().mean(), rel=1e-12
    )


def test_detection_looks_at_the_whole_input_not_the_first_chunk(
    write: Callable[..., str],
) -> None:
    values = [0.1, 0.9, 0.3, 0.7, 0.2, 0.8, 1.5]  # only the last value says "logits"
    preds = write("p.csv", csv_text(["p"], [[v] for v in values]))
    targets = write("y.csv", csv_text(["y"], [[i % 2] for i in range(len(values))]))
    doc = eval_json(preds, targets, "--chunk-rows", "2")
    assert doc["prediction_kind"] == "logits"
    expected = bce_from_logits(np.array(values), np.arange(len(values)) % 2).mean()
    assert doc["mean_loss"] == pytest.approx(expected, rel=1e-12)


def test_drop_missing_also_drops_the_rows_from_detection(write: Callable[..., str]) -> None:
    """The only value outside [0, 1] sits on a dropped row: probabilities, not logits."""
    preds = write("p.csv", csv_text(["id", "p"], [["a", 0.2], ["b", 1.5], ["c", 0.7]]))
    targets = write("y.csv", csv_text(["id", "y"], [["a", 0], ["b", ""], ["c", 1]]))
    doc = eval_json(preds, targets, "--drop-missing")
    assert doc["n_dropped"] == 1
    assert doc["prediction_kind"] == "probabilities"
    assert doc["mean_loss"] == pytest.approx(log_loss([0, 1], [0.2, 0.7]), rel=1e-12)
