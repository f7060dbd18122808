"""The rows of PREDICTIONS and TARGETS that belong together, streamed in chunks.

Three ways to pair rows, each a generator of :class:`Chunk`:

- one file: the targets are columns of the predictions' rows;
- by position: row i of each file, read in lockstep;
- by id: first *in step* (both files list the same ids in the same strictly
  increasing order, the usual case): read in lockstep, in bounded memory. Ids
  that differ in the first chunk turn the join *by hash* at once: the target
  side's id, target, weight and grouping columns are read whole and indexed,
  and the predictions stream past the index. Memory then grows with the number
  of target rows (the limit the README states), never with the predictions.
  Ids that differ further down raise :class:`OutOfStep`, and the caller starts
  again by hash.

Each side is read ahead in a thread (pyarrow parses without the GIL), so the
two files are parsed at once, while the chunks before are being evaluated.
"""

from __future__ import annotations

import contextlib
import itertools
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from lossctl.core.profiles import Rows
from lossctl.core.sides import Side
from lossctl.errors import HeaderOnly, LengthMismatch
from lossctl.io.columns import from_numpy, one_type
from lossctl.io.ids import IdIndex, IdsInStep, OutOfStep, align_ids, as_key
from lossctl.io.table import Batch, InputTable, gather, is_number
from lossctl.plan import ColumnPlan


class Apart(Exception):
    """The companion input does not follow the predictions row for row."""


@dataclass
class Chunk:
    """Rows of both inputs that belong together.

    pred, target : the columns read from each file (the same dict for one file)
    pred_rows, target_rows : where the rows come from, as :data:`Rows` says
        (counted from 0 over the whole input, across its parts)
    companion : the same rows of the companion input (another model's predictions)
    """

    pred: dict[str, pa.Array]
    target: dict[str, pa.Array]
    pred_rows: int
    target_rows: Rows
    companion: dict[str, pa.Array] | None = None


@dataclass(frozen=True)
class Companion:
    """Another model's predictions, read beside the predictions when they follow them row
    for row (by position, or with the same ids in the same order): ``columns`` and the
    ``id`` column of ``table``."""

    table: InputTable
    columns: tuple[str, ...]
    id: str | None


@dataclass
class _Reading:
    """What to read of one input, and how far it has got."""

    table: InputTable
    numeric: list[str]
    other: list[str]
    text: list[str]
    rows: int
    starts: list[int] = field(default_factory=list)  # first row of each part
    n: int = 0

    def batches(self) -> _Stream:
        """Every batch, read ahead from now on (use it in a ``with``)."""
        return _Stream(self)

    def read(self) -> dict[str, pa.ChunkedArray]:
        """Every row, whole: ``starts`` and ``n`` as after streaming them."""
        with self.batches() as stream:
            return gather(stream, [*self.numeric, *self.other])

    def side(self) -> Side:
        return Side(self.table.label, tuple(self.table.parts), tuple(self.starts))


class _Stream:
    """The batches of a reading, read ahead in a thread that starts at once (so that
    both files are being parsed before the first chunk is asked for). The reading's
    ``starts`` and ``n`` follow the batches handed out: ``n`` counts the rows before the
    batch handed out last."""

    def __init__(self, reading: _Reading) -> None:
        self._reading = reading
        self._prefetch = _Prefetch(
            reading.table.batches(reading.numeric, reading.other, reading.text, reading.rows)
        )
        self._items = iter(self._prefetch)
        self._held = 0  # rows of the batch handed out last, counted at the next one

    def __iter__(self) -> _Stream:
        return self

    def __next__(self) -> Batch:
        reading = self._reading
        reading.n += self._held
        self._held = 0
        batch: Batch = next(self._items)
        while len(reading.starts) <= batch.part:
            reading.starts.append(reading.n - batch.start)
        self._held = batch.num_rows
        return batch

    def __enter__(self) -> _Stream:
        return self

    def __exit__(self, *error: object) -> None:
        self._prefetch.close()


class Aligner:
    """Pairs the rows of the inputs that ``plan`` names, chunk by chunk.

    ``hashed`` joins by id through an index of the target side from the start
    (after :class:`OutOfStep`).
    """

    def __init__(
        self,
        preds: InputTable,
        targets: InputTable | None,
        plan: ColumnPlan,
        *,
        rows: int,
        hashed: bool = False,
        companion: Companion | None = None,
    ) -> None:
        weight = [plan.weight] if plan.weight is not None else []
        single = targets is None
        self.plan = plan
        self.hashed = hashed
        self.pred = _Reading(
            preds,
            numeric=[*plan.pred, *([] if plan.weight_in_targets else weight)],
            other=_unique(
                plan.pred_id,
                *(plan.target if single else []),
                plan.by if not plan.by_in_targets else None,
            ),
            text=_unique(plan.pred_id),
            rows=rows,
        )
        self.target = self.pred
        if targets is not None:
            self.target = _Reading(targets, *target_columns(plan), rows=rows)
        self.companion: _Reading | None = None
        self.companion_id = None if companion is None else companion.id
        if companion is not None:
            ids = _unique(companion.id)
            self.companion = _Reading(companion.table, list(companion.columns), ids, ids, rows)

    def chunks(self) -> Iterator[Chunk]:
        if self.companion is not None and (self.target is self.pred or self.hashed):
            raise Apart  # read beside an id join by hash, or a single file: not row for row
        if self.target is self.pred:
            with self.pred.batches() as batches:
                for batch in batches:
                    yield Chunk(batch.columns, batch.columns, self.pred.n, self.pred.n)
            self._check_rows()
        elif self.plan.join and self.hashed:
            yield from self._by_hash()
        else:
            yield from self._in_step()

    def _in_step(self) -> Iterator[Chunk]:
        """Row i of each file, in lockstep; by id, as long as the ids agree and increase.

        Ids out of step in the first chunk hand the predictions, as read so far, over to
        the hash join (the usual case of a target file in another order); later, nothing
        can be taken back: :class:`OutOfStep` makes the caller start again.
        """
        ids = IdsInStep()
        short = False
        first: Batch | None = None  # the predictions' first batch, for the hash join
        with contextlib.ExitStack() as stack:
            batches = stack.enter_context(self.pred.batches())
            target_stream = stack.enter_context(self.target.batches())
            targets = _Cursor(target_stream)
            beside = None
            if self.companion is not None:
                beside = _Cursor(stack.enter_context(self.companion.batches()))
            if self.plan.join:
                import pyarrow.compute  # noqa: F401 (for the id checks: loaded while both files are parsed)
            for batch in batches:
                if short:
                    continue  # the targets ran out: count the predictions' rows
                start = targets.taken
                columns = targets.take(batch.num_rows)
                if columns is None:
                    short = True
                    continue
                if self.plan.join:
                    assert self.plan.pred_id is not None and self.plan.target_id is not None
                    try:
                        ids.check(batch.columns[self.plan.pred_id], columns[self.plan.target_id])
                    except OutOfStep:
                        if start > 0:
                            raise
                        first = batch
                        break
                yield Chunk(batch.columns, columns, self.pred.n, start, self._beside(beside, batch))
            if beside is not None and (first is not None or beside.more()):
                raise Apart
            if first is None and (short or targets.more()):
                if self.plan.join:
                    raise OutOfStep  # ids on one side only: the hash join says which
                targets.rest()  # (the stream counts the rows in self.target.n)
            if first is not None:
                target_stream.__exit__(None)  # (stopped: the targets are read again, whole)
                self.target.starts, self.target.n = [], 0
                yield from self._past_index(itertools.chain([first], batches))
                return
        if not ids.unique():
            raise OutOfStep  # an id twice (or two ids with one hash): the hash join says which
        self._check_rows()

    def _beside(self, beside: _Cursor | None, batch: Batch) -> dict[str, pa.Array] | None:
        """The companion's rows of the predictions' ``batch``, when they are the same rows."""
        if beside is None:
            return None
        columns = beside.take(batch.num_rows)
        if columns is None:
            raise Apart
        pred_id, own_id = self.plan.pred_id, self.companion_id
        if self.plan.join and (own_id is None or pred_id is None):
            raise Apart  # matched by id, and the companion has none
        if own_id is not None and pred_id is not None:
            a, b = as_key(batch.columns[pred_id]), as_key(columns[own_id])
            if a.type != b.type:
                a, b = a.cast(pa.string()), b.cast(pa.string())
            if not a.equals(b):
                raise Apart
        return columns

    def _by_hash(self) -> Iterator[Chunk]:
        with self.pred.batches() as batches:  # read ahead while the targets are read whole
            yield from self._past_index(batches)

    def _past_index(self, batches: Iterator[Batch]) -> Iterator[Chunk]:
        """Index the target side's ids (read whole), and stream the predictions past it."""
        plan = self.plan
        assert plan.pred_id is not None and plan.target_id is not None
        reading = self.target
        whole = {name: column.combine_chunks() for name, column in reading.read().items()}
        t_ids = whole[plan.target_id]
        used = {*plan.target, plan.weight, plan.by}  # (the ids are not, once indexed)
        whole = {name: column for name, column in whole.items() if name in used}
        index: IdIndex | None = None
        matched = np.zeros(reading.n, dtype=bool)
        for batch in batches:
            p_ids = batch.columns[plan.pred_id]
            if index is None:
                as_key(p_ids, plan.pred_id, self.pred.table.label)  # ids of a usable type?
                if t_ids.null_count or reading.n == 0:
                    self._explain_ids(t_ids)
                index = IdIndex(t_ids, p_ids.type, plan.target_id, reading.table.label)
                if not index.unique:
                    self._explain_ids(t_ids)
            found = index.find(p_ids)
            if (found < 0).any() or matched[found].any():
                self._explain_ids(t_ids)
            matched[found] = True
            taken = from_numpy(found)
            columns = {name: column.take(taken) for name, column in whole.items()}
            yield Chunk(batch.columns, columns, self.pred.n, found)
        # Each prediction found a target row that no chunk before had: if there are as
        # many predictions as targets and every target was found, no row was found twice.
        if self.pred.n != reading.n or not matched.all():
            self._explain_ids(t_ids)

    def _explain_ids(self, target_ids: pa.Array) -> None:
        """Something is wrong with the ids: read them whole, and let align_ids say what."""
        plan = self.plan
        assert plan.pred_id is not None and plan.target_id is not None
        ids = _Reading(self.pred.table, [], [plan.pred_id], [plan.pred_id], self.pred.rows)
        pred_ids = ids.read()[plan.pred_id]
        self.pred.n = ids.n
        self._check_rows()
        align_ids(
            pred_ids,
            pa.chunked_array([target_ids]),
            column=plan.pred_id,
            pred=ids.side(),
            target=self.target.side(),
        )
        raise AssertionError("the ids were found wrong, then right")  # pragma: no cover

    def _check_rows(self) -> None:
        """No file may be empty; aligned by row order, both need the same rows."""
        for reading in (self.pred, self.target):
            if reading.n == 0:
                raise HeaderOnly(
                    "has a header but no data rows",
                    file=reading.table.label,
                    hint="Give at least one row",
                )
        if not self.plan.join and self.pred.n != self.target.n:
            hint = (
                "Aligned by row order, both files need the same rows; or align them by "
                "an id column with --id"
            )
            shorter, longer = sorted((self.pred, self.target), key=lambda reading: reading.n)
            names = shorter.table.names
            if (
                longer.n - shorter.n == 1
                and shorter.table.has_header
                and all(map(is_number, names))
            ):
                hint = (
                    f"If the first line of {shorter.table.label} is data, not column names, "
                    "give --no-header"
                )
            elif longer.n - shorter.n == 1 and longer.table.has_header is False:
                hint = (
                    f"If the first line of {longer.table.label} names its columns, "
                    "leave out --no-header"
                )
            raise LengthMismatch(
                f"{self.pred.table.label} has {self.pred.n} rows but "
                f"{self.target.table.label} has {self.target.n}",
                hint=hint,
            )


def target_columns(plan: ColumnPlan) -> tuple[list[str], list[str], list[str]]:
    """What is read of TARGETS (a file of its own): the numeric columns (the weights, if
    there), the others (targets, id, ``--by`` if there) and those of them kept as text."""
    return (
        [plan.weight] if plan.weight is not None and plan.weight_in_targets else [],
        _unique(*plan.target, plan.target_id, plan.by if plan.by_in_targets else None),
        _unique(plan.target_id),
    )


def _unique(*names: str | None) -> list[str]:
    """The names given, once each, in order (a --by column may also be a target)."""
    return [name for name in dict.fromkeys(names) if name is not None]


class _Cursor:
    """Takes rows from a stream of batches, however its batches are cut."""

    def __init__(self, batches: Iterator[Batch]) -> None:
        self._batches = batches
        self._held: list[dict[str, pa.Array]] = []
        self._offset = 0  # rows of _held[0] already taken
        self.taken = 0  # rows taken so far

    def _fill(self, n: int) -> int:
        have = sum(len(next(iter(b.values()))) for b in self._held) - self._offset
        while have < n:
            batch = next(self._batches, None)
            if batch is None:
                break
            self._held.append(batch.columns)
            have += batch.num_rows
        return have

    def take(self, n: int) -> dict[str, pa.Array] | None:
        """The next ``n`` rows; None if fewer are left."""
        if self._fill(n) < n:
            return None
        parts: list[dict[str, pa.Array]] = []
        need = n
        while need:
            head = self._held[0]
            size = len(next(iter(head.values()))) - self._offset
            used = min(size, need)
            parts.append({k: v.slice(self._offset, used) for k, v in head.items()})
            need -= used
            if used == size:
                self._held.pop(0)
                self._offset = 0
            else:
                self._offset += used
        self.taken += n
        if len(parts) == 1:
            return parts[0]
        return {k: _concat([p[k] for p in parts]) for k in parts[0]}

    def more(self) -> bool:
        return self._fill(1) > 0

    def rest(self) -> None:
        """Read to the end, keeping nothing."""
        self._held.clear()
        for _ in self._batches:
            pass


def _concat(arrays: list[pa.Array]) -> pa.Array:
    return pa.concat_arrays(one_type(arrays))


class _Prefetch:
    """Run an iterator a few items ahead in a thread; errors come out where they belong.

    ``close`` stops the thread and waits for it: pyarrow must never be left
    working in a thread while the process exits.
    """

    _DONE = object()

    def __init__(self, items: Iterator[Any], depth: int = 2) -> None:
        self._items = items
        self._queue: queue.Queue[Any] = queue.Queue(depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for item in self._items:
                if not self._put((True, item)):
                    return
            self._put((True, self._DONE))
        except BaseException as error:  # handed over to the consumer
            self._put((False, error))
        finally:
            close = getattr(self._items, "close", None)
            if close is not None:
                close()

    def _put(self, item: tuple[bool, Any]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[Any]:
        while True:
            ok, item = self._get()
            if not ok:
                raise item
            if item is self._DONE:
                return
            yield item

    def _get(self) -> tuple[bool, Any]:
        while True:  # a timeout, so that Ctrl-C is heard while waiting
            try:
                result: tuple[bool, Any] = self._queue.get(timeout=0.1)
                return result
            except queue.Empty:
                if not self._thread.is_alive() and self._queue.empty():
                    return True, self._DONE
                continue

    def close(self) -> None:
        self._stop.set()
        pending: BaseException | None = None
        while self._thread.is_alive():
            try:
                self._thread.join(0.1)
            except BaseException as error:  # Ctrl-C or SIGTERM here: the thread ends first
                pending = pending or error
        if pending is not None:
            raise pending
