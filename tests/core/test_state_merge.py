"""Proof that :class:`~lossctl.core.state.EvalState` merges (issue 11, item 3).

Any split of the rows into chunks, any grouping of the chunks into workers (each
updating one state with its chunks in order) and any merge order of the workers'
states (left fold, balanced tree, shuffled) give what one state updated with the
whole input gives: the checks and their errors, the detection, the per-class,
per-label and ``--by`` totals, the head and worst rows, the null model and the
baseline comparison. Floats agree within 1e-12 relative, or 1e-12 times the
quantity's scale for those that can sit at 0 (D^2, differences, interval ends).

The guess: a state without a detection computes the losses under the reading its
rows point to; the merged state says whether every worker's guess was the decision
over the whole input (:meth:`EvalState.computed`), and if not, a second pass told
the detection gives the same report.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from lossctl.core.bootstrap import PairedBuckets, bucket_of, rows_key
from lossctl.core.defaults import DEFAULT_EPS
from lossctl.core.metrics import MetricOptions
from lossctl.core.profiles import TargetColumn
from lossctl.core.sides import Side
from lossctl.core.state import Chunk, EvalState, Setup
from lossctl.core.tasks import Detection
from lossctl.errors import LossctlError, NegativeWeight
from tests.core.state_compare import (
    REL,
    assert_close,
    assert_oracle_samples,
    assert_same_result,
    null_scale,
    outcome,
)
from tests.core.state_data import (
    Input,
    Inputs,
    Order,
    make_inputs,
    merge_all,
    run_states,
    whole_state,
)

P, T = Side("predictions.csv"), Side("targets.csv")
N_BOOTSTRAP = 200
#: The regression losses drawn (None: mse), their parameters, and those that need targets
#: and predictions of their domain (made > 0).
LOSSES: dict[str, list[str | None]] = {
    "regression": [None, "mae", "huber", "quantile", "poisson", "gamma", "tweedie"],
    "binary": [None, "pos_weight", "focal", "hinge"],
    "multilabel": [None, "pos_weight", "focal"],
    "multiclass": [None, "label_smoothing", "focal", "class_weight"],
}
LOSS_PARAMS: dict[str | None, dict[str, Any]] = {
    "huber": {"delta": 1.5},
    "quantile": {"quantile": 0.3},
    "tweedie": {"power": 1.5},
    "focal": {"gamma": 1.5},
    "pos_weight": {"pos_weight": 2.5},
    "label_smoothing": {"label_smoothing": 0.2},
}
POSITIVE = ("poisson", "gamma", "tweedie")


# ----------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Split:
    """Chunk cuts (row numbers), worker cuts (chunk numbers) and the merge order."""

    cuts: tuple[int, ...]
    workers: tuple[int, ...]
    order: Order


@dataclass(frozen=True)
class Scenario:
    task: str
    kind: str
    encoding: str
    k: int
    n: int
    seed: int
    weights: str  # "none", "target" (in TARGETS) or "held" (in PREDICTIONS)
    ties: bool
    by: str | None
    label_reduction: str
    head: int
    worst: int
    compare: bool
    shuffled_targets: bool
    fault: str
    told: bool  # a second pass, told the detection
    explicit: bool  # --task and --from-probs/--from-logits given
    loss: str | None  # --loss (the deviances on targets of their domain), or a parameter
    # of the default loss ("pos_weight", "label_smoothing"); see LOSS_OPTIONS
    split: Split
    base_split: Split


@st.composite
def splits(draw: st.DrawFn, n: int) -> Split:
    cuts = tuple(sorted(draw(st.lists(st.integers(0, n), max_size=7))))
    workers = tuple(sorted(draw(st.lists(st.integers(0, len(cuts) + 1), max_size=4))))
    order = draw(st.sampled_from(["fold", "tree", "shuffled"]))
    return Split(cuts, workers, order)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    task = draw(st.sampled_from(["binary", "multiclass", "multilabel", "regression"]))
    kind = "values" if task == "regression" else draw(st.sampled_from(["probabilities", "logits"]))
    low, high = {"binary": (1, 1), "multiclass": (2, 4), "multilabel": (2, 3)}.get(task, (1, 3))
    k = draw(st.integers(low, high))
    n = draw(st.integers(1, 60))
    compare = draw(st.booleans())
    weights = draw(st.sampled_from(["none", "target", "held"] if compare else ["none", "target"]))
    faults = ["none", "drop"] + (["missing", "negative"] if not compare else [])
    fault = draw(st.sampled_from(faults))
    if fault == "negative" and weights == "none":
        fault = "none"
    return Scenario(
        task=task,
        kind=kind,
        encoding=draw(st.sampled_from(["index", "name", "one-hot"])),
        k=k,
        n=n,
        seed=draw(st.integers(0, 2**32 - 1)),
        weights=weights,
        ties=draw(st.booleans()),
        by=draw(st.sampled_from([None, "numbers", "words"])),
        label_reduction=draw(st.sampled_from(["sum", "mean"])),
        head=draw(st.integers(0, 4)),
        worst=draw(st.integers(0, 6)),
        compare=compare,
        shuffled_targets=draw(st.booleans()),
        fault=fault,
        told=draw(st.booleans()),
        explicit=draw(st.booleans()),
        loss=draw(st.sampled_from(LOSSES[task])),
        split=draw(splits(n)),
        base_split=draw(splits(n)),
    )


def build(sc: Scenario, rng: np.random.Generator) -> tuple[Inputs, Setup, Setup]:
    """The inputs, the candidate's setup, and the baseline's (with ``exclude`` to fill)."""
    inputs = make_inputs(
        sc.task,  # type: ignore[arg-type]
        sc.kind,
        sc.n,
        sc.k,
        rng,
        encoding=sc.encoding,  # type: ignore[arg-type]
        ties=sc.ties,
        weights=sc.weights != "none",
        by=sc.by,  # type: ignore[arg-type]
        shuffled_targets=sc.shuffled_targets,
        fault=sc.fault,  # type: ignore[arg-type]
        positive=sc.loss in POSITIVE,
    )
    common: dict[str, Any] = {
        "pred_names": inputs.pred_names,
        "target_names": inputs.target_names,
        "task": sc.task if sc.explicit else "auto",
        "kind": sc.kind if sc.explicit and sc.kind != "values" else None,
        "loss": sc.loss
        if sc.loss not in ("pos_weight", "label_smoothing", "class_weight")
        else None,
        "loss_options": {
            "eps": DEFAULT_EPS,
            "label_reduction": sc.label_reduction,
            **LOSS_PARAMS.get(sc.loss, {}),
            **(
                {"class_weight": [0.5 + j for j in range(sc.k)]}
                if sc.loss == "class_weight"
                else {}
            ),
        },
        "drop_missing": sc.fault == "drop",
        "seed": sc.seed % 1000,
    }
    options = MetricOptions(
        threshold=(0.5, 0.25, 0.75)[sc.seed % 3],
        top_k=(None, 1, 2)[sc.seed // 3 % 3],
        bins=(15, 1, 4)[sc.seed // 9 % 3],
    )
    candidate = Setup(
        **common,
        metrics=options,
        weight=None if sc.weights == "none" else "w",
        weight_side="pred" if sc.weights == "held" else "target",
        head=sc.head,
        worst=sc.worst,
        compare="candidate" if sc.compare else None,
    )
    baseline = Setup(**common, weight="w" if sc.weights == "target" else None, compare="baseline")
    return inputs, candidate, baseline


# ------------------------------------------------------------------------ passes


def chunked(setup: Setup, data: Input, split: Split, rng: np.random.Generator) -> EvalState:
    chunks = data.chunks(split.cuts, rng)
    return merge_all(run_states(setup, chunks, split.workers), split.order, rng)


def _key(detection: Detection) -> tuple[str, str, str]:
    return detection.task, detection.prediction_kind, detection.target_encoding


def guesses_hold(setup: Setup, data: Input, split: Split, detection: Detection) -> bool:
    """Whether every guess a worker makes (over its rows so far, at each chunk that has
    rows left) is the decision over the whole input: a state of those rows at once."""
    bounds = [0, *split.cuts, data.n]
    chunk_of = [0, *split.workers, len(bounds) - 1]
    kept = data.kept() if setup.drop_missing else np.ones(data.n, dtype=bool)
    rng = np.random.default_rng(2)
    for a, b in itertools.pairwise(chunk_of):
        for j in range(a, b):
            if not kept[bounds[j] : bounds[j + 1]].any():
                continue
            state = EvalState(setup)
            state.update(data.chunk(bounds[a], bounds[j + 1], rng))
            try:
                guess = state.decide(Side(""), Side(""))
            except LossctlError:
                return False
            if _key(guess) != _key(detection):
                return False
    return True


@dataclass
class Passes:
    whole: EvalState
    merged: EvalState
    detection: Detection


def both_ways(
    setup: Setup, data: Input, split: Split, told: bool, rng: np.random.Generator
) -> Passes | None:
    """The whole input in one state, and split and merged; checks, detection, profiles and
    the guess compared; a second pass where the engine would make one. None if the
    checks raise (the same error both ways)."""
    whole = whole_state(setup, data)
    merged = chunked(setup, data, split, rng)
    check = outcome(lambda: whole.check(P, T))
    assert outcome(lambda: merged.check(P, T)) == check
    assert (merged.negative, merged.checks) == (whole.negative, whole.checks)
    if check[0] != "ok":
        event(f"checks raise {check[0]}")
        return None
    assert merged.n == whole.n
    decision = outcome(lambda: whole.decide(P, T))
    assert outcome(lambda: merged.decide(P, T)) == decision
    if decision[0] != "ok":
        return None
    detection: Detection = decision[1]
    assert merged.pred_profile == whole.pred_profile
    assert merged.target_profile == whole.target_profile
    assert merged.n_dropped == whole.n_dropped
    assert np.array_equal(merged.dropped_rows(), whole.dropped_rows())
    assert whole.computed(detection)
    assert merged.computed(detection) == guesses_hold(setup, data, split, detection)
    event("one pass was enough" if merged.computed(detection) else "a second pass")
    if told or not merged.computed(detection):
        again = replace(setup, detection=detection)
        merged = chunked(again, data, split, rng)
        assert merged.computed(detection)
        if told:
            whole = whole_state(again, data)
    return Passes(whole, merged, detection)


def assert_same_comparison(got: PairedBuckets, want: PairedBuckets, rows: np.ndarray) -> None:
    """``got`` as ``want``, which holds both models' ``rows`` (target rows) and only them."""
    assert got.paired and want.paired
    count = np.bincount(bucket_of(rows, want.seed), minlength=want.n_buckets)
    assert np.array_equal(want.n, count) and np.array_equal(want.base_n, count)
    key = rows_key(rows, want.seed)
    assert want.keys == {"candidate": key, "baseline": key}
    assert np.array_equal(got.n, want.n) and np.array_equal(got.base_n, want.base_n)
    assert got.keys == want.keys
    for name in ("w", "wl", "base_wl"):
        a, b = getattr(got, name), getattr(want, name)
        assert np.all(np.abs(a - b) <= REL * np.maximum(np.abs(a), np.abs(b))), name
    g, w = got.result(N_BOOTSTRAP), want.result(N_BOOTSTRAP)
    assert (g.n_samples, g.n_buckets, g.seed) == (w.n_samples, w.n_buckets, w.seed)
    assert_close(g.mean_loss, w.mean_loss, "mean loss")
    assert_close(g.baseline_mean_loss, w.baseline_mean_loss, "baseline mean loss")
    scale = w.mean_loss + w.baseline_mean_loss
    for name in ("difference", "ci_low", "ci_high"):
        assert_close(getattr(g, name), getattr(w, name), name, scale)


# -------------------------------------------------------------------------- tests


@given(scenarios())
@settings(max_examples=1000, deadline=None)
def test_any_split_and_merge_order_give_the_state_of_one_pass(sc: Scenario) -> None:
    rng = np.random.default_rng(sc.seed)
    inputs, setup, base_setup = build(sc, rng)
    passes = both_ways(setup, inputs.candidate, sc.split, sc.told, rng)
    if passes is None:
        return
    detection = passes.detection
    event(f"{detection.task} {detection.prediction_kind} {detection.target_encoding}")
    want = passes.whole.result(detection, P)
    assert_same_result(passes.merged.result(detection, P), want, null_scale(inputs.candidate))
    assert_oracle_samples(setup, inputs.candidate, detection, want)
    if not sc.compare:
        return
    assert passes.whole.buckets is not None and passes.merged.buckets is not None
    base_data = inputs.baseline
    base_setup = replace(base_setup, exclude=passes.whole.dropped_rows())
    if sc.weights == "held":  # the candidate's weights, by target row, of the rows it kept
        kept = inputs.candidate.kept()
        rows = inputs.candidate.rows_in_targets()[kept]
        weights = inputs.candidate.weights
        assert weights is not None
        order = np.argsort(rows)
        base_setup = replace(base_setup, row_weights=(rows[order], weights[kept][order]))
        base_data = replace(base_data, weights=None)
    base = both_ways(base_setup, base_data, sc.base_split, sc.told, rng)
    if base is None or base.detection.task != detection.task:
        return  # the engine's BaselineTaskMismatch (auto-detection over a few rows)
    seed = setup.seed
    want_pairs = PairedBuckets(seed).merge(passes.whole.buckets)
    got_pairs = PairedBuckets(seed).merge(passes.merged.buckets)
    assert base.whole.buckets is not None and base.merged.buckets is not None
    want_pairs.merge(base.whole.buckets)
    got_pairs.merge(base.merged.buckets)
    event("baseline compared")
    kept = inputs.candidate.kept() if setup.drop_missing else np.ones(sc.n, dtype=bool)
    assert_same_comparison(got_pairs, want_pairs, inputs.candidate.rows_in_targets()[kept])
    assert_close(want_pairs.result(N_BOOTSTRAP).mean_loss, want.summary.mean_loss, "mean")


def _binary_input(pred: np.ndarray, target: np.ndarray) -> Input:
    n = pred.size
    return Input(
        pred=(pred,),
        targets=(target,),
        target_names=("t",),
        missing=(np.zeros(n, dtype=bool),),
        weights=None,
        groups=None,
        target_rows=None,
    )


BINARY = Setup(pred_names=("p",), target_names=("t",), head=3, worst=4)


def test_a_logit_far_down_makes_the_merged_state_ask_for_a_second_pass() -> None:
    """Probabilities for 950 rows, then a logit > 1: every worker before it guessed
    probabilities, so the merged state did not compute the losses under the decision."""
    rng = np.random.default_rng(5)
    pred = rng.uniform(0.0, 1.0, 1000)
    pred[950] = 3.5
    data = _binary_input(pred, rng.integers(0, 2, 1000).astype(np.float64))
    split = Split(tuple(range(100, 1000, 100)), (3, 6), "fold")
    whole = whole_state(BINARY, data)
    detection = whole.decide(P, T)
    assert detection.prediction_kind == "logits"
    for order in ("fold", "tree", "shuffled"):
        merged = chunked(BINARY, data, replace(split, order=order), rng)  # type: ignore[arg-type]
        assert merged.decide(P, T) == detection
        assert merged.computed(detection) is False
    one = EvalState(BINARY)  # one worker, chunk after chunk: the same
    for chunk in data.chunks(split.cuts, rng):
        one.update(chunk)
    assert one.computed(detection) is False
    second = chunked(replace(BINARY, detection=detection), data, split, rng)
    assert second.computed(detection)
    assert_same_result(second.result(detection, P), whole.result(detection, P), 1.0)


def test_a_worker_whose_rows_all_point_to_logits_disagrees_with_the_others() -> None:
    """The logit is in the first worker's rows: the later workers' guess (probabilities)
    is not the decision, whatever the merge order."""
    rng = np.random.default_rng(6)
    pred = rng.uniform(0.0, 1.0, 300)
    pred[10] = -2.0
    data = _binary_input(pred, rng.integers(0, 2, 300).astype(np.float64))
    detection = whole_state(BINARY, data).decide(P, T)
    for order in ("fold", "tree", "shuffled"):
        merged = chunked(BINARY, data, Split((50, 150), (1, 2), order), rng)  # type: ignore[arg-type]
        assert merged.computed(detection) is False


@pytest.mark.parametrize(
    ("task", "kind", "encoding", "k"),
    [
        ("binary", "probabilities", "index", 1),
        ("binary", "logits", "index", 1),
        ("multiclass", "probabilities", "index", 4),
        ("multiclass", "logits", "name", 3),
        ("multiclass", "logits", "one-hot", 3),
        ("multilabel", "probabilities", "index", 3),
        ("multilabel", "logits", "index", 2),
        ("regression", "values", "index", 1),
        ("regression", "values", "index", 2),
    ],
)
def test_the_guess_is_the_decision_and_one_pass_is_enough(
    task: str, kind: str, encoding: str, k: int
) -> None:
    """Chunks large enough to show the reading: every guess holds, and the merged state
    of the guessing pass gives the report of one pass over the whole input."""
    rng = np.random.default_rng(7)
    inputs = make_inputs(
        task,  # type: ignore[arg-type]
        kind,
        400,
        k,
        rng,
        encoding=encoding,  # type: ignore[arg-type]
        weights=True,
        by="words",
    )
    setup = Setup(
        pred_names=inputs.pred_names,
        target_names=inputs.target_names,
        weight="w",
        head=2,
        worst=3,
        loss_options={"eps": DEFAULT_EPS, "label_reduction": "mean"},
    )
    data = inputs.candidate
    whole = whole_state(setup, data)
    detection = whole.decide(P, T)
    assert (detection.task, detection.prediction_kind) == (task, kind)
    merged = chunked(setup, data, Split((97, 200, 333), (2,), "shuffled"), rng)
    assert merged.computed(detection)
    want = whole.result(detection, P)
    assert_same_result(merged.result(detection, P), want, null_scale(data))
    assert_oracle_samples(setup, data, detection, want)


# ---------------------------------------------------------- known bugs (issue 11)


def _weighted_chunk(p: list[float], w: list[float], start: int = 0, stop: int = 4) -> Chunk:
    t = np.array([0.0, 1.0, 1.0, 0.0])[start:stop]
    return Chunk(
        pred=(np.array(p)[start:stop],),
        targets=(TargetColumn("t", t),),
        target_missing=(np.zeros(t.size, dtype=bool),),
        weights=np.array(w)[start:stop],
        pred_rows=start,
        target_rows=start,
    )


WEIGHTED = Setup(pred_names=("p",), target_names=("t",), weight="w", drop_missing=True)


def test_a_negative_weight_beside_a_dropped_row_is_reported_as_the_weight() -> None:
    p, w = [0.2, np.nan, 0.7, 0.4], [1.0, 1.0, -1.0, 1.0]
    whole = EvalState(WEIGHTED)
    whole.update(_weighted_chunk(p, w))
    with pytest.raises(NegativeWeight):
        whole.check(P, T)


def test_the_count_of_negative_weights_does_not_depend_on_the_chunks() -> None:
    p, w = [0.2, 0.3, np.nan, 0.4], [-1.0, 1.0, 1.0, -1.0]
    whole = EvalState(WEIGHTED)
    whole.update(_weighted_chunk(p, w))
    split = EvalState(WEIGHTED)
    split.update(_weighted_chunk(p, w, 0, 2))
    split.update(_weighted_chunk(p, w, 2, 4))
    assert (split.negative, split.n_dropped) == (whole.negative, whole.n_dropped)
