"""A :class:`~lossctl.passes.Source` whose passes run on a Dask cluster (:class:`DaskSource`),
and how an input is split into its partitions (:func:`dask_source`)."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from lossctl.cluster.client import Cluster
from lossctl.cluster.join import IdJoin
from lossctl.cluster.worker import Partial, Partition, Reading, merged, partition_pass
from lossctl.core.sides import Side
from lossctl.core.state import EvalState, Setup
from lossctl.io.align import Apart
from lossctl.io.buckets import AlignedTargets, apart
from lossctl.io.parts import PartsTable
from lossctl.io.parts_output import PartsOutput, stop_writing
from lossctl.io.sources import Parts
from lossctl.io.table import InputTable
from lossctl.passes import Beside, Kept, Progress, Source, Writer

#: How many partial states one task of the tree reduction merges.
SPLIT_EVERY = 8
#: How the rows of the two inputs meet: by position (or in one file), by id in parts side
#: by side (each partition's own join), by id through the join of lossctl.cluster.join.
BY_POSITION, IN_STEP, SHUFFLED = "position", "in step", "shuffled"


@dataclass
class DaskSource(Source):
    """A :class:`~lossctl.passes.Source` whose passes run on a Dask cluster, one task per
    partition (``partitions``; empty: on the client, by the local engine).

    Matched by id (``join``), the partitions first join in step, each on its own, when
    both inputs have parts of the same rows; that holds if every partition's ids joined
    and no id is in two partitions. Otherwise the ids are joined through Dask
    (:class:`~lossctl.cluster.join.IdJoin`, of the target parts ``targets``), and each
    partition is handed the targets of its rows.
    """

    cluster: Cluster = field(default_factory=lambda: Cluster(None))
    partitions: tuple[Partition, ...] = ()
    encoding: str = "utf-8"
    no_header: bool = False
    output: PartsOutput | None = None
    global_sides: tuple[Side, Side] = (Side(""), Side(""))
    join: str = BY_POSITION
    targets: tuple[Parts, ...] = ()  # (by id: each part of the targets)
    _ids: IdJoin | None = field(default=None, repr=False)
    _unique: bool = False  # the ids of the predictions are known to be unique
    _aligned: list[Any] | None = field(default=None, repr=False)  # futures, per partition

    def run(
        self,
        setup: Setup,
        writers: Sequence[Writer] = (),
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
            "" if self.target is None else self.target.label,
            self.output,
            keep=kept is not None,
            record=bool(writers),
            ranges=self.join == IN_STEP,
        )
        passes: Passes | None = None
        if self.join != SHUFFLED:
            import dask.bag as db

            bag = db.from_sequence(self.partitions, npartitions=len(self.partitions))  # type: ignore[no-untyped-call]
            passes = self._passes(bag, reading, setup)
            if self.join == IN_STEP and not self._in_step(passes.total):
                self.join, passes = SHUFFLED, None
        if passes is None:
            passes = self._passes(self._shuffled(), replace(reading, ranges=False), setup)
        self.sides = self.global_sides
        passes.hand_over(writers, kept, self.plan.pred_id)
        return passes.total.state

    def _passes(self, bag: Any, reading: Reading, setup: Setup) -> Passes:
        """One pass over each partition of ``bag`` (a Dask bag of one partition in each
        of its partitions), on the cluster; the partials stay there until
        :meth:`Passes.hand_over`."""
        client = self.cluster.client()
        each = client.persist(bag.map_partitions(partition_pass, reading, setup))
        merge = functools.partial(merged, setup=setup)
        future = client.compute(each.reduction(merge, merge, split_every=SPLIT_EVERY))
        try:
            return Passes(future.result(), each, client)
        except BaseException:
            future.cancel()  # (and the passes not yet run are let go of with ``each``)
            if self.output is not None:  # its parts are deleted once no worker writes one
                with contextlib.suppress(Exception):
                    client.run(stop_writing, self.output.run)
            raise

    def _in_step(self, total: Partial) -> bool:
        """Whether the join in step holds: every partition's ids joined, and none is in two
        partitions (their ranges do not overlap, or the buckets of the ids say so)."""
        if total.misfit:
            return False
        self._unique = self._unique or apart(total.ranges) or self._join().unique_preds()
        return self._unique

    def _join(self) -> IdJoin:
        if self._ids is None:
            partitions = [replace(p, target=None) for p in self.partitions]
            self._ids = IdJoin(
                self.cluster.client(),
                partitions,
                self.targets,
                self.plan,
                self.encoding,
                self.no_header,
            )
        return self._ids

    def _shuffled(self) -> Any:
        """The partitions with their targets, put in order by the join through Dask (made
        once: a second pass takes them as they are), as a Dask bag."""
        import dask
        import dask.bag as db

        join = self._join()
        if self._aligned is None:
            self._aligned = join.aligned(self.global_sides)
            pred_side, target_side = self.global_sides
            self.global_sides = (pred_side, replace(target_side, starts=join.target_starts))
        with_targets = dask.delayed(_with_targets)  # type: ignore[attr-defined]
        pairs = zip(join.preds, self._aligned, strict=True)
        return db.from_delayed([with_targets(part, aligned) for part, aligned in pairs])  # type: ignore[no-untyped-call]


def _with_targets(part: Partition, aligned: AlignedTargets) -> list[Partition]:
    return [replace(part, aligned=aligned)]


@dataclass
class Passes:
    """A pass over every partition: the merged ``total``; each partition's partial is
    on the cluster (``each``), for the per-sample losses asked for."""

    total: Partial
    each: Any
    client: Any

    def hand_over(self, writers: Sequence[Writer], kept: Kept | None, id_name: str | None) -> None:
        """Write (``writers``) and keep (``kept``) the per-sample losses, in the order of the
        partitions."""
        for writer in writers:
            writer.restart(id_name)
        if kept is not None:
            kept.restart()
        if not writers and kept is None:
            return
        parts = self.client.compute(self.each.to_delayed())
        for future in parts:
            for partial in future.result():
                if partial.recorded is not None:
                    for writer in writers:
                        partial.recorded.replay(writer)
                if kept is not None and partial.kept is not None:
                    kept.extend(partial.kept)


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


def _starts(rows: list[int]) -> list[int]:
    return [sum(rows[:i]) for i in range(len(rows))]


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
    if pred_parts is None or (source.target is not None and target_parts is None):
        return base, "the dask engine read the inputs on the client: an input is not a file"
    pred_rows = _row_counts(pred_parts, cluster, encoding, no_header)
    target_rows: list[int] | None = pred_rows
    if target_parts is not None:
        side_by_side = len(target_parts.sources) == len(pred_parts.sources)
        target_rows = None  # (joined through Dask: counted by the join)
        if side_by_side or not plan.join:
            target_rows = _row_counts(target_parts, cluster, encoding, no_header)
    if not sum(pred_rows) or (target_rows is not None and not sum(target_rows)):
        return base, None  # (the local engine says which input has no rows)
    if plan.join:
        base.join = IN_STEP if target_rows == pred_rows else SHUFFLED
    elif target_rows != pred_rows:
        note = "the parts of the two inputs do not hold the same rows"
        return base, f"the dask engine read the inputs on the client: {note}"
    starts = _starts(pred_rows)
    beside = None if base.join == SHUFFLED else target_parts  # (the part of the same rows)
    base.partitions = tuple(
        Partition(
            i,
            _single(pred_parts, i),
            None if beside is None else _single(beside, i),
            starts[i],
            starts[i],  # (beside: the same rows)
            rows=pred_rows[i],
        )
        for i in range(len(pred_rows))
        if pred_rows[i]
    )
    pred_side = Side(source.pred.label, tuple(source.pred.parts), tuple(starts))
    base.global_sides = (pred_side, pred_side)
    if source.target is not None and target_parts is not None:
        base.targets = tuple(_single(target_parts, j) for j in range(len(target_parts.sources)))
        # (joined through Dask, the join counts the rows of the target parts)
        known = () if target_rows is None else tuple(_starts(target_rows))
        base.global_sides = (
            pred_side,
            Side(source.target.label, tuple(source.target.parts), known),
        )
    return base, None
