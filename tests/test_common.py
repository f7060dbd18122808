"""Checks every loss of the registry gets for free (scikit-learn's ``test_common`` idea).

``CASES`` (tests/common_cases.py) lists data generators for each loss of
``lossctl.core.losses.LOSSES`` x prediction kind, and ``ORACLES``
(tests/loss_oracles.py) an independent computation of each loss (scikit-learn's,
or NumPy's closed form); every test in this module runs on every case. A loss
added to the registry without cases and an oracle fails
``test_cases_cover_the_registry``, and is then tested without a new test file.

The checks: the per-sample losses and the mean equal the oracle's; the null
model is the oracle's loss of the best constant prediction; row order does not
matter; weights of 1 are no weights; the logits path equals the probability
path inside (eps, 1 - eps); chunked equals whole; the task and prediction kind
are detected without hints; weights are scale-invariant and give
``np.average``'s weighted mean; the command line's JSON is the library's report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit
from scipy.special import softmax as scipy_softmax

import lossctl
from lossctl.core.losses import LOSSES
from tests import classification_oracles as co
from tests.cli.helpers import eval_json
from tests.common_cases import CASES, SAME, SEEDS, Case, K, N
from tests.loss_oracles import ORACLES, _classes, _is_soft

cases = pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
seeds = pytest.mark.parametrize("seed", SEEDS)


def _frame(values: np.ndarray, name: str) -> pd.DataFrame:
    if values.ndim == 1:
        return pd.DataFrame({name: values})
    return pd.DataFrame({str(j): values[:, j] for j in range(values.shape[1])})


def _run(
    case: Case,
    pred: np.ndarray,
    target: np.ndarray,
    weights: np.ndarray | None = None,
    **options: Any,
) -> lossctl.Report:
    """Evaluate one case's data; weights go in as a column ``w`` of a targets DataFrame."""
    options = {**case.options, **options}
    if weights is None:
        return lossctl.evaluate(pred, target, **options)
    targets = _frame(target, "targets")
    targets["w"] = weights
    return lossctl.evaluate(pred, targets, weight_col="w", **options)


def _losses(report: lossctl.Report) -> np.ndarray:
    assert report.losses is not None
    assert report.losses.shape == (report.n_samples,)
    return report.losses


def _weights(rng: np.random.Generator) -> np.ndarray:
    w = rng.uniform(0.0, 4.0, N)
    w[::9] = 0.0
    return w


def test_cases_cover_the_registry() -> None:
    assert {c.loss for c in CASES} == set(LOSSES) == set(ORACLES)
    for name, spec in LOSSES.items():
        kinds = {c.kind for c in CASES if c.loss == name}
        assert kinds == ({"values"} if spec.task == "regression" else {"probabilities", "logits"})
    assert {c.options.get("label_reduction") for c in CASES if c.task == "multilabel"} == {
        "sum",
        "mean",
    }


# (e) detection without hints ------------------------------------------------------------


@seeds
@cases
def test_task_and_kind_are_detected_without_hints(case: Case, seed: int) -> None:
    pred, target = case.make(np.random.default_rng(seed))
    report = _run(case, pred, target)
    assert (report.task, report.prediction_kind) == (case.task, case.kind)
    assert report.activation == LOSSES[case.loss].activation
    assert report.loss == LOSSES[case.loss].label == report.to_dict()["loss"]
    assert report.n_samples == N
    assert report.exit_code == 0
    doc = report.to_dict()
    assert (doc["task"], doc["prediction_kind"], doc["activation"]) == (
        case.task,
        case.kind,
        LOSSES[case.loss].activation,
    )
    assert doc["detection"]["reasons"]


# (a) row order --------------------------------------------------------------------------


@seeds
@cases
def test_row_order_does_not_matter(case: Case, seed: int) -> None:
    rng = np.random.default_rng(seed)
    pred, target = case.make(rng)
    w = _weights(rng)
    perm = rng.permutation(N)

    for weights in (None, w):
        base = _run(case, pred, target, weights)
        shuffled = _run(case, pred[perm], target[perm], None if weights is None else weights[perm])

        np.testing.assert_allclose(_losses(shuffled), _losses(base)[perm], rtol=SAME, atol=0)
        assert shuffled.mean_loss == pytest.approx(base.mean_loss, rel=SAME)
        assert (shuffled.task, shuffled.prediction_kind) == (base.task, base.prediction_kind)
        assert shuffled.summary.histogram_counts == base.summary.histogram_counts
        assert shuffled.n_clipped == base.n_clipped
        for a, b in zip(shuffled.summary.groups, base.summary.groups, strict=True):
            assert (a.name, a.n_samples) == (b.name, b.n_samples)
            assert a.mean_loss == pytest.approx(b.mean_loss, rel=SAME)


# (b) unit weights -----------------------------------------------------------------------


@seeds
@cases
def test_unit_weights_are_no_weights(case: Case, seed: int) -> None:
    pred, target = case.make(np.random.default_rng(seed))
    plain = _run(case, pred, target)
    ones = _run(case, pred, target, np.ones(N))

    assert ones.weighted and not plain.weighted
    np.testing.assert_allclose(_losses(ones), _losses(plain), rtol=SAME, atol=0)
    assert ones.mean_loss == pytest.approx(plain.mean_loss, rel=SAME)
    assert ones.summary.unweighted_mean_loss == pytest.approx(ones.mean_loss, rel=SAME)
    assert (ones.task, ones.prediction_kind) == (plain.task, plain.prediction_kind)
    for a, b in zip(ones.summary.groups, plain.summary.groups, strict=True):
        assert a.mean_loss == pytest.approx(b.mean_loss, rel=SAME)


# weights: scale invariance and np.average -----------------------------------------------


@seeds
@cases
def test_weighted_mean_is_numpys_weighted_average(case: Case, seed: int) -> None:
    rng = np.random.default_rng(seed)
    pred, target = case.make(rng)
    w = _weights(rng)

    plain = _run(case, pred, target)
    weighted = _run(case, pred, target, w)
    tripled = _run(case, pred, target, 3.0 * w)

    losses = _losses(plain)
    np.testing.assert_allclose(_losses(weighted), losses, rtol=SAME, atol=0)
    assert weighted.mean_loss == pytest.approx(np.average(losses, weights=w), rel=SAME)
    assert tripled.mean_loss == pytest.approx(weighted.mean_loss, rel=SAME)
    assert weighted.summary.unweighted_mean_loss == pytest.approx(np.mean(losses), rel=SAME)
    assert weighted.summary.sum_weights == pytest.approx(np.sum(w), rel=SAME)
    assert plain.mean_loss == pytest.approx(np.mean(losses), rel=SAME)
    # weights change the mean (the test would not notice weights being ignored otherwise)
    assert weighted.mean_loss != pytest.approx(plain.mean_loss, rel=1e-6)


# (c) logits path == probability path ----------------------------------------------------

classification = pytest.mark.parametrize(
    "case", [c for c in CASES if c.link], ids=[c.id for c in CASES if c.link]
)


def _both_forms(case: Case, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(logits, probabilities) for the same predictions, via SciPy."""
    if case.kind == "logits":
        probs = expit(pred) if case.link == "sigmoid" else scipy_softmax(pred, axis=1)
        return pred, probs
    logits = logit(pred) if case.link == "sigmoid" else np.log(pred)
    return logits, pred


@seeds
@classification
def test_logits_path_equals_probability_path(case: Case, seed: int) -> None:
    pred, target = case.make(np.random.default_rng(seed))
    logits, probs = _both_forms(case, pred)
    eps = float(np.finfo(np.float64).eps)
    assert np.all((probs > eps) & (probs < 1.0 - eps))  # inside the clip: no clipping either way

    from_logits = _run(case, logits, target, from_logits=True)
    from_probs = _run(case, probs, target, from_logits=False)

    assert (from_logits.prediction_kind, from_probs.prediction_kind) == (
        "logits",
        "probabilities",
    )
    assert from_logits.task == from_probs.task == case.task
    np.testing.assert_allclose(_losses(from_logits), _losses(from_probs), rtol=1e-9, atol=0)
    assert from_logits.mean_loss == pytest.approx(from_probs.mean_loss, rel=1e-9)
    assert from_logits.n_clipped == from_probs.n_clipped == 0


# (d) chunked == whole -------------------------------------------------------------------


def _assert_same_summary(chunked: lossctl.Report, whole: lossctl.Report) -> None:
    a, b = chunked.summary, whole.summary
    np.testing.assert_allclose(_losses(chunked), _losses(whole), rtol=SAME, atol=0)
    assert a.n_samples == b.n_samples
    assert a.mean_loss == pytest.approx(b.mean_loss, rel=SAME)
    assert a.unweighted_mean_loss == pytest.approx(b.unweighted_mean_loss, rel=SAME)
    assert a.sum_weights == pytest.approx(b.sum_weights, rel=SAME)
    assert (a.min_loss, a.max_loss) == (b.min_loss, b.max_loss)
    assert a.n_clipped == b.n_clipped
    assert a.histogram_edges == b.histogram_edges
    assert a.histogram_counts == b.histogram_counts
    assert [i for i, _ in a.worst] == [i for i, _ in b.worst]
    np.testing.assert_allclose([v for _, v in a.worst], [v for _, v in b.worst], rtol=SAME)
    assert [r.row for r in chunked.worst] == [r.row for r in whole.worst]
    assert len(a.groups) == len(b.groups)
    for ga, gb in zip(a.groups, b.groups, strict=True):
        assert (ga.name, ga.n_samples) == (gb.name, gb.n_samples)
        assert ga.sum_weights == pytest.approx(gb.sum_weights, rel=SAME)
        assert ga.mean_loss == pytest.approx(gb.mean_loss, rel=SAME)
    assert (chunked.task, chunked.prediction_kind) == (whole.task, whole.prediction_kind)
    assert chunked.reasons == whole.reasons


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("chunk_rows", [1, 7])
@seeds
@cases
def test_chunked_equals_whole(case: Case, seed: int, chunk_rows: int, weighted: bool) -> None:
    rng = np.random.default_rng(seed)
    pred, target = case.make(rng)
    w = _weights(rng) if weighted else None

    whole = _run(case, pred, target, w)
    chunked = _run(case, pred, target, w, chunk_rows=chunk_rows)

    _assert_same_summary(chunked, whole)


@seeds
@cases
def test_summary_agrees_with_the_per_sample_losses(case: Case, seed: int) -> None:
    """Worst rows, extremes and histogram follow from ``losses`` (checked with NumPy)."""
    pred, target = case.make(np.random.default_rng(seed))
    report = _run(case, pred, target, chunk_rows=7, worst=4)
    losses = _losses(report)
    s = report.summary

    expected_worst = np.argsort(-losses, kind="stable")[:4]
    assert [i for i, _ in s.worst] == expected_worst.tolist()
    assert [v for _, v in s.worst] == losses[expected_worst].tolist()
    assert (s.min_loss, s.max_loss) == (losses.min(), losses.max())
    assert sum(s.histogram_counts) == N
    edges = np.asarray(s.histogram_edges)
    expected_counts, _ = np.histogram(losses, bins=edges)
    assert list(s.histogram_counts) == expected_counts.tolist()
    if case.task == "multiclass":
        y = target if target.ndim == 1 else np.argmax(target, axis=1)
        for k, group in enumerate(s.groups):
            assert group.n_samples == int(np.count_nonzero(y == k))
            assert group.mean_loss == pytest.approx(np.mean(losses[y == k]), rel=SAME)


def test_worst_rows_keep_the_earliest_of_ties_in_every_chunking() -> None:
    """Many equal losses: the worst rows are the earliest ones, however the input is chunked."""
    p = np.array([0.5, 0.0, 0.9, 0.0, 0.0, 0.3, 0.0, 0.0, 0.0, 0.5, 0.0])
    y = np.ones(p.size, dtype=np.int64)
    y[0] = 0
    expected = [1, 3, 4, 6, 7]  # the first five rows whose loss is -log(eps)
    for chunk_rows in (1, 2, 3, 4, 7, 65536):
        report = lossctl.evaluate(p, y, chunk_rows=chunk_rows)
        assert [i for i, _ in report.summary.worst] == expected, chunk_rows
        assert [r.row for r in report.worst] == [i + 1 for i in expected]


# oracles: every loss against an independent computation --------------------------------


@seeds
@cases
def test_losses_and_mean_equal_the_oracle(case: Case, seed: int) -> None:
    rng = np.random.default_rng(seed)
    pred, target = case.make(rng)
    w = _weights(rng)
    expected = ORACLES[case.loss](case, pred, target)
    report = _run(case, pred, target)
    np.testing.assert_allclose(_losses(report), expected, rtol=1e-9, atol=1e-12)
    assert report.mean_loss == pytest.approx(np.mean(expected), rel=1e-9)
    weighted = _run(case, pred, target, w)
    assert weighted.mean_loss == pytest.approx(np.average(expected, weights=w), rel=1e-9)


def _constant(case: Case, target: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The best constant prediction, in the form of the case's predictions: the rates,
    ``(1 - s) rates + s / K`` with label smoothing, ``W pi / (W pi + 1 - pi)`` with
    ``pos_weight``, the score -1 or +1 of the hinge loss, the mean."""
    if case.task == "multiclass":
        if _is_soft(target):
            rate = np.average(target, axis=0, weights=w)
        else:
            rate = np.array([np.sum(w[_classes(target) == k]) for k in range(K)]) / np.sum(w)
        s = case.options.get("label_smoothing", 0.0)
        return np.tile((1.0 - s) * rate + s / K, (N, 1))
    mean = np.average(target.reshape(N, -1), axis=0, weights=w)
    if "pos_weight" in case.options:
        pw = co.per_column(case.options["pos_weight"], mean.size)
        mean = pw * mean / (pw * mean + 1.0 - mean)
    if case.loss == "hinge":
        mean = np.where(mean > 0.5, 1.0, -1.0)
    return np.tile(mean, (N, 1)).reshape(target.shape).astype(np.float64)


@seeds
@cases
def test_the_null_model_is_the_oracle_loss_of_the_best_constant(case: Case, seed: int) -> None:
    rng = np.random.default_rng(seed)
    pred, target = case.make(rng)
    w = _weights(rng)
    for weights in (None, w):
        report = _run(case, pred, target, weights)
        if not case.has_null:
            assert np.isnan(report.null_loss) and np.isnan(report.d2)
            assert report.to_dict()["null_reason"] and report.to_dict()["d2"] is None
            continue
        assert report.to_dict()["null_reason"] is None
        unit = np.ones(N) if weights is None else weights
        constant = _constant(case, target, unit)
        as_probs = Case(case.id, case.task, "values", case.make, case.options)
        expected = np.average(ORACLES[case.loss](as_probs, constant, target), weights=unit)
        assert report.null_loss == pytest.approx(expected, rel=1e-9)


@seeds
@cases
def test_the_command_line_reports_what_the_library_does(
    case: Case, seed: int, tmp_path: Path
) -> None:
    pred, target = case.make(np.random.default_rng(seed))
    preds, targets = _frame(pred, "p"), _frame(target, "y")
    preds.to_csv(tmp_path / "p.csv", index=False)
    targets.to_csv(tmp_path / "t.csv", index=False)
    args = [str(tmp_path / "p.csv"), str(tmp_path / "t.csv")]
    for option, value in case.options.items():
        args += [f"--{option.replace('_', '-')}", str(value)]
    doc = eval_json(*args)
    library = lossctl.evaluate(*args[:2], **case.options).to_dict()
    assert doc == library
    assert doc["loss"] == LOSSES[case.loss].label
    expected = {
        k: v for k, v in case.options.items() if k not in ("loss", "label_reduction", "task")
    }
    for name in ("pos_weight", "alpha"):
        if isinstance(expected.get(name), str):
            values = [float(v.split("=")[-1]) for v in expected[name].split(",")]
            expected[name] = values[0] if len(values) == 1 else values
    assert doc["loss_params"] == expected
    assert doc["mean_loss"] == pytest.approx(np.mean(ORACLES[case.loss](case, pred, target)))
