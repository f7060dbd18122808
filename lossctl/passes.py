"""Passes over one prediction input: :class:`Source` drives an
:class:`~lossctl.core.state.EvalState` over the aligned NumPy chunks that ``io``
hands over, once, or twice when the first pass's guess of the reading was not
the decision over the whole input; :class:`Background` runs a baseline's pass
in a thread beside the candidate's.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from lossctl.core.state import EvalState, Scored, Setup
from lossctl.core.tasks import Detection, Side
from lossctl.io.align import Aligner
from lossctl.io.chunks import ArrowLabels, numpy_chunks
from lossctl.io.ids import OutOfStep
from lossctl.io.readers import InputTable
from lossctl.io.writers import LossWriter
from lossctl.options import EvalOptions
from lossctl.plan import ColumnPlan


class Progress(Protocol):
    """Told how far an evaluation has got: by the command line, to draw a progress bar."""

    def start(self, total: int | None, unit: str, description: str) -> None: ...

    def update(self, done: int) -> None: ...

    def stop(self) -> None: ...


@dataclass
class Kept:
    """The per-sample losses kept in memory for ``Report.losses`` (the Python API)."""

    loss: list[np.ndarray] = field(default_factory=list)
    labels: list[ArrowLabels] = field(default_factory=list)
    weights: list[np.ndarray] = field(default_factory=list)
    rows: list[np.ndarray] = field(default_factory=list)

    def restart(self) -> None:
        for held in (self.loss, self.labels, self.weights, self.rows):
            held.clear()

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
    cancel: threading.Event = field(default_factory=threading.Event)  # (from another thread)

    def run(
        self,
        setup: Setup,
        writers: Sequence[LossWriter] = (),
        kept: Kept | None = None,
        progress: Progress | None = None,
    ) -> EvalState:
        """One pass over every row: the state of the whole input."""
        while True:
            aligner = Aligner(self.pred, self.target, self.plan, rows=self.rows, hashed=self.hashed)
            for writer in writers:
                writer.restart(self.plan.pred_id)
            if kept is not None:
                kept.restart()
            state = EvalState(setup)
            total = self.pred.size()
            if progress is not None:
                size, unit = total or (None, "rows")
                progress.start(size, unit, "scoring" if setup.detection else "reading")
            try:
                for chunk in numpy_chunks(aligner):
                    if self.cancel.is_set():
                        raise Cancelled
                    scored = state.update(chunk)
                    if scored is not None:
                        for writer in writers:
                            writer.write(scored.loss, scored.rows.labels)
                        if kept is not None:
                            kept.add(scored)
                    if progress is not None:
                        progress.update(self.pred.done() if total else aligner.pred.n)
            except OutOfStep:
                self.hashed = True
                continue
            self.sides = aligner.pred.side(), aligner.target.side()
            return state

    def evaluate(
        self,
        setup: Setup,
        writers: Sequence[LossWriter] = (),
        kept: Kept | None = None,
        progress: Progress | None = None,
    ) -> tuple[EvalState, Detection]:
        """Pass once, or twice when the first pass's guess was not the decision."""
        try:
            state = self.run(setup, writers, kept, progress)
            state.check(*self.sides)
            detection = state.decide(*self.sides)
            if not state.computed(detection):
                state = self.run(told(setup, detection), writers, kept, progress)
        finally:
            if progress is not None:
                progress.stop()
        return state, detection


class Cancelled(Exception):
    """The pass was called off (the other pass beside it failed)."""


class Background:
    """The baseline's evaluation in a thread, beside the candidate's: pyarrow reads and
    NumPy computes without holding the GIL, so the two passes share the cores.

    Leaving the ``with`` block with an error calls the pass off and waits for it to end
    (pyarrow must not be left working in a thread while the process exits).
    """

    def __init__(self, base: BaselineSource) -> None:
        self._base = base
        self._outcome: tuple[EvalState, Detection] | BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._outcome = self._base.evaluate(self._base.setup)
        except BaseException as error:  # handed over to the caller of result()
            self._outcome = error

    def _wait(self) -> None:
        while self._thread.is_alive():  # a timeout, so that Ctrl-C is heard while waiting
            self._thread.join(0.1)

    def result(self) -> tuple[EvalState, Detection]:
        self._wait()
        outcome = self._outcome
        if isinstance(outcome, BaseException):
            raise outcome
        assert outcome is not None
        return outcome

    def __enter__(self) -> Background:
        return self

    def __exit__(self, *error: object) -> None:
        self._base.cancel.set()
        pending: BaseException | None = None
        while self._thread.is_alive():
            try:
                self._wait()
            except BaseException as interrupt:  # Ctrl-C here: the thread ends first
                pending = pending or interrupt
        if pending is not None:
            raise pending


def told(setup: Setup, detection: Detection) -> Setup:
    return replace(setup, detection=detection)


@dataclass
class BaselineSource(Source):
    """The baseline's input, with the setup of its pass and its options."""

    setup: Setup = field(default_factory=lambda: Setup((), ()))
    options: EvalOptions = field(default_factory=EvalOptions)


def concat(arrays: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(arrays) if arrays else np.empty(0, dtype=dtype)
