"""Passes over one prediction input: :class:`Source` drives an
:class:`~lossctl.core.state.EvalState` over the aligned NumPy chunks that ``io``
hands over, once, or twice when the first pass's guess of the reading was not
the decision over the whole input; a baseline that follows the predictions row
for row is read :class:`Beside` them, into a state of its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from lossctl.core.chunk import Chunk, Labels, Predicted
from lossctl.core.sides import Side
from lossctl.core.state import EvalState, Scored, Setup
from lossctl.core.tasks import Detection
from lossctl.io.align import Aligner, Companion
from lossctl.io.chunks import ArrowLabels, numpy_chunks
from lossctl.io.ids import OutOfStep
from lossctl.io.table import InputTable
from lossctl.options import EvalOptions
from lossctl.plan import ColumnPlan


class Progress(Protocol):
    """Told how far an evaluation has got: by the command line, to draw a progress bar."""

    def start(self, total: int | None, unit: str, description: str) -> None: ...

    def update(self, done: int) -> None: ...

    def stop(self) -> None: ...


class Writer(Protocol):
    """Where a pass writes the per-sample losses: a :class:`~lossctl.io.writers.LossWriter`."""

    def restart(self, id_name: str | None) -> None: ...

    def write(
        self, losses: np.ndarray, labels: Labels | None, predicted: Predicted | None = None
    ) -> None: ...


@dataclass
class Kept:
    """The per-sample losses kept in memory for ``Report.losses`` (the Python API)."""

    loss: list[np.ndarray] = field(default_factory=list)
    labels: list[ArrowLabels] = field(default_factory=list)
    weights: list[np.ndarray] = field(default_factory=list)
    rows: list[np.ndarray] = field(default_factory=list)

    def restart(self) -> None:
        for held in self._lists():
            held.clear()

    def extend(self, other: Kept) -> None:
        """Add ``other``'s rows after these (another partition's, in order)."""
        for mine, theirs in zip(self._lists(), other._lists(), strict=True):
            mine.extend(theirs)

    def _lists(self) -> tuple[list[Any], ...]:
        return (self.loss, self.labels, self.weights, self.rows)

    def row_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """The weights by target row (as a baseline's ``Setup.row_weights``), sorted by row."""
        rows, weights = concat(self.rows, np.int64), concat(self.weights, np.float64)
        order = np.argsort(rows, kind="stable")
        return rows[order].astype(np.intp), weights[order]

    def add(self, scored: Scored) -> None:
        rows, n = scored.rows, scored.loss.size
        self.loss.append(scored.loss)
        if isinstance(rows.labels, ArrowLabels):
            self.labels.append(rows.labels)
        if rows.weights is not None:
            self.weights.append(rows.weights)
        t = rows.target_rows
        self.rows.append(np.arange(t, t + n) if isinstance(t, int) else t)


@dataclass
class Source:
    """One prediction input against the targets, and how its rows are read."""

    pred: InputTable
    target: InputTable | None
    plan: ColumnPlan
    rows: int
    hashed: bool = False  # join by hash from the start (the ids were found out of step)
    sides: tuple[Side, Side] = (Side(""), Side(""))

    def run(
        self,
        setup: Setup,
        writers: Sequence[Writer] = (),
        kept: Kept | None = None,
        progress: Progress | None = None,
        beside: Beside | None = None,
    ) -> EvalState:
        """One pass over every row: the state of the whole input (and, ``beside``, the
        state of the other model read beside it; :class:`Apart` if it cannot be)."""
        while True:
            companion = None if beside is None else beside.companion
            aligner = Aligner(
                self.pred,
                self.target,
                self.plan,
                rows=self.rows,
                hashed=self.hashed,
                companion=companion,
            )
            for writer in writers:
                writer.restart(self.plan.pred_id)
            if kept is not None:
                kept.restart()
            state = EvalState(setup)
            if beside is not None:
                beside.state = EvalState(beside.setup)
            total = self.pred.size()
            if progress is not None:
                size, unit = total or (None, "rows")
                progress.start(size, unit, "scoring" if setup.detection else "reading")
            try:
                for chunk in self.chunks(aligner):
                    scored = state.update(chunk)
                    if beside is not None:
                        beside.state.update(chunk.beside())
                    if scored is not None:
                        for writer in writers:
                            writer.write(scored.loss, scored.rows.labels, scored.predicted)
                        if kept is not None:
                            kept.add(scored)
                    if progress is not None:
                        progress.update(self.pred.done() if total else aligner.pred.n)
            except OutOfStep:
                self.hashed = True
                continue
            self.sides = aligner.pred.side(), aligner.target.side()
            if beside is not None and aligner.companion is not None:
                beside.sides = aligner.companion.side(), self.sides[1]
            return state

    def chunks(self, aligner: Aligner) -> Iterator[Chunk]:
        """The chunks of one pass (a cluster's pass over a partition numbers their rows
        over the whole input)."""
        return numpy_chunks(aligner)

    def evaluate(
        self,
        setup: Setup,
        writers: Sequence[Writer] = (),
        kept: Kept | None = None,
        progress: Progress | None = None,
        beside: Beside | None = None,
    ) -> tuple[EvalState, Detection]:
        """Pass once, or twice when the first pass's guess was not the decision (of this
        input, or of the one ``beside`` it, whose state and detection it leaves there)."""
        try:
            state = self.run(setup, writers, kept, progress, beside)
            state.check(*self.sides)
            detection = state.decide(*self.sides)
            again = not state.computed(detection)
            if beside is not None:
                beside.state.check(*beside.sides)
                beside.detection = beside.state.decide(*beside.sides)
                again = again or not beside.state.computed(beside.detection)
                beside.setup = told(beside.setup, beside.detection)
            if again:
                state = self.run(told(setup, detection), writers, kept, progress, beside)
        finally:
            if progress is not None:
                progress.stop()
        return state, detection


@dataclass
class Beside:
    """Another model's predictions read beside a :class:`Source`'s, row for row: what
    to read, the setup of its state, and (after a pass) its state, detection and sides."""

    companion: Companion
    setup: Setup
    state: EvalState = field(init=False)
    detection: Detection = field(init=False)
    sides: tuple[Side, Side] = (Side(""), Side(""))


def told(setup: Setup, detection: Detection) -> Setup:
    return replace(setup, detection=detection)


@dataclass
class BaselineSource(Source):
    """The baseline's input, with the setup of its pass and its options."""

    setup: Setup = field(default_factory=lambda: Setup((), ()))
    options: EvalOptions = field(default_factory=EvalOptions)
    inner: Source | None = None  # the source whose passes these are (another engine's)

    def run(
        self,
        setup: Setup,
        writers: Sequence[Writer] = (),
        kept: Kept | None = None,
        progress: Progress | None = None,
        beside: Beside | None = None,
    ) -> EvalState:
        if self.inner is None:
            return super().run(setup, writers, kept, progress, beside)
        state = self.inner.run(setup, writers, kept, progress, beside)
        self.sides = self.inner.sides
        return state


def concat(arrays: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(arrays) if arrays else np.empty(0, dtype=dtype)
