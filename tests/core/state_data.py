"""Whole inputs for the merge tests of :class:`~lossctl.core.state.EvalState`, and their
chunks, states and merges.

An :class:`Input` holds one prediction file's rows as ``io`` would hand them over
(each row with its target, weight, ``--by`` value and id), and cuts them into
:class:`~lossctl.core.state.Chunk` s the way readers of parts, or workers, would:
each chunk with its own ``--by`` values and class names in an order of its own
(a dictionary column's order is the order of arrival, never the same twice).
:func:`make_inputs` builds the candidate's and the baseline's inputs for a task.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from lossctl.core.profiles import TargetColumn
from lossctl.core.state import Chunk, EvalState, Groups, Setup

Order = Literal["fold", "tree", "shuffled"]
Fault = Literal["none", "drop", "missing", "negative"]


@dataclass(frozen=True)
class TextLabels:
    """Row ids as text (the ``Labels`` that ``io`` keeps)."""

    ids: tuple[str, ...]

    def text(self, i: int) -> str:
        return self.ids[i]

    def take(self, index: np.ndarray) -> TextLabels:
        return TextLabels(tuple(self.ids[int(i)] for i in index))


@dataclass(frozen=True)
class Input:
    """One prediction file's rows, each aligned with its target (row ``i`` of every array).

    targets : per target column, float64 values or an object array of class names
    missing : per target column, where the target is missing
    groups : object array of each row's ``--by`` value (None for an empty cell), or None
    target_rows : each row's row in TARGETS; None when row i is target row i
    """

    pred: tuple[np.ndarray, ...]
    targets: tuple[np.ndarray, ...]
    target_names: tuple[str, ...]
    missing: tuple[np.ndarray, ...]
    weights: np.ndarray | None
    groups: np.ndarray | None
    target_rows: np.ndarray | None

    @property
    def n(self) -> int:
        return int(self.pred[0].shape[0])

    def chunk(self, start: int, stop: int, rng: np.random.Generator) -> Chunk:
        """Rows ``start:stop``; ``rng`` orders the chunk's group values and class names."""
        s = slice(start, stop)
        groups = None
        if self.groups is not None:
            groups = _encode_groups(self.groups[s], rng)
        return Chunk(
            pred=tuple(np.ascontiguousarray(c[s]) for c in self.pred),
            targets=tuple(
                _target_column(name, values[s], rng)
                for name, values in zip(self.target_names, self.targets, strict=True)
            ),
            target_missing=tuple(m[s].copy() for m in self.missing),
            weights=None if self.weights is None else self.weights[s].copy(),
            groups=groups,
            labels=TextLabels(tuple(f"id{i}" for i in range(start, stop))),
            pred_rows=start,
            target_rows=start if self.target_rows is None else self.target_rows[s].copy(),
        )

    def chunks(self, cuts: Sequence[int], rng: np.random.Generator) -> list[Chunk]:
        """The chunks between ``cuts`` (sorted, within 0..n; repeats give empty chunks)."""
        bounds = [0, *cuts, self.n]
        return [self.chunk(a, b, rng) for a, b in itertools.pairwise(bounds)]

    def kept(self) -> np.ndarray:
        """Which rows have no missing value (the rows ``--drop-missing`` keeps)."""
        ok = np.ones(self.n, dtype=bool)
        for column in self.pred:
            ok &= np.isfinite(column)
        for mask in self.missing:
            ok &= ~mask
        if self.weights is not None:
            ok &= np.isfinite(self.weights)
        return ok

    def rows_in_targets(self) -> np.ndarray:
        return np.arange(self.n) if self.target_rows is None else self.target_rows


def _encode_groups(values: np.ndarray, rng: np.random.Generator) -> Groups:
    """The chunk's values in an order of their own, sometimes with one it does not hold."""
    present = list(dict.fromkeys(values.tolist()))
    if rng.random() < 0.3:
        present.append("unused")
    order = rng.permutation(len(present))
    ordered = tuple(present[i] for i in order)
    slot = {v: i for i, v in enumerate(ordered)}
    codes = np.array([slot[v] for v in values.tolist()], dtype=np.intp)
    return Groups(codes, ordered)


def _target_column(name: str, values: np.ndarray, rng: np.random.Generator) -> TargetColumn:
    if values.dtype != object:
        return TargetColumn(name, values.copy())
    categories = list(dict.fromkeys(values.tolist()))
    categories = [categories[i] for i in rng.permutation(len(categories))]
    slot = {v: i for i, v in enumerate(categories)}
    codes = np.array([slot[v] for v in values.tolist()], dtype=np.intp)
    return TargetColumn(name, np.full(values.shape, np.nan), codes, tuple(categories))


# ------------------------------------------------------------------ states and merges


def run_states(setup: Setup, chunks: Sequence[Chunk], workers: Sequence[int]) -> list[EvalState]:
    """One state per worker; worker ``j`` updates with chunks ``workers[j]:workers[j+1]``
    in order (``workers`` are cuts of the chunk list, as :meth:`Input.chunks` takes)."""
    bounds = [0, *workers, len(chunks)]
    states = []
    for a, b in itertools.pairwise(bounds):
        state = EvalState(setup)
        for chunk in chunks[a:b]:
            state.update(chunk)
        states.append(state)
    return states


def merge_all(states: list[EvalState], order: Order, rng: np.random.Generator) -> EvalState:
    """Merge ``states`` by a left fold, a balanced tree, or a fold in a shuffled order."""
    if order == "tree":
        return _tree(states)
    if order == "shuffled":
        states = [states[i] for i in rng.permutation(len(states))]
    return functools.reduce(lambda a, b: a.merge(b), states)


def _tree(states: list[EvalState]) -> EvalState:
    if len(states) == 1:
        return states[0]
    half = len(states) // 2
    return _tree(states[:half]).merge(_tree(states[half:]))


def whole_state(setup: Setup, data: Input) -> EvalState:
    """One state updated with the whole input at once."""
    state = EvalState(setup)
    state.update(data.chunk(0, data.n, np.random.default_rng(0)))
    return state


# ------------------------------------------------------------------------- inputs

Task = Literal["binary", "multiclass", "multilabel", "regression"]
Encoding = Literal["index", "name", "one-hot"]


@dataclass(frozen=True)
class Inputs:
    """The candidate and the baseline for the same targets, and their column names."""

    candidate: Input
    baseline: Input
    pred_names: tuple[str, ...]
    target_names: tuple[str, ...]


def make_inputs(
    task: Task,
    kind: str,
    n: int,
    k: int,
    rng: np.random.Generator,
    *,
    encoding: Encoding = "index",
    ties: bool = False,
    weights: bool = False,
    by: Literal["numbers", "words"] | None = None,
    shuffled_targets: bool = False,
    fault: Fault = "none",
    positive: bool = False,
) -> Inputs:
    """Random inputs of ``n`` rows: targets by target row, the candidate's rows in
    the order of its file (a permutation of the target rows if ``shuffled_targets``)
    and the baseline's in an order of its own. ``ties`` draws values from a few, so that
    losses tie; ``fault`` puts missing values or negative weights into the candidate;
    ``positive`` makes regression targets and predictions > 0 (for the deviances)."""
    targets, target_names, pred_names = _targets(task, n, k, rng, encoding, ties)
    candidate = _predictions(task, kind, targets, len(pred_names), rng, ties)
    baseline = _predictions(task, kind, targets, len(pred_names), rng, ties)
    if positive:  # |v| + 1 keeps integers integers, so ties stay exact
        targets = [np.abs(t) + 1.0 for t in targets]
        candidate = [np.abs(c) + 1.0 for c in candidate]
        baseline = [np.abs(c) + 1.0 for c in baseline]
    missing = [np.zeros(n, dtype=bool) for _ in targets]
    w = None
    if weights:
        if ties or task == "regression":  # exact sums: constant targets keep a null of 0
            w = rng.choice([0.0, 0.5, 1.0, 2.0, 3.0], n)
        else:
            w = np.where(rng.random(n) < 0.2, 0.0, rng.uniform(0.05, 3.0, n))
    if fault in ("drop", "missing"):
        _spoil(candidate, targets, missing, w, rng)
    if fault == "negative" and w is not None and n:
        bad = rng.choice(n, size=1 + n // 10, replace=False)
        w[bad] = -rng.choice([0.5, 1.0, 2.0], bad.size)
    groups = None
    if by is not None:
        pool: list[str | None] = (
            ["10", "9", "2.5", "-1", "100"] if by == "numbers" else ["b", "a", "B", "10", "é"]
        )
        pool.append(None)
        groups = np.array([pool[i] for i in rng.integers(0, len(pool), n)], dtype=object)
    order = rng.permutation(n) if shuffled_targets else np.arange(n)
    base_order = rng.permutation(n)

    def aligned(pred: list[np.ndarray], rows: np.ndarray, own: bool) -> Input:
        return Input(
            pred=tuple(c[rows] for c in pred),
            targets=tuple(t[rows] for t in targets),
            target_names=target_names,
            missing=tuple(m[rows] for m in missing),
            weights=None if w is None else w[rows],
            groups=None if groups is None or not own else groups,
            target_rows=None if (rows == np.arange(n)).all() else rows,
        )

    return Inputs(
        aligned(candidate, order, True),
        aligned(baseline, base_order, False),
        pred_names,
        target_names,
    )


def _targets(
    task: Task, n: int, k: int, rng: np.random.Generator, encoding: Encoding, ties: bool
) -> tuple[list[np.ndarray], tuple[str, ...], tuple[str, ...]]:
    if task == "binary":
        return [rng.integers(0, 2, n).astype(np.float64)], ("t",), ("p",)
    if task == "multilabel":
        y = rng.integers(0, 2, (k, n)).astype(np.float64)
        return list(y), tuple(f"y{j}" for j in range(k)), tuple(f"l{j}" for j in range(k))
    if task == "regression":
        y = rng.normal(1.0, 2.0, (k, n))
        if ties:  # integers, and integer errors below: equal losses, exactly
            y = np.round(5.0 * y)
        return list(y), tuple(f"t{j}" for j in range(k)), tuple(f"v{j}" for j in range(k))
    names = tuple("abcdef"[j] for j in range(k))
    index = rng.integers(0, k, n)
    if encoding == "one-hot":
        one_hot = (index[None, :] == np.arange(k)[:, None]).astype(np.float64)
        return list(one_hot), tuple(f"is_{c}" for c in names), names
    if encoding == "name":
        return [np.array([names[i] for i in index], dtype=object)], ("class",), names
    return [index.astype(np.float64)], ("class",), names


def _predictions(
    task: Task,
    kind: str,
    targets: list[np.ndarray],
    k: int,
    rng: np.random.Generator,
    ties: bool,
) -> list[np.ndarray]:
    n = targets[0].shape[0]
    if task == "regression":
        if ties:
            return [t + rng.choice([-1.0, 0.0, 2.0], n) for t in targets]
        return [t + rng.normal(0.0, 1.0, n) for t in targets]
    if kind == "logits":
        if ties:
            return list(rng.choice([-2.0, 0.0, 3.0], (k, n)))
        if rng.random() < 0.5:  # mostly within [0, 1]: a few rows may look like probabilities
            return list(rng.normal(0.5, 0.6, (k, n)))
        return list(rng.normal(0.0, 3.0, (k, n)))
    if task == "multiclass":
        if ties:
            rows = np.array([[0.5, 0.25, 0.125, 0.125][:k], [1.0, 0.0, 0.0, 0.0][:k]])
            rows[:, -1] += 1.0 - rows.sum(axis=1)
            p = rows[rng.integers(0, 2, n)][:, rng.permutation(k)]
        else:
            p = rng.dirichlet(np.ones(k), n)
            off = rng.random(n) < 0.1  # rows that do not sum to 1 (a warning, not an error)
            p[off] *= 0.9
        return list(np.ascontiguousarray(p.T))
    if ties:
        return list(rng.choice([0.0, 0.25, 0.5, 1.0], (k, n)))
    return list(rng.uniform(0.0, 1.0, (k, n)))


def _spoil(
    pred: list[np.ndarray],
    targets: list[np.ndarray],
    missing: list[np.ndarray],
    w: np.ndarray | None,
    rng: np.random.Generator,
) -> None:
    """Missing values in about one row in ten: a prediction, a target or a weight."""
    n = pred[0].shape[0]
    for i in np.flatnonzero(rng.random(n) < 0.1):
        where = rng.integers(0, 3)
        if where == 0 or (where == 2 and w is None):
            pred[rng.integers(0, len(pred))][i] = rng.choice([np.nan, np.inf])
        elif where == 1:
            j = rng.integers(0, len(targets))
            missing[j][i] = True
            if targets[j].dtype != object:
                targets[j][i] = np.nan
        else:
            assert w is not None
            w[i] = np.nan
