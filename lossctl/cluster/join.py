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
from dataclasses import dataclass, field, replace
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
class _Side:
    """One input's parts, what is read of each (its id ``column`` and the ``data``
    columns), and once read, the facts of each and the row where each starts."""

    parts: list[Parts]
    column: str
    data: Columns
    facts: list[IdFacts] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)

    def held(self) -> list[int]:
        """The parts that hold rows."""
        return [i for i, facts in enumerate(self.facts) if facts.rows]

    def kinds(self) -> list[Any]:
        return [self.facts[i].kind for i in self.held()]

    def integral(self) -> bool:
        return all(self.facts[i].integral for i in self.held())


class IdJoin:
    """The predictions' partitions joined by id with the targets' ``targets`` parts,
    through Dask's ``client``.

    What it reads stays on the workers until it is split into buckets; the buckets until
    the aligned targets are made of them (or, when the predictions' ids are found to be
    unique in step, not at all).
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
        assert plan.pred_id is not None and plan.target_id is not None
        self.client = client
        self.preds = preds
        self.plan = plan
        self.encoding, self.no_header = encoding, no_header
        self.buckets = max(len(preds), len(targets))
        self._sides = {
            "pred": _Side([p.pred for p in preds], plan.pred_id, _NOTHING),
            "target": _Side([*targets], plan.target_id, target_columns(in_order(plan))),
        }
        self._held: dict[tuple[str, bool], list[list[Any]]] = {}  # (pieces kept for the join)
        self.target_starts: tuple[int, ...] = ()  # (known once joined)

    def _read(self, name: str) -> list[Any]:
        """Each part of the input ``name`` ("pred", "target") read on the workers (futures
        of :class:`PartIds`); its facts learnt the first time."""
        side = self._sides[name]
        read = [
            self.client.submit(
                _read, part, self.encoding, self.no_header, side.column, side.data, pure=False
            )
            for part in side.parts
        ]
        if not side.facts:
            side.facts = self.client.gather(self.client.map(PartIds.facts, read))
            rows = [f.rows for f in side.facts]
            side.starts = [sum(rows[:i]) for i in range(len(rows))]
        return read

    def _pieces(self, name: str, read: list[Any], integral: bool) -> list[list[Any]]:
        """For each bucket, its piece of each part that holds rows (futures); the parts
        read are let go of once split."""
        if (name, integral) in self._held:
            return self._held.pop((name, integral))
        side = self._sides[name]
        split = functools.partial(self.client.submit, PartIds.split)
        splits = [split(read[i], integral, self.buckets, side.starts[i]) for i in side.held()]
        read.clear()
        return [
            [self.client.submit(operator.getitem, pieces, b) for pieces in splits]
            for b in range(self.buckets)
        ]

    def unique_preds(self) -> bool:
        """Whether no id of the predictions appears twice (False: it may, and the join
        says so), from the buckets of their ids alone."""
        read = self._read("pred")
        side = self._sides["pred"]
        if any(f.nulls for f in side.facts):
            return False
        pieces = self._pieces("pred", read, side.integral())
        found = self.client.gather([self.client.submit(unique_bucket, b) for b in pieces])
        unique = not any(repeats.n for repeats in found)
        if not unique:
            self._held["pred", side.integral()] = pieces  # (for the join that says which)
        return unique

    def aligned(self, sides: tuple[Side, Side]) -> list[Any]:
        """For each prediction partition, the targets of its rows in its order (futures of
        :class:`AlignedTargets`); the local engine's error if an id is empty, repeats, or
        is in one input only (``sides`` name the inputs; the target parts' first rows are
        those the join counts: :attr:`target_starts`)."""
        pred, target = self._sides["pred"], self._sides["target"]
        reads = {"pred": [] if pred.facts else self._read("pred"), "target": self._read("target")}
        integral = pred.integral() and target.integral()
        if not reads["pred"] and ("pred", integral) not in self._held:
            reads["pred"] = self._read("pred")  # (read for the check in buckets, then let go)
        sides = (sides[0], replace(sides[1], starts=tuple(target.starts)))
        self._check_empty(sides)
        pieces = [self._pieces(name, read, integral) for name, read in reads.items()]
        self._held.clear()  # (of the check in buckets, split another way)
        starts = [p.pred_start for p in self.preds]
        buckets = [
            self.client.submit(join_bucket, p, t, starts) for p, t in zip(*pieces, strict=True)
        ]
        del pieces
        facts = self.client.gather(self.client.map(_facts, buckets))
        total = functools.reduce(BucketFacts.merge, facts, BucketFacts())
        if total.wrong:
            raise self._wrong(total, sides)
        self.target_starts = tuple(target.starts)
        return [
            self.client.submit(
                _aligned, [self.client.submit(Bucket.share, b, k) for b in buckets], part.rows
            )
            for k, part in enumerate(self.preds)
        ]

    def _check_empty(self, sides: tuple[Side, Side]) -> None:
        for name, named in zip(("pred", "target"), sides, strict=True):
            side = self._sides[name]
            firsts = [
                start + facts.first_null
                for facts, start in zip(side.facts, side.starts, strict=True)
                if facts.first_null is not None
            ]
            if firsts:
                count = sum(f.nulls for f in side.facts)
                raise empty_id(named, min(firsts), count, self._sides["pred"].column)

    def _wrong(self, facts: BucketFacts, sides: tuple[Side, Side]) -> LossctlError:
        """The local engine's error for what is wrong with the ids (see align_ids)."""
        column = self._sides["pred"].column
        for repeats, name, named in (
            (facts.pred, "pred", sides[0]),
            (facts.target, "target", sides[1]),
        ):
            if repeats.n:
                example = self._shown(name, repeats.rows[0])
                return repeated_ids(repeats.n, example, repeats.rows, named, column)
        lost = [
            Unmatched(m.n, m.row, None if m.row is None else self._shown(name, m.row))
            for m, name in ((facts.no_target, "pred"), (facts.no_pred, "target"))
        ]
        return missing_ids(*lost, pred=sides[0], target=sides[1], column=column)

    def _shown(self, name: str, row: int) -> Any:
        """The id of the input ``name``'s ``row`` as the local engine's messages quote it
        (read again from its part)."""
        side = self._sides[name]
        held = side.held()
        at = held[int(np.searchsorted([side.starts[i] for i in held], row, side="right")) - 1]
        value = self.client.submit(
            _value,
            side.parts[at],
            self.encoding,
            self.no_header,
            side.column,
            row - side.starts[at],
            pure=False,
        ).result()
        other = self._sides["target" if name == "pred" else "pred"]
        return shown_id(value, side.kinds(), other.kinds())


def _read(part: Parts, encoding: str, no_header: bool, column: str, data: Columns) -> PartIds:
    return PartIds(PartsTable(part, encoding, no_header), column, data)


def _value(part: Parts, encoding: str, no_header: bool, column: str, row: int) -> Any:
    return _read(part, encoding, no_header, column, _NOTHING).value(row)


def _facts(bucket: Bucket) -> BucketFacts:
    return bucket.facts


def _aligned(shares: list[Share | None], rows: int) -> AlignedTargets:
    return aligned_targets(shares, rows)
