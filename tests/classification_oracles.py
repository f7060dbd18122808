"""Independent computations of the classification losses of ``--loss`` for
``tests/test_common.py``: the libraries' definitions written out with NumPy and SciPy
from probabilities (PyTorch ``BCEWithLogitsLoss(pos_weight=)`` and
``CrossEntropyLoss(label_smoothing=)``, torchvision ``sigmoid_focal_loss``, Lin et al.'s
softmax focal loss), and scikit-learn's ``hinge_loss``. Each takes the probabilities
(or scores) and the targets of a case, and its options."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.metrics import hinge_loss

EPS = float(np.finfo(np.float64).eps)


def per_column(value: Any, k: int) -> np.ndarray:
    """``"1,2,3"``, ``"a=1,b=2,c=3"`` (in the columns' order) or ``2.5``, one number per column."""
    values = np.array([float(v.split("=")[-1]) for v in str(value).split(",")])
    return np.broadcast_to(values, (k,)) if values.size == 1 else values


def weighted_bce(p: np.ndarray, y: np.ndarray, options: dict[str, Any]) -> np.ndarray:
    """``-(W y log p + (1 - y) log(1 - p))`` per value, p clipped to [eps, 1 - eps]."""
    k = 1 if p.ndim == 1 else p.shape[1]
    w = per_column(options.get("pos_weight", 1.0), k)
    w = w[0] if p.ndim == 1 else w
    pc = np.clip(p, EPS, 1.0 - EPS)
    result: np.ndarray = -(w * y * np.log(pc) + (1.0 - y) * np.log(1.0 - pc))
    return result


def sigmoid_focal(p: np.ndarray, y: np.ndarray, options: dict[str, Any]) -> np.ndarray:
    """torchvision's ``sigmoid_focal_loss`` per value, from probabilities."""
    pc = np.clip(p, EPS, 1.0 - EPS)
    ce = -(y * np.log(pc) + (1.0 - y) * np.log(1.0 - pc))
    p_t = p * y + (1.0 - p) * (1.0 - y)
    loss = ce * (1.0 - p_t) ** options.get("gamma", 2.0)
    if "alpha" in options:
        a = float(options["alpha"])
        loss = (a * y + (1.0 - a) * (1.0 - y)) * loss
    result: np.ndarray = loss
    return result


def softmax_focal(p: np.ndarray, y: np.ndarray, options: dict[str, Any]) -> np.ndarray:
    """``-alpha[y] (1 - p[y])^gamma log p[y]`` per sample; y class indices."""
    py = p[np.arange(y.size), y]
    loss = -((1.0 - py) ** options.get("gamma", 2.0)) * np.log(np.clip(py, EPS, 1.0 - EPS))
    if "alpha" in options:
        loss = loss * per_column(options["alpha"], p.shape[1])[y]
    result: np.ndarray = loss
    return result


def smoothed_ce(p: np.ndarray, y: np.ndarray, options: dict[str, Any]) -> np.ndarray:
    """The cross-entropy against ``(1 - s) onehot(y) + s / K``; y class indices."""
    s, k = options.get("label_smoothing", 0.0), p.shape[1]
    target = (1.0 - s) * np.eye(k)[y] + s / k
    result: np.ndarray = -np.sum(target * np.log(np.clip(p, EPS, 1.0 - EPS)), axis=1)
    return result


def hinge(scores: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``max(0, 1 - t f)`` per sample, t = -1/+1 for 0/1; its mean is scikit-learn's
    ``hinge_loss`` (which reads the classes from y_true: never of one sample alone)."""
    per_sample: np.ndarray = np.maximum(0.0, 1.0 - np.where(y > 0, 1.0, -1.0) * scores)
    if np.unique(y).size == 2:
        assert np.mean(per_sample) == pytest.approx(hinge_loss(y, scores), rel=1e-12)
    return per_sample


def soft_ce(p: np.ndarray, t: np.ndarray, options: dict[str, Any]) -> np.ndarray:
    """``-sum_k t'_k log p_k`` against class probabilities t, ``t' = (1 - s) t + s / K``."""
    s, k = options.get("label_smoothing", 0.0), p.shape[1]
    target = (1.0 - s) * t + s / k
    result: np.ndarray = -np.sum(target * np.log(np.clip(p, EPS, 1.0 - EPS)), axis=1)
    return result
