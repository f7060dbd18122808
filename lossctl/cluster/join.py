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
    Repeats,
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


class IdJoin:
    """The predictions' partitions joined by id with the targets' parts (``targets``:
    each part and its first row over the whole input), through Dask's ``client``.

    Its futures (each part's ids, the buckets, the aligned targets) are kept while it
    lives: a second pass needs no second join.
    """

    def __init__(
        self,
        client: Any,
        preds: Sequence[Partition],
        targets: Sequence[tuple[Parts, int]],
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
        self._read: dict[str, tuple[list[Any], list[IdFacts]]] = {}

    def _ids(self, side: str) -> tuple[list[Any], list[IdFacts]]:
        """Each part's :class:`PartIds` (futures) and its facts."""
        if side not in self._read:
            plan = self.plan
            if side == "pred":
                assert plan.pred_id is not None
                column, data = plan.pred_id, _NOTHING
                parts = [(p.pred, p.pred_start) for p in self.preds]
            else:
                assert plan.target_id is not None
                column, parts = plan.target_id, list(self.targets)
                data = target_columns(in_order(plan))
            read = [
                self.client.submit(
                    _read, part, self.encoding, self.no_header, column, data, start, pure=False
                )
                for part, start in parts
            ]
            facts = self.client.gather(self.client.map(PartIds.facts, read))
            self._read[side] = read, facts
        return self._read[side]

    def _pieces(self, read: list[Any], integral: bool) -> list[list[Any]]:
        """For each bucket, its piece of each part (futures)."""
        splits = [self.client.submit(PartIds.split, ids, integral, self.buckets) for ids in read]
        return [
            [self.client.submit(operator.getitem, split, b) for split in splits]
            for b in range(self.buckets)
        ]

    def unique_preds(self) -> bool:
        """Whether no id of the predictions appears twice (False: it may, and the join
        says so), from the buckets of their ids alone."""
        read, facts = self._ids("pred")
        if any(f.nulls for f in facts):
            return False
        pieces = self._pieces(read, all(f.integral for f in facts))
        found = self.client.gather([self.client.submit(unique_bucket, b) for b in pieces])
        return not any(repeats.n for repeats in found)

    def aligned(self, target_label: str, sides: tuple[Side, Side]) -> list[Any]:
        """For each prediction partition, the targets of its rows in its order (futures of
        :class:`AlignedTargets`); the local engine's error if an id is empty, repeats, or
        is in one input only (``sides`` name the rows)."""
        pred_read, pred_facts = self._ids("pred")
        target_read, target_facts = self._ids("target")
        self._check_empty(pred_facts, target_facts, sides)
        integral = all(f.integral for f in (*pred_facts, *target_facts))
        pred_pieces = self._pieces(pred_read, integral)
        target_pieces = self._pieces(target_read, integral)
        starts = [p.pred_start for p in self.preds]
        buckets = [
            self.client.submit(join_bucket, p, t, starts)
            for p, t in zip(pred_pieces, target_pieces, strict=True)
        ]
        facts = self.client.gather(self.client.map(_facts, buckets))
        total = functools.reduce(BucketFacts.merge, facts, BucketFacts())
        if total.wrong:
            raise self._wrong(total, sides)
        return [
            self.client.submit(
                _aligned, [self.client.submit(Bucket.share, b, k) for b in buckets], part.rows
            )
            for k, part in enumerate(self.preds)
        ]

    def _check_empty(
        self, pred: list[IdFacts], target: list[IdFacts], sides: tuple[Side, Side]
    ) -> None:
        assert self.plan.pred_id is not None
        for facts, side in zip((pred, target), sides, strict=True):
            firsts = [f.first_null for f in facts if f.first_null is not None]
            if firsts:
                count = sum(f.nulls for f in facts)
                raise empty_id(side, min(firsts), count, self.plan.pred_id)

    def _wrong(self, facts: BucketFacts, sides: tuple[Side, Side]) -> LossctlError:
        """The local engine's error for what is wrong with the ids (see align_ids)."""
        column = self.plan.pred_id
        assert column is not None
        repeated: list[tuple[Repeats, str, Side]] = [
            (facts.pred, "pred", sides[0]),
            (facts.target, "target", sides[1]),
        ]
        for repeats, side, named in repeated:
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
        read, facts = self._read[side]
        if side == "pred":
            starts = [p.pred_start for p in self.preds]
        else:
            starts = [start for _, start in self.targets]
        part = int(np.searchsorted(starts, row, side="right")) - 1
        value = self.client.submit(PartIds.value, read[part], row).result()
        other = "target" if side == "pred" else "pred"
        return shown_id(value, [f.kind for f in facts], [f.kind for f in self._read[other][1]])


def _read(
    part: Parts, encoding: str, no_header: bool, column: str, data: Columns, start: int
) -> PartIds:
    return PartIds(PartsTable(part, encoding, no_header), column, data, start)


def _facts(bucket: Bucket) -> BucketFacts:
    return bucket.facts


def _aligned(shares: list[Share | None], rows: int) -> AlignedTargets:
    return aligned_targets(shares, rows)
