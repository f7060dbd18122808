"""Checks every loss of the registry gets for free (scikit-learn's ``test_common`` idea).

``CASES`` lists data generators for each loss of ``lossctl.core.losses.LOSSES``
x prediction kind, and ``ORACLES`` an independent computation of each loss
(scikit-learn's, or NumPy's closed form); every test in this module runs on
every case. A loss added to the registry without cases and an oracle here fails
``test_cases_cover_the_registry``, and is then tested without a new test file.

The checks: the per-sample losses and the mean equal the oracle's; the null
model is the oracle's loss of the best constant prediction; row order does not
matter; weights of 1 are no weights; the logits path equals the probability
path inside (eps, 1 - eps); chunked equals whole; the task and prediction kind
are detected without hints; weights are scale-invariant and give
``np.average``'s weighted mean; the command line's JSON is the library's report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit, rel_entr
from scipy.special import softmax as scipy_softmax
from sklearn.metrics import (
    log_loss,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_pinball_loss,
    mean_squared_error,
    mean_squared_log_error,
    mean_tweedie_deviance,
)

import lossctl
from lossctl.core.losses import LOSSES, loss_for
from tests import classification_oracles as co
from tests.cli.helpers import eval_json

N = 60
K = 3
SEEDS = (0, 1)
SAME = 1e-12  # "equal" for two computations of the same numbers in a different order

Data = tuple[np.ndarray, np.ndarray]


def _binary_probs(rng: np.random.Generator) -> Data:
    return rng.uniform(0.01, 0.99, N), rng.integers(0, 2, N)


def _binary_logits(rng: np.random.Generator) -> Data:
    z = rng.uniform(-5.0, 5.0, N)
    z[0] = -2.5  # at least one value outside [0, 1]
    return z, rng.integers(0, 2, N)


def _multiclass_probs(rng: np.random.Generator) -> np.ndarray:
    return rng.dirichlet(np.full(K, 2.0), N)


def _multiclass_logits(rng: np.random.Generator) -> np.ndarray:
    z = rng.uniform(-5.0, 5.0, (N, K))
    z[0, 0] = 3.0
    return z


def _index(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, K, N)


def _one_hot(rng: np.random.Generator) -> np.ndarray:
    return np.eye(K, dtype=np.int64)[rng.integers(0, K, N)]


def _multi_hot(rng: np.random.Generator) -> np.ndarray:
    y = rng.integers(0, 2, (N, K))
    y[0] = 1  # not one-hot, so never read as classes
    return y


def _regression(outputs: int) -> Callable[[np.random.Generator], Data]:
    def make(rng: np.random.Generator) -> Data:
        shape = (N,) if outputs == 1 else (N, outputs)
        y = rng.normal(0.0, 5.0, shape)
        return y + rng.normal(0.0, 1.0, shape), y

    return make


def _positive(outputs: int, counts: bool = False) -> Callable[[np.random.Generator], Data]:
    """Targets for the deviances: counts with zeros (poisson), or > 0; predictions > 0."""

    def make(rng: np.random.Generator) -> Data:
        shape = (N,) if outputs == 1 else (N, outputs)
        y = rng.poisson(3.0, shape).astype(np.float64) if counts else rng.gamma(2.0, 2.0, shape)
        return (y + 1.0) * np.exp(rng.normal(0.0, 0.3, shape)), y

    return make


def _maker(task: str, kind: str) -> Callable[[np.random.Generator], Data]:
    """The data of a classification case: class indices for multiclass."""
    if task == "binary":
        return _binary_probs if kind == "probabilities" else _binary_logits
    if task == "multiclass":
        pred = _multiclass_probs if kind == "probabilities" else _multiclass_logits
        return lambda rng: (pred(rng), _index(rng))
    if kind == "probabilities":
        return lambda rng: (rng.uniform(0.01, 0.99, (N, K)), _multi_hot(rng))
    return lambda rng: (_multiclass_logits(rng), _multi_hot(rng))


def _soft_targets(kind: str) -> Callable[[np.random.Generator], Data]:
    """Class probabilities as targets (rows of a Dirichlet draw, one exact one-hot row)."""

    def make(rng: np.random.Generator) -> Data:
        pred = _multiclass_probs(rng) if kind == "probabilities" else _multiclass_logits(rng)
        target = rng.dirichlet(np.full(K, 0.7), N)
        target[1] = [0.0, 1.0, 0.0]
        return pred, target

    return make


@dataclass(frozen=True)
class Case:
    """One task x prediction kind: how to make data, and what lossctl should detect."""

    id: str
    task: str
    kind: str
    make: Callable[[np.random.Generator], Data]
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def loss(self) -> str:
        """The registry's name of the loss this case computes."""
        spec = loss_for(self.options.get("loss"), self.task)
        assert spec is not None
        return spec.name

    @property
    def has_null(self) -> bool:
        return LOSSES[self.loss].null is not None

    @property
    def link(self) -> str | None:
        """How probabilities follow from logits for this loss (None: scores or values)."""
        return None if LOSSES[self.loss].activation == "identity" else ACTIVATION[self.task]


CASES = [
    Case("binary-probs", "binary", "probabilities", _binary_probs),
    Case("binary-logits", "binary", "logits", _binary_logits),
    Case(
        "multiclass-probs-index",
        "multiclass",
        "probabilities",
        lambda rng: (_multiclass_probs(rng), _index(rng)),
    ),
    Case(
        "multiclass-probs-onehot",
        "multiclass",
        "probabilities",
        lambda rng: (_multiclass_probs(rng), _one_hot(rng)),
    ),
    Case(
        "multiclass-logits-index",
        "multiclass",
        "logits",
        lambda rng: (_multiclass_logits(rng), _index(rng)),
    ),
    Case(
        "multiclass-logits-onehot",
        "multiclass",
        "logits",
        lambda rng: (_multiclass_logits(rng), _one_hot(rng)),
    ),
    *(
        Case(
            f"multilabel-probs-{reduction}",
            "multilabel",
            "probabilities",
            lambda rng: (rng.uniform(0.01, 0.99, (N, K)), _multi_hot(rng)),
            {"label_reduction": reduction},
        )
        for reduction in ("sum", "mean")
    ),
    *(
        Case(
            f"multilabel-logits-{reduction}",
            "multilabel",
            "logits",
            lambda rng: (_multiclass_logits(rng), _multi_hot(rng)),
            {"label_reduction": reduction},
        )
        for reduction in ("sum", "mean")
    ),
    *(
        Case(f"{name}-{kind}", task, kind, _maker(task, kind), options)
        for kind in ("probabilities", "logits")
        for name, task, options in (
            ("binary-pos-weight", "binary", {"pos_weight": "2.5"}),
            (
                "multilabel-pos-weight",
                "multilabel",
                {"pos_weight": "0.5,2,4", "label_reduction": "sum"},
            ),
            ("focal-binary", "binary", {"loss": "focal", "gamma": 2.0, "alpha": 0.25}),
            (
                "focal-multilabel",
                "multilabel",
                {"loss": "focal", "gamma": 1.5, "label_reduction": "mean"},
            ),
            ("focal-multiclass", "multiclass", {"loss": "focal", "gamma": 2.0}),
            (
                "focal-multiclass-alpha",
                "multiclass",
                {"loss": "focal", "gamma": 0.5, "alpha": "0=0.2,1=0.3,2=0.5"},
            ),
            ("ce-smoothing", "multiclass", {"label_smoothing": 0.1}),
            ("kl", "multiclass", {"loss": "kl"}),
            ("hinge", "binary", {"loss": "hinge"}),
        )
    ),
    *(
        Case(f"{name}-{kind}", "multiclass", kind, _soft_targets(kind), options)
        for kind in ("probabilities", "logits")
        for name, options in (
            ("soft-ce", {"task": "multiclass"}),
            ("soft-ce-smoothing", {"task": "multiclass", "label_smoothing": 0.2}),
            ("soft-kl", {"loss": "kl"}),
        )
    ),
    Case("regression-single", "regression", "values", _regression(1)),
    Case("regression-multi-output", "regression", "values", _regression(3)),
    Case("mae", "regression", "values", _regression(1), {"loss": "mae"}),
    Case("mae-multi-output", "regression", "values", _regression(2), {"loss": "mae"}),
    Case("huber", "regression", "values", _regression(2), {"loss": "huber", "delta": 0.7}),
    Case("smooth_l1", "regression", "values", _regression(1), {"loss": "smooth_l1", "beta": 2.0}),
    Case("log_cosh", "regression", "values", _regression(1), {"loss": "log_cosh"}),
    Case("quantile", "regression", "values", _regression(2), {"loss": "quantile", "quantile": 0.8}),
    Case("msle", "regression", "values", _positive(2, counts=True), {"loss": "msle"}),
    Case("mape", "regression", "values", _regression(1), {"loss": "mape"}),
    Case("poisson", "regression", "values", _positive(1, counts=True), {"loss": "poisson"}),
    Case("gamma", "regression", "values", _positive(1), {"loss": "gamma"}),
    Case("tweedie", "regression", "values", _positive(1), {"loss": "tweedie", "power": 1.5}),
]

ACTIVATION = {
    "binary": "sigmoid",
    "multiclass": "softmax",
    "multilabel": "sigmoid",
    "regression": "identity",
}

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


def _probabilities(case: Case, pred: np.ndarray) -> np.ndarray:
    if case.kind != "logits":
        return pred
    return expit(pred) if case.link == "sigmoid" else scipy_softmax(pred, axis=1)


def _classes(target: np.ndarray) -> np.ndarray:
    return target if target.ndim == 1 else np.argmax(target, axis=1)


def _bce_oracle(case: Case, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    p = _probabilities(case, pred)
    if "pos_weight" in case.options:
        return co.weighted_bce(p, target, case.options)
    return np.array([log_loss([y], [q], labels=[0, 1]) for y, q in zip(target, p, strict=True)])


def _is_soft(target: np.ndarray) -> bool:
    return target.ndim == 2 and not np.all((target == 0) | (target == 1))


def _ce_oracle(case: Case, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    p, y = _probabilities(case, pred), _classes(target)
    if _is_soft(target):
        return co.soft_ce(p, target, case.options)
    if "label_smoothing" in case.options:
        return co.smoothed_ce(p, y, case.options)
    return np.array(
        [log_loss([k], [row], labels=list(range(K))) for k, row in zip(y, p, strict=True)]
    )


def _multilabel_oracle(case: Case, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    p = _probabilities(case, pred)
    if "pos_weight" in case.options:
        return _reduce_labels(case, co.weighted_bce(p, target, case.options))
    per_label = np.array(
        [
            [log_loss([y], [q], labels=[0, 1]) for y, q in zip(ys, ps, strict=True)]
            for ys, ps in zip(target, p, strict=True)
        ]
    )
    return _reduce_labels(case, per_label)


def _reduce_labels(case: Case, per_label: np.ndarray) -> np.ndarray:
    reduce = np.mean if case.options.get("label_reduction") == "mean" else np.sum
    result: np.ndarray = reduce(per_label, axis=1)
    return result


def _focal_oracle(case: Case, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    p = _probabilities(case, pred)
    if case.task == "multiclass":
        return co.softmax_focal(p, _classes(target), case.options)
    per_label = co.sigmoid_focal(p, target, case.options)
    return per_label if case.task == "binary" else _reduce_labels(case, per_label)


def _kl_oracle(case: Case, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    p = _probabilities(case, pred)
    t = target if target.ndim == 2 else np.eye(K)[target]
    result: np.ndarray = np.sum(rel_entr(t, p), axis=1)
    return result


def _hinge_oracle(case: Case, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    return co.hinge(pred, target)


def _squared_oracle(case: Case, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    y, p = target.reshape(N, -1), pred.reshape(N, -1)
    return np.array(
        [mean_squared_error(y[i], p[i]) for i in range(N)]  # one sample's MSE over outputs
    )


def _per_sample(metric: Callable[..., float], **fixed: Any) -> Oracle:
    """A scikit-learn ``mean_*`` metric of one sample at a time (averaged over outputs)."""

    def oracle(case: Case, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        params = {**fixed, **{k: v for k, v in case.options.items() if k in ("power",)}}
        if "quantile" in case.options:
            params["alpha"] = case.options["quantile"]
        y, p = target.reshape(N, -1), pred.reshape(N, -1)
        if metric is mean_tweedie_deviance:  # single output only
            return np.array([metric(y[i], p[i], **params) for i in range(N)])
        return np.array([metric(y[i : i + 1], p[i : i + 1], **params) for i in range(N)])

    return oracle


def _closed_form(fn: Callable[[np.ndarray, dict[str, Any]], np.ndarray]) -> Oracle:
    """PyTorch's definitions (``HuberLoss``, ``SmoothL1Loss``), written out with NumPy."""

    def oracle(case: Case, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        r = np.abs(target.reshape(N, -1) - pred.reshape(N, -1))
        result: np.ndarray = np.mean(fn(r, case.options), axis=1)
        return result

    return oracle


def _huber(r: np.ndarray, o: dict[str, Any]) -> np.ndarray:
    d = o["delta"]
    return np.where(r <= d, 0.5 * r**2, d * (r - 0.5 * d))


def _smooth_l1(r: np.ndarray, o: dict[str, Any]) -> np.ndarray:
    b = o["beta"]
    return np.where(r < b, 0.5 * r**2 / b, r - 0.5 * b)


def _log_cosh(r: np.ndarray, o: dict[str, Any]) -> np.ndarray:
    return np.log(np.cosh(r))


Oracle = Callable[[Case, np.ndarray, np.ndarray], np.ndarray]

#: Per-sample losses by scikit-learn (``log_loss`` of one sample, its ``mean_*`` metrics),
#: or PyTorch's definitions in NumPy.
ORACLES: dict[str, Oracle] = {
    "binary_cross_entropy": _bce_oracle,
    "categorical_cross_entropy": _ce_oracle,
    "multilabel_log_loss": _multilabel_oracle,
    "squared_error": _squared_oracle,
    "focal": _focal_oracle,
    "focal:multilabel": _focal_oracle,
    "focal:multiclass": _focal_oracle,
    "hinge": _hinge_oracle,
    "kl": _kl_oracle,
    "mae": _per_sample(mean_absolute_error),
    "huber": _closed_form(_huber),
    "smooth_l1": _closed_form(_smooth_l1),
    "log_cosh": _closed_form(_log_cosh),
    "quantile": _per_sample(mean_pinball_loss),
    "msle": _per_sample(mean_squared_log_error),
    "mape": _per_sample(mean_absolute_percentage_error),
    "poisson": _per_sample(mean_tweedie_deviance, power=1.0),
    "gamma": _per_sample(mean_tweedie_deviance, power=2.0),
    "tweedie": _per_sample(mean_tweedie_deviance),
}


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
