"""Arrow columns to the NumPy arrays the core works on, and the id join."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from lossctl.core.activations import FloatArray
from lossctl.core.losses import IntArray
from lossctl.core.tasks import TargetColumn
from lossctl.errors import AlignmentError, ColumnError


def to_float(data: pa.ChunkedArray) -> FloatArray:
    """A float64 column as NumPy; nulls become NaN."""
    result: FloatArray = np.asarray(data.to_numpy(), dtype=np.float64)
    return result


def to_target(name: str, data: pa.ChunkedArray, label: str) -> tuple[TargetColumn, np.ndarray]:
    """A target column and its missing-value mask.

    Numbers and booleans become float64; text becomes codes into its distinct
    values (class names), each of which is also read as a number where it is one.
    """
    kind = data.type
    if pa.types.is_dictionary(kind):
        data, kind = data.cast(kind.value_type), kind.value_type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        encoded = data.combine_chunks().dictionary_encode()
        categories = tuple(str(c) for c in encoded.dictionary.to_pylist())
        missing = np.asarray(encoded.indices.is_null().to_numpy(zero_copy_only=False))
        codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False))
        codes = np.where(missing, 0, np.nan_to_num(codes)).astype(np.intp)
        numbers = np.array([_number(c) for c in categories] or [np.nan], dtype=np.float64)
        values = np.where(missing, np.nan, numbers[codes])
        empty = np.array([c.strip() == "" for c in categories] or [False])
        return TargetColumn(name, values, codes, categories), missing | empty[codes]
    if (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_null(kind)
    ):
        values = to_float(data.cast(pa.float64()))
        return TargetColumn(name, values), ~np.isfinite(values)
    raise ColumnError(
        f"holds {kind} values",
        file=label,
        column=name,
        hint="Targets must be numbers, true/false, or class names",
    )


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return np.nan


def align_ids(
    pred_ids: pa.ChunkedArray,
    target_ids: pa.ChunkedArray,
    *,
    column: str,
    pred_label: str,
    target_label: str,
) -> IntArray | None:
    """For each prediction row, the target row with the same id; None when already in order.

    Every id must appear exactly once on each side.
    """
    for ids, label in ((pred_ids, pred_label), (target_ids, target_label)):
        if ids.null_count:
            first = int(np.argmax(np.asarray(ids.is_null().to_numpy(zero_copy_only=False))))
            raise AlignmentError(
                "this id is empty",
                file=label,
                column=column,
                row=first + 1,
                count=ids.null_count,
                hint="Every row needs an id; or align by row order with --no-id",
            )
    if pred_ids.type != target_ids.type:
        pred_ids, target_ids = pred_ids.cast(pa.string()), target_ids.cast(pa.string())
    import pyarrow.compute as pc

    for ids, label in ((pred_ids, pred_label), (target_ids, target_label)):
        if pc.count_distinct(ids).as_py() != len(ids):
            counts = pc.value_counts(ids)
            repeated = counts.filter(pc.greater(counts.field("counts"), 1))
            example = repeated[0]["values"].as_py()
            rows = np.flatnonzero(
                np.asarray(pc.equal(ids, pa.scalar(example, ids.type)).to_numpy(False))
            )
            raise AlignmentError(
                f"{len(repeated)} ids appear more than once; the first, {example!r}, "
                f"is on rows {', '.join(str(r + 1) for r in rows[:5])}",
                file=label,
                column=column,
                hint="Every id must appear exactly once in each file",
            )
    if pred_ids.equals(target_ids):
        return None
    index = pc.index_in(pred_ids, value_set=target_ids)
    n_missing_targets = index.null_count
    n_missing_preds = len(target_ids) - (len(pred_ids) - n_missing_targets)
    if n_missing_targets or n_missing_preds:
        parts = []
        if n_missing_targets:
            row = int(np.argmax(np.asarray(index.is_null().to_numpy(zero_copy_only=False))))
            parts.append(
                f"{n_missing_targets} ids of {pred_label} are not in {target_label} "
                f"(first: {pred_ids[row].as_py()!r}, row {row + 1})"
            )
        if n_missing_preds:
            back = pc.is_in(target_ids, value_set=pred_ids)
            row = int(np.argmin(np.asarray(back.to_numpy(zero_copy_only=False))))
            parts.append(
                f"{n_missing_preds} ids of {target_label} are not in {pred_label} "
                f"(first: {target_ids[row].as_py()!r}, row {row + 1})"
            )
        raise AlignmentError(
            "; ".join(parts),
            column=column,
            hint="Every id must appear exactly once in each file; or align by row order "
            "with --no-id",
        )
    result: IntArray = np.asarray(index.to_numpy(zero_copy_only=False), dtype=np.intp)
    return result
