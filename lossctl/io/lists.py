"""List columns of numbers (``"logits": [0.1, 2.3, -1.0]``) as K columns of numbers.

Hugging Face style prediction files hold the scores of a row as one list: JSON Lines
dumped from ``Trainer.predict`` outputs, Parquet with a ``list<double>`` or
``fixed_size_list<double, K>`` column. :class:`lossctl.io.table.InputTable` shows
such a column ``logits`` as the K columns ``logits[0]`` ... ``logits[K-1]`` (the
index as Python and NumPy write it, in the order of the list), so that the rest of
lossctl sees ordinary columns. K is the size of a ``fixed_size_list``; of a variable
list, the length of its first list that is not null. A list of another length is
:class:`~lossctl.errors.RaggedList`. A null inside a list is a missing value (NaN);
a null list is K missing values. A column of lists of anything but numbers
(text, structs), one whose first list is empty or whose lists are all null, and one named
``id`` (any case) stay one column, which lossctl refuses where it reads it.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa

from lossctl.errors import RaggedList
from lossctl.io.columns import is_number_type, to_numpy


def is_number_list(kind: pa.DataType) -> bool:
    """Whether a column of this type holds lists of numbers (or booleans)."""
    lists = pa.types.is_list(kind) or pa.types.is_large_list(kind)
    lists = lists or pa.types.is_fixed_size_list(kind)
    value = getattr(kind, "value_type", None)
    return bool(lists and value is not None and is_number_type(value))


def fixed_size(kind: pa.DataType) -> int | None:
    """K of a ``fixed_size_list`` type; None for a variable list."""
    return int(kind.list_size) if pa.types.is_fixed_size_list(kind) else None


def first_length(arrays: Iterable[pa.Array]) -> int | None:
    """The length of the first list that is not null in a column's batches (None if all
    are null)."""
    import pyarrow.compute as pc

    for data in arrays:
        lengths = pc.list_value_length(data).drop_null()
        if len(lengths):
            return int(lengths[0].as_py())
    return None


def item_names(column: str, k: int) -> list[str]:
    """The names of the K columns of a list column: ``column[0]`` ... ``column[K-1]``."""
    return [f"{column}[{i}]" for i in range(k)]


def split_list(label: str, column: str, data: pa.Array, k: int, start: int) -> list[pa.Array]:
    """A batch of a list column as K float64 columns (``start``: the row of the file
    where the batch begins, counted from 0); a list of another length than K is
    :class:`RaggedList`."""
    import pyarrow.compute as pc

    n = len(data)
    valid = np.ones(n, dtype=bool) if not data.null_count else to_numpy(data.is_valid())
    if not pa.types.is_fixed_size_list(data.type):
        lengths = to_numpy(pc.list_value_length(data))
        wrong = np.flatnonzero(valid & (lengths != k))
        if len(wrong):
            row = int(wrong[0])
            raise RaggedList(
                f"holds a list of length {int(lengths[row])}, where the first list has length {k}",
                file=label,
                column=column,
                row=start + row + 1,
                count=len(wrong),
                hint="Give every row a list of the same length",
            )
    matrix = np.full((n, k), np.nan)
    matrix[valid] = to_numpy(pc.list_flatten(data)).reshape(-1, k)  # (null lists left out)
    # (from the buffers: pa.array of a NumPy array imports pandas, which costs more than a
    # small file's evaluation)
    validity = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return [
        pa.Array.from_buffers(
            pa.float64(), n, [validity, pa.py_buffer(np.ascontiguousarray(matrix[:, i]))]
        )
        for i in range(k)
    ]
