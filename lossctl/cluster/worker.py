"""What a worker runs: the local engine's pass (:meth:`lossctl.passes.Source.run`) over one
partition, with its rows numbered over the whole input, into a :class:`Partial`; and the
merge of partials that Dask's tree reduction calls."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from lossctl.core.chunk import Chunk, Labels, Predicted
from lossctl.core.profiles import Rows
from lossctl.core.state import EvalState, Setup
from lossctl.errors import DuplicateIds, EmptyId, MissingIds
from lossctl.io.align import Aligner
from lossctl.io.buckets import AlignedTargets, IdRange
from lossctl.io.chunks import ArrowLabels
from lossctl.io.parts import PartsTable
from lossctl.io.parts_output import PartsOutput
from lossctl.io.sources import Parts
from lossctl.io.table import InputTable
from lossctl.passes import Kept, Source, Writer
from lossctl.plan import ColumnPlan

#: Where a partition's rows are over the whole input: the first row's number (rows that
#: follow in order), or the number of each row (targets brought together by id).
Numbering = int | np.ndarray


@dataclass(frozen=True)
class Partition:
    """What one task reads: a part of the predictions (``rows`` rows, the first being the
    input's row ``pred_start``), and the targets of the same rows: a part of the targets
    (first row ``target_start``), or those that the id join through Dask put in the
    order of the part's rows (``aligned``)."""

    index: int
    pred: Parts
    target: Parts | None
    pred_start: int
    target_start: int
    rows: int = 0
    aligned: AlignedTargets | None = None


@dataclass(frozen=True)
class Reading:
    """How a task reads and evaluates its partition (the same for every partition)."""

    plan: ColumnPlan
    rows: int
    encoding: str
    no_header: bool
    target_label: str
    output: PartsOutput | None = None  # the parts of --output
    keep: bool = False  # send the per-sample losses back (the Python API)
    record: bool = False  # send back what the client's writers write (--format csv)
    ranges: bool = False  # the range of the ids of each partition (ids joined in step)


@dataclass
class Partial:
    """What passes over partitions found: the state, the range of each partition's ids
    (in step), whether a partition's ids did not join in step, and (of one partition) the
    per-sample losses asked for."""

    state: EvalState
    ranges: list[IdRange] = field(default_factory=list)
    misfit: bool = False
    kept: Kept | None = None
    recorded: Recorder | None = None


class Recorder:
    """What a pass writes, held to be written by the client's writers, in order."""

    def __init__(self) -> None:
        self.writes: list[tuple[np.ndarray, Labels | None, Predicted | None]] = []

    def restart(self, id_name: str | None) -> None:
        self.writes.clear()

    def write(
        self, losses: np.ndarray, labels: Labels | None, predicted: Predicted | None = None
    ) -> None:
        self.writes.append((losses, labels, predicted))

    def replay(self, writer: Writer) -> None:
        for write in self.writes:
            writer.write(*write)


@dataclass
class PartSource(Source):
    """A partition's input: the local engine's passes, its rows numbered over the whole
    input; with ``ranges``, the range of its ids (:attr:`range`) is found on the way."""

    pred_rows: Numbering = 0
    target_rows: Numbering = 0
    ranges: bool = False
    range: IdRange = field(default_factory=IdRange)

    def chunks(self, aligner: Aligner) -> Iterator[Chunk]:
        self.range = IdRange()
        for chunk in super().chunks(aligner):
            if self.ranges and isinstance(chunk.labels, ArrowLabels):
                self.range = self.range.merge(IdRange.of(chunk.labels.array))
            yield replace(
                chunk,
                pred_rows=_numbered(chunk.pred_rows, chunk.n, self.pred_rows),
                target_rows=_numbered(chunk.target_rows, chunk.n, self.target_rows),
                _profiles={},
            )


def in_order(plan: ColumnPlan) -> ColumnPlan:
    """The plan of a partition whose targets were put in the order of its rows."""
    return replace(plan, target_id=None, join=False)


def _numbered(rows: Rows, n: int, numbering: Numbering) -> Rows:
    """A chunk's ``rows`` (of the partition) as rows of the whole input."""
    if isinstance(numbering, int):
        return rows + numbering
    return numbering[rows : rows + n] if isinstance(rows, int) else numbering[rows]


def partition_pass(items: Iterable[Partition], reading: Reading, setup: Setup) -> list[Partial]:
    """One pass of the local engine over each partition of ``items`` (on a worker)."""
    return [_pass(part, reading, setup) for part in items]


def _pass(part: Partition, reading: Reading, setup: Setup) -> Partial:
    plan = reading.plan
    target: InputTable | None = None
    target_rows: Numbering = part.target_start
    if part.aligned is not None:
        target = part.aligned.table(reading.target_label)
        plan = in_order(plan)
        target_rows = part.aligned.rows
    elif part.target is not None:
        target = PartsTable(part.target, reading.encoding, reading.no_header)
    pred = PartsTable(part.pred, reading.encoding, reading.no_header)
    source = PartSource(
        pred,
        target,
        plan,
        reading.rows,
        pred_rows=part.pred_start,
        target_rows=target_rows,
        ranges=reading.ranges,
    )
    kept = Kept() if reading.keep else None
    recorder = Recorder() if reading.record else None
    try:
        with contextlib.ExitStack() as stack:
            writers: list[Writer] = [] if recorder is None else [recorder]
            if reading.output is not None:
                writers.append(stack.enter_context(reading.output.writer(part.index)))
            state = source.run(setup, writers, kept)
    except (EmptyId, DuplicateIds, MissingIds):
        if not plan.join:
            raise
        return Partial(EvalState(setup), misfit=True)  # (the id join through Dask says why)
    return Partial(state, [source.range], kept=kept, recorded=recorder)


def merged(partials: Iterable[Partial], setup: Setup) -> Partial:
    """The partials of consecutive partitions as one, without their losses: the
    ``perpartition`` and the ``aggregate`` of Dask's tree reduction (into a state of its
    own: those given are a task's inputs, held by Dask, and stay as they are)."""
    total = Partial(EvalState(setup))
    for partial in partials:
        total.state.merge(partial.state)
        total.ranges += partial.ranges
        total.misfit = total.misfit or partial.misfit
    return total
