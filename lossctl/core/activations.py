"""Numerically stable activations, in float64, along the last axis; and the two array
helpers that the losses and the running totals share (column-major stacking,
weighted column sums).

None of these functions form ``exp`` of a large positive number: every
exponent is made non-positive first, so logits of any finite size give finite
results without NumPy overflow warnings.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def stack_columns(columns: Sequence[FloatArray]) -> FloatArray:
    """The ``(n, K)`` matrix of K columns of n values, stored column by column.

    Every row-wise step (sums, maxima, the shift before ``exp``) then runs down
    contiguous columns, several times as fast as along short rows; the copy
    itself is K contiguous copies instead of an interleave.
    """
    matrix: FloatArray = np.vstack(columns).T
    return matrix


def weighted_sums(w: FloatArray, matrix: FloatArray) -> FloatArray:
    """``w @ matrix`` (one weighted sum per column), with NumPy's own pairwise sums.

    Not by BLAS: its threads would compete with the threads that parse the input
    (and spin while they wait), and its sums would depend on how many it runs.
    """
    sums: FloatArray = np.sum(w[:, None] * matrix, axis=0)
    return sums


def softplus(z: FloatArray) -> FloatArray:
    """``log(1 + exp(z))`` without overflow: ``max(z, 0) + log1p(exp(-|z|))``.

    >>> softplus(np.array([-1e4, 0.0, 1e4])).tolist()
    [0.0, 0.6931471805599453, 10000.0]
    """
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def sigmoid(z: FloatArray) -> FloatArray:
    """``1 / (1 + exp(-z))`` computed from ``exp(-|z|)`` so it never overflows."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softmax(z: FloatArray) -> FloatArray:
    """Row-wise softmax along the last axis; rows sum to 1."""
    shifted = np.exp(z - np.max(z, axis=-1, keepdims=True))
    result: FloatArray = shifted / np.sum(shifted, axis=-1, keepdims=True)
    return result
