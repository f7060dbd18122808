"""The baseline's metrics (``baseline.metrics`` in JSON, ``report.baseline.metrics``): the
metrics of evaluating the baseline file alone, by the same code, whichever way the
baseline is read (beside the predictions row for row, or in a pass of its own), with the
predictions' weights from either file, and over the rows compared when --drop-missing
drops rows; scikit-learn is the oracle of one binary and one multiclass case.

The invariant compares the baseline's part of the comparison's report with the report
of the baseline file evaluated alone, key by key (floats within 1e-12 relative: the rows
are summed in other chunks).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

import lossctl
from lossctl.report import charts
from tests.cli.helpers import eval_json, run_eval
from tests.dask.data import assert_same

N = 600
LABELS = ["l0", "l1", "l2"]
CLASSES = ["a", "b", "c"]


def _model(task: str, rng: np.random.Generator, n: int = N) -> pd.DataFrame:
    """One model's predictions of ``n`` rows (probabilities; logits for multiclass)."""
    if task == "binary":
        return pd.DataFrame({"p": rng.uniform(0, 1, n)})
    if task == "multiclass":
        return pd.DataFrame(rng.normal(0, 1.5, (n, 3)), columns=CLASSES)
    if task == "multilabel":
        return pd.DataFrame(rng.uniform(0, 1, (n, 3)), columns=LABELS)
    return pd.DataFrame({"v": rng.normal(size=n)})


def _targets(task: str, rng: np.random.Generator, n: int = N) -> pd.DataFrame:
    if task == "binary":
        return pd.DataFrame({"y": rng.integers(0, 2, n)})
    if task == "multiclass":
        return pd.DataFrame({"y": rng.choice(CLASSES, n)})
    if task == "multilabel":
        return pd.DataFrame(rng.integers(0, 2, (n, 3)), columns=LABELS)
    return pd.DataFrame({"t": rng.normal(size=n)})


def _frames(task: str, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The predictions (with weights ``w``), the baseline and the targets, with ids."""
    rng = np.random.default_rng(seed)
    ids = [f"r{i:04d}" for i in range(N)]
    preds = _model(task, rng).assign(w=rng.uniform(0, 2, N))
    base = _model(task, rng)
    targets = _targets(task, rng)
    return (
        preds.assign(id=ids),
        base.assign(id=ids),
        targets.assign(id=ids),
    )


def _metric_keys(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc[k] for k in ("metrics", "confusion_matrix", "reliability") if k in doc}


TASKS = ("binary", "multiclass", "multilabel", "regression")
#: (the baseline's rows: in the predictions' order, read beside them, or shuffled, read
#: in a pass of their own; the file of the weights; rows dropped by --drop-missing)
LAYOUTS = [
    ("same order", "targets", False),
    ("same order", "predictions", False),
    ("shuffled", "predictions", False),
    ("same order", "predictions", True),
    ("same order", "targets", True),
    ("shuffled", "targets", True),
    ("shuffled", "predictions", True),
]


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda v: "-".join(map(str, v)))
@pytest.mark.parametrize("task", TASKS)
def test_the_baselines_metrics_are_those_of_the_baseline_alone(
    tmp_path: Path, task: str, layout: tuple[str, str, bool]
) -> None:
    order, weights_in, dropped = layout
    preds, base, targets = _frames(task, seed=TASKS.index(task))
    first = base.columns[0]
    if dropped:  # a row that only the predictions drop, one that only the baseline drops
        preds.loc[7, preds.columns[0]] = np.nan
        base.loc[11, first] = np.nan
    weights = preds.pop("w")
    if weights_in == "targets":
        targets["w"] = weights
    else:
        preds["w"] = weights
    shuffled = base.sample(frac=1.0, random_state=5) if order == "shuffled" else base
    paths = {}
    for name, frame in (("p", preds), ("b", shuffled), ("t", targets)):
        paths[name] = str(tmp_path / f"{name}.csv")
        frame.to_csv(paths[name], index=False)
    options: dict[str, Any] = {"weight_col": "w", "id_col": "id", "chunk_rows": 128}
    if dropped:
        options["drop_missing"] = True
    report = lossctl.evaluate(paths["p"], paths["t"], baseline=paths["b"], **options)
    doc = report.to_dict()

    # The baseline alone, with the predictions' weights and without the rows the
    # predictions dropped (the comparison's rows).
    alone = base.assign(w=weights.to_numpy())
    if dropped:
        alone = alone.drop(index=7)
    alone_path = str(tmp_path / "alone.csv")
    alone.to_csv(alone_path, index=False)
    t_alone = targets.drop(columns="w", errors="ignore")
    t_alone.loc[alone.index].to_csv(tmp_path / "t_alone.csv", index=False)
    expected = lossctl.evaluate(alone_path, str(tmp_path / "t_alone.csv"), **options).to_dict()

    # the rows compared are those both kept: the baseline's mean loss is over them too
    assert doc["baseline"]["mean_loss"] == pytest.approx(expected["mean_loss"], rel=1e-12)
    found = _metric_keys(doc["baseline"])
    assert set(found) == set(_metric_keys(expected)) and "metrics" in found
    assert_same(found, _metric_keys(expected))
    assert report.baseline is not None and report.baseline.metrics is not None
    values = report.baseline.metrics.values
    assert_same(values, {name: expected["metrics"][name] for name in values})
    # the predictions' own metrics are not the baseline's
    assert doc["metrics"] != doc["baseline"]["metrics"]


def _sklearn_case(tmp_path: Path, task: str) -> tuple[dict[str, Any], pd.DataFrame, Any, Any]:
    """The JSON report of a weighted comparison (baseline shuffled, weights in the
    predictions), the baseline in target order, the targets and the weights."""
    preds, base, targets = _frames(task, seed=42)
    shuffled = base.sample(frac=1.0, random_state=1)
    for name, frame in (("p", preds), ("b", shuffled), ("t", targets)):
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    doc = eval_json(
        str(tmp_path / "p.csv"),
        str(tmp_path / "t.csv"),
        "--baseline", str(tmp_path / "b.csv"),
        "--weight-col", "w",
        "--id", "id",
    )  # fmt: skip
    return doc, base, targets, preds["w"].to_numpy()


def test_binary_baseline_metrics_are_scikit_learns(tmp_path: Path) -> None:
    doc, base, targets, w = _sklearn_case(tmp_path, "binary")
    y, p = targets["y"].to_numpy(), base["p"].to_numpy()
    m = doc["baseline"]["metrics"]
    hard = (p > 0.5).astype(int)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, hard, sample_weight=w), rel=1e-12)
    assert m["precision"] == pytest.approx(skm.precision_score(y, hard, sample_weight=w))
    assert m["recall"] == pytest.approx(skm.recall_score(y, hard, sample_weight=w))
    assert m["f1"] == pytest.approx(skm.f1_score(y, hard, sample_weight=w))
    assert m["brier"] == pytest.approx(skm.brier_score_loss(y, p, sample_weight=w), rel=1e-12)
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p, sample_weight=w), abs=1e-4)
    ap = skm.average_precision_score(y, p, sample_weight=w)
    assert m["pr_auc"] == pytest.approx(ap, abs=1e-4)
    matrix = skm.confusion_matrix(y, hard, sample_weight=w)
    assert np.allclose(doc["baseline"]["confusion_matrix"]["matrix"], matrix, rtol=1e-12)


def test_multiclass_baseline_metrics_are_scikit_learns(tmp_path: Path) -> None:
    doc, base, targets, w = _sklearn_case(tmp_path, "multiclass")
    z = base[CLASSES].to_numpy()
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    y = targets["y"].map({c: i for i, c in enumerate(CLASSES)}).to_numpy()
    m = doc["baseline"]["metrics"]
    hard = np.argmax(p, axis=1)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, hard, sample_weight=w), rel=1e-12)
    balanced = skm.balanced_accuracy_score(y, hard, sample_weight=w)
    assert m["balanced_accuracy"] == pytest.approx(balanced, rel=1e-12)
    f1 = skm.f1_score(y, hard, average="macro", sample_weight=w)
    assert m["f1"] == pytest.approx(f1, rel=1e-12)
    auc = skm.roc_auc_score(y, p, multi_class="ovr", average="macro", sample_weight=w)
    assert m["roc_auc"] == pytest.approx(auc, abs=1e-4)
    per_class = m["per_class"]
    recalls = skm.recall_score(y, hard, average=None, sample_weight=w)
    assert [per_class[c]["recall"] for c in CLASSES] == pytest.approx(recalls, rel=1e-12)


# ----------------------------------------------------------------------- renderers

CLASS_FILES = ["sample_data/multiclass_probs.csv", "sample_data/multiclass_labels.csv"]
BASELINE = ["--baseline", "sample_data/multiclass_baseline.csv"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def _at_the_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.mark.usefixtures("_at_the_root")
def test_the_table_shows_a_column_per_model() -> None:
    doc = eval_json(*CLASS_FILES, *BASELINE)
    base = doc["baseline"]["metrics"]
    shown = run_eval(*CLASS_FILES, *BASELINE, "--head", "0", "--worst", "0").stdout
    header = next(line for line in shown.splitlines() if line.strip().startswith("metric"))
    assert header.split() == ["metric", "predictions", "baseline"]
    row = next(line for line in shown.splitlines() if line.strip().startswith("accuracy"))
    assert row.split()[1:3] == [f"{doc['metrics']['accuracy']:.6g}", f"{base['accuracy']:.6g}"]
    alone = run_eval(*CLASS_FILES, "--head", "0", "--worst", "0").stdout
    assert any(line.split() == ["metric", "value"] for line in alone.splitlines())


@pytest.mark.usefixtures("_at_the_root")
def test_the_markdown_summary_puts_the_metrics_beside_the_baselines(tmp_path: Path) -> None:
    doc = eval_json(*CLASS_FILES, *BASELINE)
    markdown = tmp_path / "summary.md"
    assert run_eval(*CLASS_FILES, *BASELINE, "--markdown", str(markdown)).exit_code == 0
    text = markdown.read_text(encoding="utf-8")
    mine, theirs = doc["metrics"]["accuracy"], doc["baseline"]["metrics"]["accuracy"]
    assert f"| accuracy | {mine:.6g} | {theirs:.6g} | {mine - theirs:+.6g} | |" in text


@pytest.mark.usefixtures("_at_the_root")
def test_the_html_report_holds_both_models_metrics_and_curves(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = run_eval(*CLASS_FILES, *BASELINE, "--report", str(out), "--format", "value")
    assert result.exit_code == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    assert "<th>metric</th><th>predictions</th><th>baseline</th><th>difference</th>" in page
    figures = re.findall(r'<figure class="chart">(.*?)</figure>', page, flags=re.DOTALL)
    reliability = [f for f in figures if "reliability:" in f]
    assert len(reliability) == 1 and charts.BASELINE_COLOR in reliability[0]
    alone = tmp_path / "alone.html"
    assert run_eval(*CLASS_FILES, "--report", str(alone)).exit_code == 0
    assert charts.BASELINE_COLOR not in alone.read_text(encoding="utf-8")
    assert "<th>metric</th><th>value</th>" in alone.read_text(encoding="utf-8")


def test_multilabel_reliability_per_label_draws_the_baselines_curve(tmp_path: Path) -> None:
    preds, base, targets = _frames("multilabel", seed=3)
    for name, frame in (("p", preds), ("b", base), ("t", targets)):
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    report = lossctl.evaluate(
        str(tmp_path / "p.csv"),
        str(tmp_path / "t.csv"),
        baseline=str(tmp_path / "b.csv"),
        weight_col="w",
    )
    report.to_html(tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    per_label = page[page.index("Reliability per label") :]
    assert per_label.count(charts.BASELINE_COLOR) >= len(LABELS)
