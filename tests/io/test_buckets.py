"""The id join of parts bucket by bucket (lossctl.io.buckets, what a cluster's workers run)
against the local join (align_ids) over the same ids, whole: the same target row for each
prediction, the same repeats and missing ids; however the parts are cut and however many
buckets (empty ones too)."""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pyarrow as pa
import pytest

from lossctl.core.sides import Side
from lossctl.io.buckets import (
    BucketFacts,
    IdRange,
    PartIds,
    aligned_targets,
    apart,
    join_bucket,
    unique_bucket,
)
from lossctl.io.ids import align_ids
from lossctl.io.memory import ArrowTable


def _parts(ids: list[object], cuts: list[int], y: np.ndarray | None = None) -> list[PartIds]:
    """The parts of one input, cut before the rows ``cuts``."""
    bounds = [0, *cuts, len(ids)]
    parts = []
    for a, b in itertools.pairwise(bounds):
        columns = {"id": pa.array(ids[a:b])}
        data: tuple[list[str], list[str], list[str]] = ([], [], [])
        if y is not None:
            columns["y"] = pa.array(y[a:b])
            data = ([], ["y"], [])
        parts.append(PartIds(ArrowTable("t", pa.table(columns)), "id", data))
    return parts


def _held(parts: list[PartIds]) -> list[tuple[PartIds, int]]:
    """The parts that hold rows, with their first row over the whole input (the engine
    leaves the others out)."""
    rows = [len(p.ids) for p in parts]
    return [(p, sum(rows[:i])) for i, p in enumerate(parts) if rows[i]]


def _join(
    preds: list[PartIds], targets: list[PartIds], buckets: int
) -> tuple[BucketFacts, list[np.ndarray]]:
    """The facts of every bucket, and (when right) each prediction part's target rows."""
    held_preds, held_targets = _held(preds), _held(targets)
    facts = [part.facts() for part, _ in [*held_preds, *held_targets]]
    integral = all(f.integral for f in facts)
    pred_pieces = [p.split(integral, buckets, start) for p, start in held_preds]
    target_pieces = [t.split(integral, buckets, start) for t, start in held_targets]
    starts = [start for _, start in held_preds]
    joined = [
        join_bucket([p[b] for p in pred_pieces], [t[b] for t in target_pieces], starts)
        for b in range(buckets)
    ]
    total = functools.reduce(BucketFacts.merge, [j.facts for j in joined], BucketFacts())
    if total.wrong:
        return total, []
    aligned = [
        aligned_targets([j.share(k) for j in joined], len(part.ids))
        for k, (part, _) in enumerate(held_preds)
    ]
    return total, [a.rows for a in aligned]


@pytest.mark.parametrize("kind", ["int", "text", "int and text"])
@pytest.mark.parametrize("buckets", [1, 3, 50])
def test_each_prediction_finds_the_target_of_the_local_join(kind: str, buckets: int) -> None:
    rng = np.random.default_rng(buckets)
    n = 40
    ids: list[object] = [int(i) for i in rng.permutation(1000)[:n]]
    if kind == "text":
        ids = [f"id-{i}" for i in ids]
    order = rng.permutation(n)
    target_ids = [ids[i] for i in order]
    if kind == "int and text":  # (integers against text that spells them: one id each)
        target_ids = [str(i) for i in target_ids]
    preds = _parts(ids, [5, 5, 30])  # (empty parts, here and in the targets)
    targets = _parts(target_ids, [17, 17], y=np.arange(n))
    facts, rows = _join(preds, targets, buckets)
    assert not facts.wrong
    expected = align_ids(
        pa.chunked_array([pa.array(ids)]),
        pa.chunked_array([pa.array(target_ids)]),
        column="id",
        pred=Side("p"),
        target=Side("t"),
    )
    assert expected is not None
    np.testing.assert_array_equal(np.concatenate(rows), expected)


def test_repeats_and_missing_ids_as_the_local_join_counts_them() -> None:
    ids: list[object] = list(range(30))
    preds = _parts([*ids[:10], 3, *ids[11:20], 3, 7, *ids[22:]], [12])  # 3 thrice, 7 twice
    facts, _ = _join(preds, _parts(ids, [9]), buckets=4)
    assert (facts.pred.n, facts.pred.rows, facts.target.n) == (2, (3, 10, 20), 0)
    targets = _parts([*ids[:29], 99], [15])  # 29 has no target, 99 no prediction
    facts, _ = _join(_parts(ids, [12]), targets, buckets=4)
    assert (facts.no_target.n, facts.no_target.row) == (1, 29)
    assert (facts.no_pred.n, facts.no_pred.row) == (1, 29)


def test_a_bucket_of_one_input_tells_its_repeats() -> None:
    part = _parts([5, 1, 9, 1], [])[0]
    pieces = part.split(True, 2, 100)
    found = [unique_bucket([pieces[b]]) for b in range(2)]
    assert sum(r.n for r in found) == 1 and (101, 103) in [r.rows for r in found]
    assert all(unique_bucket([p]).n == 0 for p in _parts([5, 1, 9], [])[0].split(True, 2, 0))


def test_ranges_of_ids() -> None:
    def of(*ids: object) -> IdRange:
        return IdRange.of(pa.array(list(ids)))

    assert apart([of(1, 5), of(6, 9), IdRange()]) and not apart([of(1, 5), of(5, 9)])
    assert apart([of("b", "c"), of("a")]) and not apart([of("a", "c"), of("b")])
    assert not apart([of(1, 5), of("x")])  # (integers and other text: told apart by buckets)
    assert of("7", "12").kind == "int" and of("007").kind == "text"
    assert of(1.5).kind is None and of(1, 2).merge(of("x")).kind is None
