"""The aligned rows as the core takes them: Arrow columns become NumPy arrays here.

No Arrow object leaves ``io``: a chunk's ids travel as :class:`ArrowLabels`,
which the core reads through its :class:`~lossctl.core.state.Labels` protocol
(one id as text, for the sample rows) and which ``io``'s writers unwrap.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa

from lossctl.core.chunk import Chunk, Groups
from lossctl.core.losses import IntArray
from lossctl.errors import UnsupportedColumnType
from lossctl.io.align import Aligner
from lossctl.io.columns import float_columns, from_numpy, to_float, to_numpy, to_target


class ArrowLabels:
    """The ids of some rows, as read (see :class:`lossctl.core.state.Labels`)."""

    def __init__(self, array: pa.Array | pa.ChunkedArray) -> None:
        self.array = array

    def __len__(self) -> int:
        return len(self.array)

    def text(self, i: int) -> str:
        return str(self.array[i].as_py())

    def take(self, index: IntArray) -> ArrowLabels:
        return ArrowLabels(self.array.take(from_numpy(index)))


def labels_to_numpy(labels: Sequence[ArrowLabels]) -> np.ndarray:
    """The ids of several chunks as one NumPy array (numbers, or Python objects)."""
    arrays = [a for label in labels for a in _chunks(label.array)]
    if not arrays:
        return np.empty(0, dtype=object)
    column = pa.chunked_array(arrays)
    return column.to_numpy() if column.null_count == 0 else np.array(column.to_pylist())


def _chunks(array: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    return array.chunks if isinstance(array, pa.ChunkedArray) else [array]


def group_values(data: pa.Array, column: str, label: str) -> Groups:
    """The ``--by`` column of one chunk as codes into its values, keyed by their text (a
    CSV column read as numbers in one block and as text in the next gives 0 and "0":
    one group)."""
    if pa.types.is_dictionary(data.type):
        data = data.cast(data.type.value_type)
    if pa.types.is_nested(data.type):
        raise UnsupportedColumnType(
            f"holds {data.type} values, which cannot be grouped",
            column=column,
            file=label,
            hint="Give --by a column of numbers, text or dates",
        )
    encoded = data.dictionary_encode()
    values: list[str | None] = [str(value) for value in encoded.dictionary.to_pylist()]
    indices = to_numpy(encoded.indices)
    if encoded.indices.null_count:
        indices = np.where(np.isnan(indices), len(values), indices)
        values.append(None)
    return Groups(indices.astype(np.intp), tuple(values))


def numpy_chunks(aligner: Aligner) -> Iterator[Chunk]:
    """The aligned chunks of ``aligner`` as :class:`~lossctl.core.state.Chunk`s."""
    plan = aligner.plan
    target_label = aligner.target.table.label
    for chunk in aligner.chunks():
        targets = [to_target(name, chunk.target[name], target_label) for name in plan.target]
        weights = None
        if plan.weight is not None:
            side = chunk.target if plan.weight_in_targets else chunk.pred
            weights = to_float(side[plan.weight])
        groups = None
        if plan.by is not None:
            by_side, by_label = (
                (chunk.target, target_label)
                if plan.by_in_targets
                else (chunk.pred, aligner.pred.table.label)
            )
            groups = group_values(by_side[plan.by], plan.by, by_label)
        ids = chunk.pred.get(plan.pred_id) if plan.pred_id is not None else None
        other = None
        if chunk.companion is not None and aligner.companion is not None:
            other = tuple(to_float(chunk.companion[name]) for name in aligner.companion.numeric)
        yield Chunk(
            pred=float_columns([chunk.pred[name] for name in plan.pred]),
            targets=tuple(column for column, _ in targets),
            target_missing=tuple(missing for _, missing in targets),
            weights=weights,
            groups=groups,
            labels=None if ids is None else ArrowLabels(ids),
            pred_rows=chunk.pred_rows,
            target_rows=chunk.target_rows,
            other=other,
        )
