"""Gates on the metrics (issue 14): --min-accuracy, --min-auc, --max-ece, --max-brier in the
gates list, the JSON, JUnit and Markdown as the loss gates; bad metric options exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, brier_score_loss, roc_auc_score

from tests.ci.junit import read_junit
from tests.cli.helpers import assert_one_error_line, run_eval

BINARY = ["sample_data/binary_probs.csv", "sample_data/binary_labels.csv"]
CLASSES = ["sample_data/multiclass_probs.csv", "sample_data/multiclass_labels.csv"]
REGRESSION = ["sample_data/regression_preds.csv", "sample_data/regression_targets.csv"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _at_the_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _binary_truth() -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    p = pd.read_csv(ROOT / BINARY[0]).set_index("id").iloc[:, 0]
    y = pd.read_csv(ROOT / BINARY[1]).set_index("id").iloc[:, 0]
    return y.loc[p.index].to_numpy(), p.to_numpy()


def test_metric_gates_pass_and_fail_with_what_they_observed(tmp_path: Path) -> None:
    y, p = _binary_truth()
    acc = accuracy_score(y, p > 0.5)
    auc, brier = roc_auc_score(y, p), brier_score_loss(y, p)
    junit, markdown = tmp_path / "gates.xml", tmp_path / "summary.md"
    result = run_eval(
        *BINARY,
        "--min-accuracy", f"{acc - 0.01}",
        "--min-auc", f"{auc + 0.01}",
        "--max-ece", "0.9",
        "--max-brier", f"{brier - 0.01}",
        "--format", "json",
        "--junit", str(junit),
        "--markdown", str(markdown),
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr
    doc = json.loads(result.stdout)
    gates = {g["name"]: g for g in doc["gates"]}
    assert list(gates) == ["min_accuracy", "min_auc", "max_ece", "max_brier"]
    assert [g["passed"] for g in gates.values()] == [True, False, True, False]
    assert gates["min_accuracy"]["observed"] == pytest.approx(acc, abs=1e-12)
    assert gates["min_auc"]["observed"] == pytest.approx(auc, abs=1e-4)
    assert gates["max_brier"]["observed"] == pytest.approx(brier, abs=1e-12)
    assert gates["max_ece"]["observed"] == doc["metrics"]["ece"]
    lines = result.stderr.splitlines()
    assert lines[0].startswith("lossctl: gate min_auc failed: ROC AUC ")
    assert lines[0].endswith("(--min-auc)")
    assert lines[1].startswith("lossctl: gate max_brier failed: Brier score ")
    suite = read_junit(junit)
    assert [case.name for case in suite] == list(gates)
    assert suite.failures == 2
    text = markdown.read_text(encoding="utf-8")
    assert "| `min_auc` |" in text and "| accuracy |" in text


def test_min_accuracy_gates_the_subset_accuracy_of_multilabel() -> None:
    result = run_eval(
        "sample_data/multilabel_probs.csv",
        "sample_data/multilabel_labels.csv",
        "--min-accuracy", "0.5", "--format", "json",
    )  # fmt: skip
    doc = json.loads(result.stdout)
    assert result.exit_code == 1
    assert doc["gates"][0]["observed"] == doc["metrics"]["subset_accuracy"]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        ([*BINARY, "--threshold", "0"], ["--threshold 0.0 is not in the open interval (0, 1)"]),
        ([*BINARY, "--threshold", "1"], ["--threshold 1.0 is not in the open interval (0, 1)"]),
        ([*CLASSES, "--top-k", "0"], ["--top-k 0 is not a number of classes"]),
        ([*CLASSES, "--top-k", "4"], ["--top-k 4 is more than the 3 classes"]),
        ([*BINARY, "--bins", "0"], ["--bins 0 is not a number of bins"]),
        ([*REGRESSION, "--min-accuracy", "0.5"], ["--min-accuracy gates a metric that regression"]),
        ([*REGRESSION, "--max-ece", "0.5"], ["--max-ece gates a metric that regression"]),
        ([*BINARY, "--no-metrics", "--min-auc", "0.5"], ["--no-metrics turns the metrics off"]),
    ],
)
def test_bad_metric_options_are_one_line_and_exit_2(args: list[str], fragments: list[str]) -> None:
    result = run_eval(*args)
    assert result.exit_code == 2, result.stdout
    assert result.stdout == ""
    assert_one_error_line(result.stderr, *fragments)


def test_top_k_is_given_when_asked_and_when_there_are_more_than_5_classes() -> None:
    result = run_eval(*CLASSES, "--top-k", "2", "--format", "json")
    doc = json.loads(result.stdout)
    assert 0 < doc["metrics"]["top_k_accuracy"] <= 1
    doc = json.loads(run_eval(*CLASSES, "--format", "json").stdout)
    assert "top_k_accuracy" not in doc["metrics"]  # 3 classes, the default k of 5


def test_no_metrics_gives_the_report_of_the_loss_alone() -> None:
    doc = json.loads(run_eval(*CLASSES, "--no-metrics", "--format", "json").stdout)
    assert not {"metrics", "confusion_matrix", "reliability"} & set(doc)
    shown = run_eval(*CLASSES, "--no-metrics").stdout
    assert "Confusion matrix" not in shown and "Reliability" not in shown


def test_output_holds_the_predicted_class_or_labels(tmp_path: Path) -> None:
    import pandas as pd

    out = tmp_path / "scored.csv"
    result = run_eval(*BINARY, "--threshold", "0.7", "--output", str(out), "--format", "value")
    assert result.exit_code == 0, result.stderr
    written = pd.read_csv(out)
    _, p = _binary_truth()
    assert written["predicted"].tolist() == (p > 0.7).astype(int).tolist()
    out = tmp_path / "labels.parquet"
    args = ["sample_data/multilabel_logits.csv", "sample_data/multilabel_labels.csv"]
    assert run_eval(*args, "--output", str(out), "--format", "value").exit_code == 0
    table = pd.read_parquet(out)
    logits = pd.read_csv(args[0]).drop(columns="id")
    assert list(table.columns) == ["id", "loss", *(f"predicted_{c}" for c in logits.columns)]
    expected = (logits.to_numpy() > 0).astype(int)  # p > 0.5 is a logit above 0
    assert (table.iloc[:, 2:].to_numpy() == expected).all()
