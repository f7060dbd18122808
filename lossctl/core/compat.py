"""``--compat``: how each library turns probabilities into the logs of its losses.

The logits paths are the same everywhere (the exact stable forms); the libraries
differ on probabilities:

- ``sklearn`` (lossctl's default): clip to ``[eps, 1 - eps]`` (``--eps``, float64
  machine epsilon), multiclass rows used as given;
- ``torch``: no clip, each log clamped at -100 (``BCELoss``), multilabel mean;
- ``keras``: eps 1e-7; a multiclass row divided by its sum, then clipped to
  ``[eps, 1 - eps]``; binary probabilities clipped, no eps inside the log;
  multilabel mean;
- ``kaggle``: clip to ``[1e-15, 1 - 1e-15]``, then each multiclass row divided by its
  sum; multilabel mean (the mean column-wise log loss).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossctl.core.activations import FloatArray
from lossctl.core.spec import BoolArray, IntArray


@dataclass(frozen=True)
class Convention:
    """One library's way with probabilities.

    eps : clip to ``[eps, 1 - eps]`` (0: no clip)
    log_floor : clamp each log from below (None: no clamp)
    normalize : divide a multiclass row by its sum: ``"before"`` the clip, ``"after"`` it,
        or ``""`` (never)
    label_reduction : of multilabel losses
    """

    name: str
    eps: float
    log_floor: float | None = None
    normalize: str = ""
    label_reduction: str = "sum"


CONVENTIONS: dict[str, Convention] = {
    "torch": Convention("torch", 0.0, log_floor=-100.0, label_reduction="mean"),
    "keras": Convention("keras", 1e-7, normalize="before", label_reduction="mean"),
    "kaggle": Convention("kaggle", 1e-15, normalize="after", label_reduction="mean"),
}


def _clip(p: FloatArray, eps: float) -> tuple[FloatArray, BoolArray]:
    if eps == 0.0:
        return p, np.zeros(p.shape, dtype=bool)
    mask: BoolArray = (p < eps) | (p > 1.0 - eps)
    return np.clip(p, eps, 1.0 - eps), mask


def _log(p: FloatArray, floor: float | None) -> tuple[FloatArray, BoolArray]:
    """``log p``, clamped at ``floor``; and where the clamp acted."""
    with np.errstate(divide="ignore"):  # log(0) = -inf, then clamped
        logs = np.log(p)
    if floor is None:
        return logs, np.zeros(p.shape, dtype=bool)
    clamped: BoolArray = logs < floor
    return np.maximum(logs, floor), clamped


def _rows(mask: BoolArray) -> BoolArray:
    rows: BoolArray = mask if mask.ndim == 1 else np.any(mask, axis=1)
    return rows


def binary_neg_logs(
    p: FloatArray, convention: Convention
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """``(-log p, -log(1 - p))`` of each probability under ``convention``, and the rows
    whose clip or clamp changed a value. ``1 - p`` as the libraries write it (not log1p)."""
    pc, clipped = _clip(p, convention.eps)
    pos, low = _log(pc, convention.log_floor)
    neg, high = _log(1.0 - pc, convention.log_floor)
    return -pos, -neg, _rows(clipped | low | high)


def log_probs(p: FloatArray, convention: Convention) -> tuple[FloatArray, BoolArray]:
    """``log p`` of every class of every row under ``convention`` (a multiclass row divided
    by its sum before or after the clip), and the rows whose clip or clamp changed a value."""
    if convention.normalize == "before":
        p = p / np.sum(p, axis=1, keepdims=True)
    pc, clipped = _clip(p, convention.eps)
    if convention.normalize == "after":
        pc = pc / np.sum(pc, axis=1, keepdims=True)
    logs, low = _log(pc, convention.log_floor)
    return logs, _rows(clipped | low)


def class_neg_log(
    p: FloatArray, y_index: IntArray, convention: Convention
) -> tuple[FloatArray, BoolArray]:
    """``-log p[y]`` under ``convention``, and the rows whose clip or clamp changed a value
    (every class counts where the row is divided by its sum)."""
    logs, changed = log_probs(p, convention)
    picked: FloatArray = -np.take_along_axis(logs, y_index[:, None], axis=1)[:, 0]
    if not convention.normalize:  # only p[y] enters the loss
        only = p[np.arange(p.shape[0]), y_index][:, None]
        _, changed = log_probs(only, convention)
    return picked, changed
