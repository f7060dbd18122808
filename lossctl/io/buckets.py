"""The id join of inputs split into parts, as a cluster runs it, bucket by bucket.

Each part's ids (:class:`PartIds`; of the targets, with the columns the evaluation reads)
are split into buckets by a hash of the id (:meth:`PartIds.split`), so that one id, in
whichever part of either input it is, lands in one bucket. Each bucket is joined on its own
(:func:`join_bucket`): an id that repeats or that the other input lacks is found there, as
:func:`lossctl.io.ids.align_ids` would find it over the whole input, and the bucket's
facts say so; otherwise each prediction part is handed the targets of its rows, in the
order of its rows (:func:`aligned_targets`). Rows are numbered from 0 over the whole input,
so that every message and every row of the report names the rows as the local engine does.

Ids are compared as the join of :mod:`lossctl.io.ids` compares them: as integers when every
id of both inputs is one (integers, or text that spells integers the usual way), otherwise
as their text.

:class:`IdRange` is what the join in step of parts needs instead: the lowest and highest id
of each partition, which tell at no cost, when the parts hold ranges of ids that do not
overlap (the usual case: ids that increase across the parts), that no id is in two of them.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from lossctl.io.columns import is_text_type, one_type, to_numpy
from lossctl.io.ids import IdIndex, _as_integers, _text_hashes, as_key
from lossctl.io.memory import ArrowTable
from lossctl.io.table import InputTable

#: Multiplies an id's 64-bit key before its bucket is taken from the high bits, so that ids
#: that share a remainder (multiples of the number of buckets) are spread as well.
_SPREAD = np.uint64(0x9E3779B97F4A7C15)
#: How many rows of a repeated id a message quotes (as align_ids does).
QUOTED = 5


@dataclass(frozen=True)
class IdRange:
    """The lowest and highest id of some rows, as the join compares them: ``kind`` is
    ``"int"`` or ``"text"``; ``""`` before any id; None when the ids are of another type,
    or of both kinds (their range then tells nothing)."""

    kind: str | None = ""
    low: Any = None
    high: Any = None

    @classmethod
    def of(cls, ids: pa.Array) -> IdRange:
        keys = as_key(ids)
        if not len(keys):
            return cls()
        if keys.null_count:
            return cls(None)
        numbers = _as_integers(keys)
        if numbers is not None:
            return cls("int", int(numbers.min()), int(numbers.max()))
        if not is_text_type(keys.type):
            return cls(None)
        import pyarrow.compute as pc

        extremes = pc.min_max(keys)
        return cls("text", extremes["min"].as_py(), extremes["max"].as_py())

    def merge(self, other: IdRange) -> IdRange:
        if self.kind == "":
            return other
        if other.kind == "":
            return self
        if self.kind is None or self.kind != other.kind:
            return IdRange(None)
        return IdRange(self.kind, min(self.low, other.low), max(self.high, other.high))


def apart(ranges: Sequence[IdRange]) -> bool:
    """Whether no two of these ranges of ids overlap (so no id is in two of them)."""
    held = [r for r in ranges if r.kind != ""]
    if any(r.kind is None for r in held) or len({r.kind for r in held}) > 1:
        return False
    held.sort(key=lambda r: r.low)
    return all(a.high < b.low for a, b in itertools.pairwise(held))


@dataclass(frozen=True)
class IdFacts:
    """What the client learns of one part's ids: its rows, the id column's type, the empty
    ids (how many, the first one's row in the part) and whether every id reads as an
    integer."""

    rows: int
    kind: pa.DataType
    nulls: int
    first_null: int | None
    integral: bool


@dataclass
class Piece:
    """Some rows of one input: their ids (as compared), their rows over the whole input,
    and of the targets, their columns."""

    keys: pa.Array
    rows: np.ndarray
    columns: dict[str, pa.Array] = field(default_factory=dict)


@dataclass
class Share:
    """A prediction part's rows in one bucket: their rows within the part, and their
    targets (the columns, and the row of each over the whole target input)."""

    local: np.ndarray
    rows: np.ndarray
    columns: dict[str, pa.Array]


class PartIds:
    """One part's id column as read (and, of the targets, the ``columns`` the evaluation
    reads). Its rows are counted from 0 within the part until :meth:`split` is told where
    the part starts over the whole input."""

    def __init__(
        self, table: InputTable, id_column: str, columns: tuple[list[str], list[str], list[str]]
    ) -> None:
        numeric, other, text = columns
        read = table.read(numeric, [id_column, *other], [id_column, *text])
        self.columns = {name: column.combine_chunks() for name, column in read.items()}
        self.ids: pa.Array = self.columns[id_column]
        if id_column not in (*numeric, *other):
            del self.columns[id_column]
        as_key(self.ids, id_column, table.label)  # (ids of a type that can be compared)

    def facts(self) -> IdFacts:
        """The facts of the part's ids (``first_null`` counted within the part)."""
        nulls = self.ids.null_count
        first = int(np.argmax(to_numpy(self.ids.is_null()))) if nulls else None
        integral = not nulls and _as_integers(as_key(self.ids)) is not None
        return IdFacts(len(self.ids), self.ids.type, nulls, first, integral)

    def value(self, row: int) -> pa.Array:
        """The id of the part's ``row``, as an array of one."""
        return self.ids.slice(row, 1)

    def split(self, integral: bool, buckets: int, start: int) -> list[Piece]:
        """This part's rows in ``buckets`` pieces, by a hash of the id (integers: ``integral``
        when every id of both inputs is one; else the text of each), numbered from the
        part's ``start`` over the whole input."""
        keys = as_key(self.ids)
        numbers = _as_integers(keys) if integral else None
        if numbers is not None:
            compared: pa.Array = pa.array(numbers, pa.int64())
            hashes = numbers
        else:
            compared = keys.cast(pa.string())
            hashes = _text_hashes(compared)
        with np.errstate(over="ignore"):
            spread = (hashes.view(np.uint64) * _SPREAD) >> np.uint64(32)
        small = np.uint16 if buckets <= 1 << 16 else np.intp  # (a radix sort: 16 bits)
        bucket = (spread % np.uint64(buckets)).astype(small)
        order = np.argsort(bucket, kind="stable")
        bounds = np.searchsorted(bucket[order], np.arange(buckets + 1))
        pieces = []
        for b in range(buckets):
            index = order[bounds[b] : bounds[b + 1]]
            taken = pa.array(index, pa.int64())
            columns = {name: column.take(taken) for name, column in self.columns.items()}
            pieces.append(Piece(compared.take(taken), start + index, columns))
        return pieces


@dataclass(frozen=True)
class Repeats:
    """The ids of one input, in one bucket or more, that appear more than once: how many,
    and the rows (the first :data:`QUOTED`) of the one that appears first."""

    n: int = 0
    rows: tuple[int, ...] = ()

    def merge(self, other: Repeats) -> Repeats:
        first = min((self, other), key=lambda r: r.rows[0] if r.rows else np.inf)
        return Repeats(self.n + other.n, first.rows)


@dataclass(frozen=True)
class Missing:
    """Ids of one input that the other lacks: how many, and the first one's row."""

    n: int = 0
    row: int | None = None

    @classmethod
    def of(cls, mask: np.ndarray, rows: np.ndarray) -> Missing:
        if not mask.any():
            return cls()
        return cls(int(np.count_nonzero(mask)), int(rows[mask].min()))

    def merge(self, other: Missing) -> Missing:
        firsts = [m.row for m in (self, other) if m.row is not None]
        return Missing(self.n + other.n, min(firsts) if firsts else None)


@dataclass(frozen=True)
class BucketFacts:
    """What is wrong with the ids of one bucket (or, merged, of all): repeats on each
    side, then ids that the other side lacks."""

    pred: Repeats = Repeats()
    target: Repeats = Repeats()
    no_target: Missing = Missing()  # prediction ids that no target has
    no_pred: Missing = Missing()  # target ids that no prediction has

    def merge(self, other: BucketFacts) -> BucketFacts:
        return BucketFacts(
            self.pred.merge(other.pred),
            self.target.merge(other.target),
            self.no_target.merge(other.no_target),
            self.no_pred.merge(other.no_pred),
        )

    @property
    def wrong(self) -> bool:
        return bool(self.pred.n or self.target.n or self.no_target.n or self.no_pred.n)


@dataclass
class Bucket:
    """A joined bucket: its facts and, when they are right, for each prediction part
    (by index) the targets of that part's rows in the bucket."""

    facts: BucketFacts
    shares: dict[int, Share] = field(default_factory=dict)

    def share(self, part: int) -> Share | None:
        return self.shares.get(part)


def repeats(keys: pa.Array, rows: np.ndarray) -> Repeats:
    """The ids that appear more than once among ``keys`` (of the input's ``rows``)."""
    import pyarrow.compute as pc

    counts = pc.value_counts(keys)
    repeated = counts.filter(pc.greater(counts.field("counts"), 1))
    if not len(repeated):
        return Repeats()
    where = np.flatnonzero(to_numpy(pc.is_in(keys, value_set=repeated.field("values"))))
    first = where[np.argmin(rows[where])]
    same = np.flatnonzero(to_numpy(pc.equal(keys, keys[int(first)])))
    return Repeats(len(repeated), tuple(int(r) for r in np.sort(rows[same])[:QUOTED]))


def _concat(pieces: Sequence[Piece]) -> Piece:
    """One piece of the rows of several."""
    keys = pa.concat_arrays([p.keys for p in pieces])
    return Piece(keys, np.concatenate([p.rows for p in pieces]), _columns(pieces))


def _columns(pieces: Sequence[Piece | Share]) -> dict[str, pa.Array]:
    """The columns of several pieces, end to end, each in one type (see one_type)."""
    names = pieces[0].columns
    return {n: pa.concat_arrays(one_type([p.columns[n] for p in pieces])) for n in names}


def unique_bucket(pieces: Sequence[Piece]) -> Repeats:
    """The repeats among the ids of one input's pieces of a bucket (at once, by the index
    of the local join, when there are none)."""
    whole = _concat(pieces)
    if IdIndex(whole.keys, whole.keys.type, "", "").unique:
        return Repeats()
    return repeats(whole.keys, whole.rows)


def join_bucket(preds: Sequence[Piece], targets: Sequence[Piece], starts: Sequence[int]) -> Bucket:
    """Join the predictions' and the targets' pieces of one bucket: what is wrong with
    their ids, or each prediction part's share (``starts``: the first row of each part).

    The index of the local join (:class:`~lossctl.io.ids.IdIndex`) matches them; when a
    prediction finds no target, or one target is found twice, :func:`_wrong` says what is
    wrong as align_ids would."""
    pred, target = _concat(preds), _concat(targets)
    index = IdIndex(target.keys, pred.keys.type, "", "")
    found = index.find(pred.keys) if index.unique else None
    if (
        found is None
        or len(found) != len(target.keys)
        or (found < 0).any()
        or np.bincount(found, minlength=len(target.keys)).max(initial=0) > 1
    ):
        facts, found = _wrong(pred, target)
        if facts.wrong:
            return Bucket(facts)
    assert found is not None
    part = np.searchsorted(np.asarray(starts), pred.rows, side="right") - 1
    order = np.argsort(part, kind="stable")
    bounds = np.searchsorted(part[order], np.arange(len(starts) + 1))
    shares = {}
    for k in map(int, np.flatnonzero(np.diff(bounds))):
        mine = order[bounds[k] : bounds[k + 1]]
        taken = pa.array(found[mine], pa.int64())
        columns = {name: column.take(taken) for name, column in target.columns.items()}
        shares[k] = Share(pred.rows[mine] - starts[k], target.rows[found[mine]], columns)
    return Bucket(BucketFacts(), shares)


def _wrong(pred: Piece, target: Piece) -> tuple[BucketFacts, np.ndarray]:
    """What is wrong with the ids of a bucket, found as align_ids finds it (repeats on
    either side first, then ids on one side only); and each prediction's target."""
    import pyarrow.compute as pc

    facts = BucketFacts(repeats(pred.keys, pred.rows), repeats(target.keys, target.rows))
    if facts.wrong:
        return facts, np.empty(0, dtype=np.intp)
    index = pc.index_in(pred.keys, value_set=target.keys)
    found = to_numpy(index.fill_null(-1)).astype(np.intp)
    matched = np.zeros(len(target.keys), dtype=bool)
    matched[found[found >= 0]] = True
    no_target, no_pred = Missing.of(found < 0, pred.rows), Missing.of(~matched, target.rows)
    return BucketFacts(no_target=no_target, no_pred=no_pred), found


@dataclass
class AlignedTargets:
    """The targets of one prediction part's rows, in the order of its rows: the columns
    the evaluation reads, and the row of each over the whole target input."""

    columns: pa.Table
    rows: np.ndarray

    def table(self, label: str) -> InputTable:
        return ArrowTable(label, self.columns)


def aligned_targets(shares: Sequence[Share | None], n: int) -> AlignedTargets:
    """A prediction part's shares of the buckets (of its ``n`` rows), in the order of its
    rows."""
    held = [share for share in shares if share is not None]
    local = np.concatenate([share.local for share in held])
    order = np.argsort(local, kind="stable")
    if not np.array_equal(local[order], np.arange(n)):
        raise AssertionError("the buckets do not hold each row of the part once")
    taken = pa.array(order, pa.int64())
    columns = {name: column.take(taken) for name, column in _columns(held).items()}
    rows = np.concatenate([share.rows for share in held])
    return AlignedTargets(pa.table(columns), rows[order])


def shown_id(value: pa.Array, kinds: Sequence[pa.DataType], other: Sequence[pa.DataType]) -> Any:
    """An id as the local engine's messages quote it: in the type of its input's id
    column read whole (``kinds``: the types of its parts; text when they differ), or as
    text when the other input's (``other``) is of another type (see align_ids)."""
    kind, other_kind = _key_type(kinds), _key_type(other)
    target = pa.string() if kind != other_kind else kind
    return as_key(value).cast(target)[0].as_py()


def _key_type(kinds: Sequence[pa.DataType]) -> pa.DataType:
    kind = kinds[0] if len(set(kinds)) == 1 else pa.string()
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return pa.string() if is_text_type(kind) else kind
