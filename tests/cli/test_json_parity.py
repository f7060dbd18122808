"""The CLI renders the library's report: ``--format json`` is ``evaluate(...).to_dict()``."""

from __future__ import annotations

import json
from typing import Any

import pytest

import lossctl
from tests.cli.helpers import run_eval, sample_path

REQUIRED = {
    "task": {"binary", "multiclass", "multilabel", "regression"},
    "activation": {"sigmoid", "softmax", "identity"},
    "prediction_kind": {"probabilities", "logits", "values"},
}
ACTIVATION = {"binary": "sigmoid", "multiclass": "softmax", "multilabel": "sigmoid"}

# (CLI arguments, the same evaluation as library keyword arguments)
PARITY_CASES: list[tuple[list[str], dict[str, Any]]] = [
    (["binary_probs.csv", "binary_labels.csv"], {}),
    (["binary_logits.csv", "binary_labels.csv"], {}),
    (["multiclass_probs.csv", "multiclass_labels.csv"], {}),
    (["multiclass_logits.csv", "multiclass_labels.csv"], {}),
    (["multilabel_probs.csv", "multilabel_labels.csv"], {}),
    (["multilabel_logits.csv", "multilabel_labels.csv"], {}),
    (["regression_preds.csv", "regression_targets.csv"], {}),
    (["regression_preds.csv.gz", "regression_targets.csv"], {}),
    (["multiclass_probs.parquet", "multiclass_labels.parquet"], {}),
    (
        ["binary_single.csv", "--target-col", "churned", "--weight-col", "weight"],
        {"target_cols": ["churned"], "weight_col": "weight"},
    ),
    (
        ["multilabel_logits.csv", "multilabel_labels.csv", "--label-reduction", "mean"],
        {"label_reduction": "mean"},
    ),
    (
        ["multiclass_probs.csv", "multiclass_labels.csv", "--no-id", "--max-loss", "2"],
        {"no_id": True, "max_loss": 2.0},
    ),
    (
        ["binary_probs.csv", "binary_labels.csv", "--from-logits", "--worst", "3"],
        {"from_logits": True, "worst": 3},
    ),
    (
        ["binary_probs.csv", "binary_labels.csv", "--task", "regression", "--eps", "1e-9"],
        {"task": "regression", "eps": 1e-9},
    ),
]
CASE_IDS = [" ".join(args) for args, _ in PARITY_CASES]


def _cli_args(args: list[str]) -> list[str]:
    """Sample file names -> their paths; options as they are."""
    out, options = [], False
    for arg in args:
        options = options or arg.startswith("--")
        out.append(arg if options else sample_path(arg))
    return out


def _files(args: list[str]) -> list[str]:
    """The paths of the input files named at the start of ``args``."""
    files = []
    for arg in args:
        if arg.startswith("--"):
            break
        files.append(sample_path(arg))
    return files


def _library(args: list[str], kwargs: dict[str, Any]) -> dict[str, Any]:
    report = lossctl.evaluate(*_files(args), **kwargs)
    doc: dict[str, Any] = json.loads(json.dumps(report.to_dict()))
    return doc


def _cli(args: list[str], fmt: str = "json") -> str:
    result = run_eval(*_cli_args(args), "--format", fmt)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


@pytest.mark.parametrize(("args", "kwargs"), PARITY_CASES, ids=CASE_IDS)
def test_cli_json_equals_library_report(args: list[str], kwargs: dict[str, Any]) -> None:
    cli = json.loads(_cli(args))
    assert cli == _library(args, kwargs)


@pytest.mark.parametrize(("args", "kwargs"), PARITY_CASES, ids=CASE_IDS)
def test_json_has_the_spec_keys_with_valid_values(args: list[str], kwargs: dict[str, Any]) -> None:
    doc = json.loads(_cli(args))
    for key, allowed in REQUIRED.items():
        assert doc[key] in allowed, (key, doc[key])
    task = doc["task"]
    assert doc["activation"] == ACTIVATION.get(task, "identity")
    assert (doc["prediction_kind"] == "values") == (task == "regression")
    assert isinstance(doc["loss"], str)
    assert doc["loss"]
    assert isinstance(doc["n_samples"], int)
    assert doc["n_samples"] > 0
    assert isinstance(doc["mean_loss"], float)
    assert doc["mean_loss"] >= 0
    # detection: what was decided and why, in words
    detection = doc["detection"]
    assert detection
    words = json.dumps(detection)
    assert task in words
    assert doc["prediction_kind"] in words


def test_json_is_one_document_on_stdout() -> None:
    out = _cli(["binary_probs.csv", "binary_labels.csv"])
    decoder = json.JSONDecoder()
    _, end = decoder.raw_decode(out)
    assert out[end:].strip() == ""
    assert "NaN" not in out
    assert "Infinity" not in out


@pytest.mark.parametrize(("args", "kwargs"), PARITY_CASES, ids=CASE_IDS)
def test_format_value_is_exactly_the_repr_of_the_mean(
    args: list[str], kwargs: dict[str, Any]
) -> None:
    report = lossctl.evaluate(*_files(args), **kwargs)
    assert _cli(args, "value") == repr(report.mean_loss) + "\n"
    assert float(_cli(args, "value")) == report.mean_loss  # every digit: exact round trip
