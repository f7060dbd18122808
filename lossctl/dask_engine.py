"""The same evaluation on a Dask cluster: one pass of :class:`~lossctl.core.state.EvalState`
per partition, merged by Dask's tree reduction.

A partition is one part file of the predictions (a glob or a directory of parts; a single
file is one partition), with the part of the targets that holds the same rows. Each runs on
a worker exactly the pass of the local engine (:mod:`lossctl.io` reads and aligns its rows
into NumPy chunks, the state updates), with its rows numbered from the partition's first
row over the whole input, so that the merged state is the state of one pass over every
row; ``Bag.reduction`` merges the partial states (``EvalState.merge``). Detection, the
second pass when the first one's guess was not the decision, the checks and the report
are the local engine's (:meth:`lossctl.passes.Source.evaluate` calls :meth:`DaskSource.run`).

Inputs that cannot be split so (DataFrames, standard input, targets split at other rows
than the predictions, or rows matched by id) are read on the client by the local engine,
and the report's reasons say so.

With ``--output``, each partition writes its losses as a part file of a directory, which
takes its name once every part is written, or under a prefix in object storage, marked
complete by ``_SUCCESS`` (see :class:`lossctl.io.parts_output.PartsOutput`).
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from lossctl.core.chunk import Chunk
from lossctl.core.sides import Side
from lossctl.core.state import EvalState, Setup
from lossctl.errors import MissingExtra, SchedulerUnreachable
from lossctl.io.align import Aligner, Apart
from lossctl.io.chunks import numpy_chunks
from lossctl.io.parts import PartsTable
from lossctl.io.parts_output import PartsOutput, stop_writing
from lossctl.io.sources import Parts
from lossctl.io.table import InputTable
from lossctl.io.writers import LossWriter
from lossctl.passes import Beside, Kept, Progress, Source

#: How many partial states one task of the tree reduction merges.
SPLIT_EVERY = 8
INSTALL = "pip install 'lossctl[dask]'"


@dataclass(frozen=True)
class Partition:
    """What one task reads: a part of the predictions and the part of the targets with
    the same rows, and the number of the first row of each over the whole input."""

    index: int
    pred: Parts
    target: Parts | None
    pred_start: int
    target_start: int


@dataclass(frozen=True)
class Reading:
    """How a task reads and evaluates its partition (the same for every partition)."""

    plan: Any
    rows: int
    encoding: str
    no_header: bool
    output: PartsOutput | None  # the parts of --output
    keep: bool  # send the per-sample losses back (the Python API, --format csv)


@dataclass
class Partial:
    """A partition's state, and (if asked) its per-sample losses, in partition order."""

    state: EvalState
    kept: list[Kept] = field(default_factory=list)


class Cluster:
    """A Dask client: of the cluster at ``scheduler`` (or ``DASK_SCHEDULER_ADDRESS``), or of
    a ``LocalCluster`` started for the run. Connected on first use; :meth:`close` ends it."""

    def __init__(self, scheduler: str | None) -> None:
        self.address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
        self._client: Any = None
        self._cluster: Any = None

    def client(self) -> Any:
        if self._client is not None:
            return self._client
        distributed = _import_distributed()
        if self.address is None:
            import logging

            self._cluster = distributed.LocalCluster(
                processes=True,
                threads_per_worker=1,
                dashboard_address=None,
                # no dashboard; its HTTP server on a free port of the loopback (the default,
                # 8787, taken by another cluster would be a warning on stderr)
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                silence_logs=logging.ERROR,
            )
            self._client = distributed.Client(self._cluster, set_as_default=False)
            return self._client
        try:
            self._client = distributed.Client(self.address, timeout=10, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as error:
            raise SchedulerUnreachable(
                f"cannot reach the Dask scheduler ({type(error).__name__})",
                file=self.address,
            ) from None
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None


def _import_distributed() -> Any:
    try:
        import dask.bag  # noqa: F401
        import distributed
    except ImportError:
        raise MissingExtra(
            "--engine dask needs Dask, which is not installed", hint=f"Install it: {INSTALL}"
        ) from None
    return distributed


def check_installed() -> None:
    """Raise :class:`MissingExtra` before any work if Dask is not installed."""
    _import_distributed()


@dataclass
class DaskSource(Source):
    """A :class:`~lossctl.passes.Source` whose passes run on a Dask cluster, one task per
    partition (``partitions``; empty: on the client, by the local engine)."""

    cluster: Cluster = field(default_factory=lambda: Cluster(None))
    partitions: tuple[Partition, ...] = ()
    encoding: str = "utf-8"
    no_header: bool = False
    output: PartsOutput | None = None
    global_sides: tuple[Side, Side] = (Side(""), Side(""))

    def run(
        self,
        setup: Setup,
        writers: Sequence[LossWriter] = (),
        kept: Kept | None = None,
        progress: Progress | None = None,
        beside: Beside | None = None,
    ) -> EvalState:
        if not self.partitions:
            return super().run(setup, writers, kept, progress, beside)
        if beside is not None:
            raise Apart  # the baseline is evaluated in passes of its own
        reading = Reading(
            self.plan,
            self.rows,
            self.encoding,
            self.no_header,
            self.output,
            keep=kept is not None or bool(writers),
        )
        import dask.bag as db

        bag = db.from_sequence(  # type: ignore[no-untyped-call]
            self.partitions, npartitions=len(self.partitions)
        )
        total = bag.reduction(
            lambda items: _pass(items, reading, setup), _merge, split_every=SPLIT_EVERY
        )
        future = self.cluster.client().compute(total)
        try:
            partial: Partial = future.result()
        except BaseException:
            future.cancel()
            if self.output is not None:  # its parts are deleted once no worker writes one
                with contextlib.suppress(Exception):
                    self.cluster.client().run(stop_writing, self.output.run)
            raise
        self.sides = self.global_sides
        for writer in writers:
            writer.restart(None)
        if kept is not None:
            kept.restart()
        for part in partial.kept:
            for loss in part.loss:
                for writer in writers:
                    writer.write(loss, None)
            if kept is not None:
                kept.extend(part)
        return partial.state


def _pass(items: Iterable[Partition], reading: Reading, setup: Setup) -> Partial:
    """One pass of the local engine over each partition of ``items`` (on a worker)."""
    passes = (_partition_pass(part, reading, setup) for part in items)
    return _merge(itertools.chain([Partial(EvalState(setup))], passes))


def _partition_pass(part: Partition, reading: Reading, setup: Setup) -> Partial:
    pred = PartsTable(part.pred, reading.encoding, reading.no_header)
    target = None
    if part.target is not None:
        target = PartsTable(part.target, reading.encoding, reading.no_header)
    aligner = Aligner(pred, target, reading.plan, rows=reading.rows)
    state = EvalState(setup)
    kept = Kept() if reading.keep else None
    with contextlib.ExitStack() as stack:
        writer = None
        if reading.output is not None:
            writer = stack.enter_context(reading.output.writer(part.index))
            writer.restart(None)
        for chunk in numpy_chunks(aligner):
            scored = state.update(_shifted(chunk, part.pred_start, part.target_start))
            if scored is None:
                continue
            if writer is not None:
                writer.write(scored.loss, None)
            if kept is not None:
                kept.add(scored)
    return Partial(state, [] if kept is None else [kept])


def _merge(partials: Iterable[Partial]) -> Partial:
    """Merge the partial states of consecutive partitions, in order."""
    merged: Partial | None = None
    for partial in partials:
        if merged is None:
            merged = partial
        else:
            merged.state.merge(partial.state)
            merged.kept += partial.kept
    assert merged is not None
    return merged


def _shifted(chunk: Chunk, pred_start: int, target_start: int) -> Chunk:
    """A partition's chunk with its rows numbered over the whole input."""
    if not pred_start and not target_start:
        return chunk
    return replace(
        chunk,
        pred_rows=chunk.pred_rows + pred_start,
        target_rows=chunk.target_rows + target_start,
        _profiles={},
    )


# ------------------------------------------------------------------------ partitions


def _parts(table: InputTable) -> Parts | None:
    """The parts of an input read from files (one file: one part), None otherwise."""
    if isinstance(table, PartsTable):
        return Parts(table.label, table.root, tuple(table.sources))
    source = getattr(table, "source", None)
    if source is None or source.path is None:
        return None
    return Parts(table.label, os.path.dirname(str(source.path)) or ".", (source,))


def _row_counts(parts: Parts, cluster: Cluster, encoding: str, no_header: bool) -> list[int]:
    """The rows of each part: from the files' metadata where they have it (Parquet), else
    counted by the workers."""
    futures = cluster.client().map(
        _count,
        parts.sources,
        [parts] * len(parts.sources),
        encoding=encoding,
        no_header=no_header,
        pure=False,
    )
    return [int(n) for n in cluster.client().gather(futures)]


def _count(source: Any, parts: Parts, encoding: str, no_header: bool) -> int:
    table = PartsTable(Parts(parts.label, parts.root, (source,)), encoding, no_header)
    size = table.size()
    if size is not None and size[1] == "rows":
        return size[0]
    first = table.names[:1]
    return sum(batch.num_rows for batch in table.batches([], first, first))


def _single(parts: Parts, index: int) -> Parts:
    return Parts(parts.label, parts.root, (parts.sources[index],))


def dask_source(
    source: Source, cluster: Cluster, encoding: str, no_header: bool
) -> tuple[DaskSource, str | None]:
    """``source`` as a :class:`DaskSource`, split into partitions where it can be; and a
    note for the report's reasons when it cannot (its passes then run on the client)."""
    plan = source.plan
    base = DaskSource(
        source.pred,
        source.target,
        plan,
        source.rows,
        cluster=cluster,
        encoding=encoding,
        no_header=no_header,
    )
    pred_parts = _parts(source.pred)
    target_parts = None if source.target is None else _parts(source.target)
    why = None
    if pred_parts is None or (source.target is not None and target_parts is None):
        why = "an input is not a file"
    elif plan.join:
        why = "the rows are matched by id"
    if why is not None:
        return base, f"the dask engine read the inputs on the client: {why}"
    assert pred_parts is not None
    pred_rows = _row_counts(pred_parts, cluster, encoding, no_header)
    target_rows = pred_rows
    if target_parts is not None:
        target_rows = _row_counts(target_parts, cluster, encoding, no_header)
        if target_rows != pred_rows:
            note = "the parts of the two inputs do not hold the same rows"
            return base, f"the dask engine read the inputs on the client: {note}"
    starts = [sum(pred_rows[:i]) for i in range(len(pred_rows))]
    base.partitions = tuple(
        Partition(
            i,
            _single(pred_parts, i),
            None if target_parts is None else _single(target_parts, i),
            starts[i],
            starts[i],
        )
        for i in range(len(pred_rows))
    )
    base.global_sides = (
        Side(source.pred.label, tuple(source.pred.parts), tuple(starts)),
        Side(
            "" if source.target is None else source.target.label,
            () if source.target is None else tuple(source.target.parts),
            tuple(starts),
        ),
    )
    if source.target is None:
        base.global_sides = (base.global_sides[0], base.global_sides[0])
    return base, None
