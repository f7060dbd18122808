"""The metrics beside the loss (issue 14) against scikit-learn, with and without weights.

Every metric is computed by :func:`lossctl.evaluate` over inputs cut into chunks of
a few hundred rows (so the merge is used), and compared with scikit-learn on the
whole arrays. ROC AUC and PR AUC come from a histogram sketch: within 1e-4 of
scikit-learn, also on skewed data (0.1 % positives, 1M rows), and within the bound
that the report states. The calibration error is tested against torchmetrics' own
numbers in ``tests/test_reference_calibration.py``; here, on larger inputs cut into
chunks, against its algorithm written out (``_binning_bucketize`` and ``_ce_compute`` of
``torchmetrics.functional.classification.calibration_error``, with the edges ``i / bins``
that the README documents).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

import lossctl
from lossctl.core.auc import AucSketch
from lossctl.core.calibration import ReliabilityBins

N = 3000
CHUNK = 512


def _weights(weighted: bool, rng: np.random.Generator, n: int = N) -> np.ndarray | None:
    return np.where(rng.random(n) < 0.2, 0.0, rng.uniform(0.1, 3.0, n)) if weighted else None


def _evaluate(pred: np.ndarray, y: np.ndarray, w: np.ndarray | None, **options: object):  # type: ignore[no-untyped-def]
    import pandas as pd

    preds = pd.DataFrame(pred.reshape(len(pred), -1))
    preds.columns = [f"c{j}" for j in range(preds.shape[1])]
    targets = pd.DataFrame(np.asarray(y).reshape(len(y), -1))
    targets.columns = [f"t{j}" for j in range(targets.shape[1])]
    if w is not None:
        targets["w"] = w
        options["weight_col"] = "w"
    return lossctl.evaluate(preds, targets, chunk_rows=CHUNK, **options)


def torchmetrics_ece(conf: np.ndarray, hit: np.ndarray, bins: int) -> float:
    """torchmetrics' ``_binning_bucketize`` + L1 ``_ce_compute``, in float64."""
    edges = np.arange(bins + 1) / bins
    index = np.searchsorted(edges, conf, side="right") - 1  # torch.bucketize(right=True) - 1
    count = np.bincount(index, minlength=bins)
    acc = np.bincount(index, weights=hit, minlength=bins)
    cnf = np.bincount(index, weights=conf, minlength=bins)
    with np.errstate(invalid="ignore"):
        acc_bin, conf_bin = np.nan_to_num(acc / count), np.nan_to_num(cnf / count)
    prop = count / count.sum()
    return float(np.sum(np.abs(acc_bin - conf_bin) * prop))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("logits", [False, True])
def test_binary_metrics_are_scikit_learns(weighted: bool, logits: bool) -> None:
    rng = np.random.default_rng(1 + weighted + 2 * logits)
    y = rng.integers(0, 2, N)
    z = rng.normal(0, 1.5, N) + 1.2 * y
    p = 1 / (1 + np.exp(-z))
    w = _weights(weighted, rng)
    report = _evaluate(z if logits else p, y, w, from_logits=logits, threshold=0.4)
    m = report.metrics
    assert m is not None
    pred = (p > 0.4).astype(int)
    v = m.values
    assert v["accuracy"] == pytest.approx(skm.accuracy_score(y, pred, sample_weight=w), abs=1e-12)
    prf = skm.precision_recall_fscore_support(y, pred, sample_weight=w, average="binary")
    assert [v["precision"], v["recall"], v["f1"]] == pytest.approx(list(prf[:3]), abs=1e-12)
    assert v["brier"] == pytest.approx(skm.brier_score_loss(y, p, sample_weight=w), abs=1e-12)
    assert v["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p, sample_weight=w), abs=1e-4)
    ap = skm.average_precision_score(y, p, sample_weight=w)
    assert v["pr_auc"] == pytest.approx(ap, abs=1e-4)
    cm = skm.confusion_matrix(y, pred, sample_weight=w)
    assert np.allclose(m.confusion["matrix"], cm, rtol=1e-12)  # type: ignore[index]
    if not weighted:
        hit = y.astype(float)
        assert v["ece"] == pytest.approx(torchmetrics_ece(p, hit, 15), abs=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
def test_multiclass_metrics_are_scikit_learns(weighted: bool) -> None:
    rng = np.random.default_rng(7 + weighted)
    k = 8
    y = rng.integers(0, k, N)
    y[y == 3] = 2  # class 3 has no samples: null for its own metrics
    logits = rng.normal(0, 1, (N, k)) + 1.5 * np.eye(k)[y]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    w = _weights(weighted, rng)
    m = _evaluate(p, y, w).metrics
    assert m is not None
    v = m.values
    pred = p.argmax(axis=1)
    assert v["accuracy"] == pytest.approx(skm.accuracy_score(y, pred, sample_weight=w), abs=1e-12)
    top5 = skm.top_k_accuracy_score(y, p, k=5, labels=range(k), sample_weight=w)
    assert v["top_k_accuracy"] == pytest.approx(top5, abs=1e-12)
    with pytest.warns(UserWarning, match="not in y_true"):  # class 3, left out as here
        bal = skm.balanced_accuracy_score(y, pred, sample_weight=w)
    assert v["balanced_accuracy"] == pytest.approx(bal, abs=1e-12)
    f1 = skm.f1_score(y, pred, average="macro", sample_weight=w, zero_division=0)
    assert v["f1"] == pytest.approx(f1, abs=1e-12)
    present = [j for j in range(k) if j != 3]
    ovr = [skm.roc_auc_score(y == j, p[:, j], sample_weight=w) for j in present]
    assert v["roc_auc"] == pytest.approx(float(np.mean(ovr)), abs=1e-4)
    brier = np.average(np.sum((p - np.eye(k)[y]) ** 2, axis=1), weights=w)
    assert v["brier"] == pytest.approx(brier, abs=1e-12)
    cm = skm.confusion_matrix(y, pred, labels=range(k), sample_weight=w)
    assert np.allclose(m.confusion["matrix"], cm, rtol=1e-12)  # type: ignore[index]
    assert m.per_class["c3"]["recall"] is None and m.per_class["c3"]["roc_auc"] is None
    assert m.per_class["c3"]["support"] == 0
    if not weighted:
        conf, hit = p.max(axis=1), (pred == y).astype(float)
        assert v["ece"] == pytest.approx(torchmetrics_ece(conf, hit, 15), abs=1e-12)


def test_multiclass_logits_give_the_metrics_of_their_softmax() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, 500)
    z = rng.normal(0, 2, (500, 4))
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    a = _evaluate(z, y, None, from_logits=True).metrics
    b = _evaluate(p, y, None).metrics
    assert a is not None and b is not None
    for name, value in b.values.items():
        assert a.values[name] == pytest.approx(value, abs=1e-9), name


@pytest.mark.parametrize("weighted", [False, True])
def test_multilabel_metrics_are_scikit_learns(weighted: bool) -> None:
    rng = np.random.default_rng(11 + weighted)
    y = rng.integers(0, 2, (N, 3))
    p = np.clip(0.3 * y + 0.7 * rng.random((N, 3)), 0, 1)
    w = _weights(weighted, rng)
    m = _evaluate(p, y, w, task="multilabel").metrics
    assert m is not None
    v = m.values
    pred = (p > 0.5).astype(int)
    subset = skm.accuracy_score(y, pred, sample_weight=w)
    assert v["subset_accuracy"] == pytest.approx(subset, abs=1e-12)
    assert v["hamming_loss"] == pytest.approx(skm.hamming_loss(y, pred, sample_weight=w), abs=1e-12)
    roc = skm.roc_auc_score(y, p, sample_weight=w, average=None)
    assert v["roc_auc"] == pytest.approx(float(np.mean(roc)), abs=1e-4)
    for j, name in enumerate(("c0", "c1", "c2")):
        label = m.per_label[name]
        assert label["roc_auc"] == pytest.approx(roc[j], abs=1e-4)
        brier = skm.brier_score_loss(y[:, j], p[:, j], sample_weight=w)
        assert label["brier"] == pytest.approx(brier, abs=1e-12)
        if not weighted:
            ece = torchmetrics_ece(p[:, j], y[:, j].astype(float), 15)
            assert label["ece"] == pytest.approx(ece, abs=1e-12)
        assert len(label["reliability"]) == 15


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("outputs", [1, 2])
def test_regression_metrics_are_scikit_learns(weighted: bool, outputs: int) -> None:
    rng = np.random.default_rng(5 + weighted)
    y = rng.normal(1e3, 2.0, (N, outputs))  # a mean far from 0: R^2 needs care
    pred = y + rng.normal(0, 1, (N, outputs))
    w = _weights(weighted, rng)
    m = _evaluate(pred, y, w).metrics
    assert m is not None
    v = m.values
    yy, pp = y.squeeze(), pred.squeeze()
    assert v["mae"] == pytest.approx(skm.mean_absolute_error(yy, pp, sample_weight=w), rel=1e-10)
    rmse = skm.root_mean_squared_error(yy, pp, sample_weight=w)
    assert v["rmse"] == pytest.approx(rmse, rel=1e-10)
    assert v["r2"] == pytest.approx(skm.r2_score(yy, pp, sample_weight=w), abs=1e-10)
    top = max(skm.max_error(y[:, j], pred[:, j]) for j in range(outputs))
    assert v["max_error"] == top


def test_auc_sketch_on_skewed_data_is_within_its_bound_and_1e_4() -> None:
    """1M rows, 0.1 % positives: the case where an equal-width 10^4-bin sketch was
    1.3e-3 off."""
    rng = np.random.default_rng(0)
    n = 1_000_000
    for separation in (2.0, 4.0):
        y = rng.random(n) < 0.001
        p = 1 / (1 + np.exp(-(rng.normal(0, 1.5, n) + separation * y)))
        sketch = AucSketch(1)
        for part in np.array_split(np.arange(n), 7):
            piece = AucSketch(1)
            piece.add_column(0, p[part], None, y[part])
            sketch.merge(piece)
        (roc,), (ap,), roc_bound, ap_bound = sketch.result()
        assert roc is not None and ap is not None
        exact_roc, exact_ap = skm.roc_auc_score(y, p), skm.average_precision_score(y, p)
        assert abs(roc - exact_roc) <= min(roc_bound, 1e-4)
        assert abs(ap - exact_ap) <= min(ap_bound, 1e-4)


def test_ties_and_few_values_give_the_exact_auc() -> None:
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 1000)
    p = rng.choice([0.1, 0.4, 0.6, 0.9], 1000)
    sketch = AucSketch(1)
    sketch.add_column(0, p, None, y > 0)
    (roc,), (ap,), _, _ = sketch.result()
    assert roc == pytest.approx(skm.roc_auc_score(y, p), abs=1e-12)
    assert ap == pytest.approx(skm.average_precision_score(y, p), abs=1e-12)


def test_a_confidence_of_one_falls_in_the_last_bin() -> None:
    """torchmetrics puts it in a bin of its own; lossctl in the last (documented)."""
    bins = ReliabilityBins(10)
    bins.update(np.array([[1.0], [0.95], [0.05]]), np.array([[1.0], [0.0], [0.0]]), None)
    table = bins.table()
    assert [row["count"] for row in table] == [1, 0, 0, 0, 0, 0, 0, 0, 0, 2]
    assert table[-1]["confidence"] == pytest.approx(0.975)
    assert table[-1]["frequency"] == 0.5
    assert table[1]["confidence"] is None and table[1]["frequency"] is None
    assert bins.ece() == pytest.approx((0.05 + 2 * 0.475) / 3)


def test_no_metrics_leaves_them_out() -> None:
    report = lossctl.evaluate(np.array([0.9, 0.2]), np.array([1, 0]), metrics=False)
    assert report.metrics is None
    assert "metrics" not in report.to_dict() and "reliability" not in report.to_dict()


def test_many_classes_go_matrix_wide_with_the_same_values() -> None:
    """Above 64 classes the work is matrix-wide, not column by column; above 100 the
    confusion matrix is sparse."""
    rng = np.random.default_rng(4)
    k, n = 120, 2000
    y = rng.integers(0, k, n)
    logits = rng.normal(0, 1, (n, k)) + 2.0 * np.eye(k)[y]
    logits[:, 7] = logits[:, 8]  # ties: scikit-learn puts the later class first
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    w = _weights(True, rng, n)
    m = _evaluate(p, y, w, top_k=10).metrics
    assert m is not None
    pred = p.argmax(axis=1)
    assert m.values["accuracy"] == pytest.approx(skm.accuracy_score(y, pred, sample_weight=w))
    top = skm.top_k_accuracy_score(y, p, k=10, labels=range(k), sample_weight=w)
    assert m.values["top_k_accuracy"] == pytest.approx(top, abs=1e-12)
    brier = np.average(np.sum((p - np.eye(k)[y]) ** 2, axis=1), weights=w)
    assert m.values["brier"] == pytest.approx(brier, abs=1e-12)
    present = np.unique(y)
    ovr = [skm.roc_auc_score(y == j, p[:, j], sample_weight=w) for j in present]
    assert m.values["roc_auc"] == pytest.approx(
        float(np.mean(ovr)), abs=m.auc["roc_auc_error_bound"]
    )  # type: ignore[index]
    cm = skm.confusion_matrix(y, pred, labels=range(k), sample_weight=w)
    assert m.confusion is not None and "matrix" not in m.confusion
    dense = np.zeros((k, k))
    for i, j, v in m.confusion["entries"]:
        dense[i, j] = v
    assert np.allclose(dense, cm, rtol=1e-12)
