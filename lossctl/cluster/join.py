"""The join by id of inputs split into parts, through Dask (see :mod:`lossctl.io.buckets`).

The workers read each part's ids (of the targets, with the columns the evaluation reads),
split them into buckets by a hash of the id and join each bucket; the client learns only
what is small (each part's :class:`~lossctl.io.buckets.IdFacts`, each bucket's
:class:`~lossctl.io.buckets.BucketFacts`) and raises the local engine's errors from them.
Each prediction partition is then handed the targets of its rows in its order
(:class:`~lossctl.io.buckets.AlignedTargets`), which stay on the workers for its passes.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from lossctl.cluster.worker import Partition, in_order
from lossctl.core.sides import Side
from lossctl.errors import LossctlError
from lossctl.io.align import target_columns
from lossctl.io.buckets import (
    AlignedTargets,
    Bucket,
    BucketFacts,
    IdFacts,
    PartIds,
    Share,
    aligned_targets,
    join_bucket,
    shown_id,
    unique_bucket,
)
from lossctl.io.ids import Unmatched, empty_id, missing_ids, repeated_ids
from lossctl.io.parts import PartsTable
from lossctl.io.sources import Parts
from lossctl.plan import ColumnPlan

#: What is read of a part besides its ids: numeric, other and text columns.
Columns = tuple[list[str], list[str], list[str]]
_NOTHING: Columns = ([], [], [])


@dataclass
class _Read:
    """One input's parts as read on the workers (futures of :class:`PartIds`), the facts
    of each, and the row where each starts over the whole input."""

    parts: list[Any]
    facts: list[IdFacts]
    starts: list[int]

    def held(self) -> list[tuple[Any, int]]:
        """The parts that hold rows, with their first row."""
        return [
            (p, s) for p, f, s in zip(self.parts, self.facts, self.starts, strict=True) if f.rows
        ]

    def kinds(self) -> list[Any]:
        return [f.kind for f in self.facts if f.rows]


class IdJoin:
    """The predictions' partitions joined by id with the targets' ``targets`` parts,
    through Dask's ``client``.

    The parts stay read on the workers while it lives (a check of the predictions' ids
    before the join reads them once).
    """

    def __init__(
        self,
        client: Any,
        preds: Sequence[Partition],
        targets: Sequence[Parts],
        plan: ColumnPlan,
        encoding: str,
        no_header: bool,
    ) -> None:
        self.client = client
        self.preds = preds
        self.targets = targets
        self.plan = plan
        self.encoding, self.no_header = encoding, no_header
        self.buckets = max(len(preds), len(targets))
        self._read: dict[str, _Read] = {}
        self.target_starts: tuple[int, ...] = ()  # (known once joined)

    def _ids(self, side: str) -> _Read:
        """Each part of ``side`` ("pred", "target") read on the workers, and its facts."""
        if side not in self._read:
            plan = self.plan
            column, data = plan.pred_id, _NOTHING
            parts = [p.pred for p in self.preds]
            if side == "target":
                column, data, parts = (
                    plan.target_id,
                    target_columns(in_order(plan)),
                    [*self.targets],
                )
            read = [
                self.client.submit(
                    _read, part, self.encoding, self.no_header, column, data, pure=False
                )
                for part in parts
            ]
            facts = self.client.gather(self.client.map(PartIds.facts, read))
            rows = [f.rows for f in facts]
            self._read[side] = _Read(read, facts, [sum(rows[:i]) for i in range(len(rows))])
        return self._read[side]

    def _pieces(self, read: _Read, integral: bool) -> list[list[Any]]:
        """For each bucket, its piece of each part that holds rows (futures)."""
        split = functools.partial(self.client.submit, PartIds.split)
        splits = [split(part, integral, self.buckets, start) for part, start in read.held()]
        return [
            [self.client.submit(operator.getitem, pieces, b) for pieces in splits]
            for b in range(self.buckets)
        ]

    def unique_preds(self) -> bool:
        """Whether no id of the predictions appears twice (False: it may, and the join
        says so), from the buckets of their ids alone."""
        read = self._ids("pred")
        if any(f.nulls for f in read.facts):
            return False
        pieces = self._pieces(read, all(f.integral for f in read.facts if f.rows))
        found = self.client.gather([self.client.submit(unique_bucket, b) for b in pieces])
        return not any(repeats.n for repeats in found)

    def aligned(self, sides: tuple[Side, Side]) -> list[Any]:
        """For each prediction partition, the targets of its rows in its order (futures of
        :class:`AlignedTargets`); the local engine's error if an id is empty, repeats, or
        is in one input only (``sides`` name the inputs; the target parts' first rows are
        those the join counts: :attr:`target_starts`)."""
        pred, target = self._ids("pred"), self._ids("target")
        sides = (sides[0], replace(sides[1], starts=tuple(target.starts)))
        self._check_empty(sides)
        integral = all(f.integral for f in (*pred.facts, *target.facts) if f.rows)
        starts = [p.pred_start for p in self.preds]
        buckets = [
            self.client.submit(join_bucket, p, t, starts)
            for p, t in zip(
                self._pieces(pred, integral), self._pieces(target, integral), strict=True
            )
        ]
        facts = self.client.gather(self.client.map(_facts, buckets))
        total = functools.reduce(BucketFacts.merge, facts, BucketFacts())
        if total.wrong:
            raise self._wrong(total, sides)
        aligned = [
            self.client.submit(
                _aligned, [self.client.submit(Bucket.share, b, k) for b in buckets], part.rows
            )
            for k, part in enumerate(self.preds)
        ]
        self.target_starts = tuple(target.starts)
        self._read = {}  # (the workers may let go of the parts: the aligned targets hold all)
        return aligned

    def _check_empty(self, sides: tuple[Side, Side]) -> None:
        assert self.plan.pred_id is not None
        for side, named in zip(("pred", "target"), sides, strict=True):
            read = self._ids(side)
            firsts = [
                s + f.first_null
                for f, s in zip(read.facts, read.starts, strict=True)
                if f.first_null is not None
            ]
            if firsts:
                count = sum(f.nulls for f in read.facts)
                raise empty_id(named, min(firsts), count, self.plan.pred_id)

    def _wrong(self, facts: BucketFacts, sides: tuple[Side, Side]) -> LossctlError:
        """The local engine's error for what is wrong with the ids (see align_ids)."""
        column = self.plan.pred_id
        assert column is not None
        for repeats, side, named in (
            (facts.pred, "pred", sides[0]),
            (facts.target, "target", sides[1]),
        ):
            if repeats.n:
                example = self._shown(side, repeats.rows[0])
                return repeated_ids(repeats.n, example, repeats.rows, named, column)
        lost = [
            Unmatched(m.n, m.row, None if m.row is None else self._shown(side, m.row))
            for m, side in ((facts.no_target, "pred"), (facts.no_pred, "target"))
        ]
        return missing_ids(*lost, pred=sides[0], target=sides[1], column=column)

    def _shown(self, side: str, row: int) -> Any:
        """The id of ``side``'s ``row`` as the local engine's messages quote it."""
        read = self._read[side]
        held = [(part, start) for part, start in read.held()]
        at = int(np.searchsorted([start for _, start in held], row, side="right")) - 1
        part, start = held[at]
        value = self.client.submit(PartIds.value, part, row - start).result()
        other = self._read["target" if side == "pred" else "pred"]
        return shown_id(value, read.kinds(), other.kinds())


def _read(part: Parts, encoding: str, no_header: bool, column: str, data: Columns) -> PartIds:
    return PartIds(PartsTable(part, encoding, no_header), column, data)


def _facts(bucket: Bucket) -> BucketFacts:
    return bucket.facts


def _aligned(shares: list[Share | None], rows: int) -> AlignedTargets:
    return aligned_targets(shares, rows)
