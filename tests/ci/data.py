"""Synthetic inputs for the CI-gate tests, written as CSV with every digit kept.

The regression pair is built so that its numbers are exact in binary floating
point: the candidate's errors are 1 and 2 in turn (squared errors 1 and 4, mean
2.5), the baseline's 1 and 1.5 (squared errors 1 and 2.25, mean 1.625). So the
candidate is worse by exactly 0.875, which is 53.846...% of the baseline's loss.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np


def write_csv(path: Path, columns: Mapping[str, Sequence[object] | np.ndarray]) -> str:
    """Write ``columns`` as CSV (floats as their shortest exact repr); return the path."""
    names = list(columns)
    values = [list(columns[name]) for name in names]
    lines = [",".join(names)]
    for row in zip(*values, strict=True):
        lines.append(",".join(_text(v) for v in row))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _text(value: object) -> str:
    if isinstance(value, float | np.floating):
        return repr(float(value))
    return str(value)


@dataclass(frozen=True)
class Pair:
    """A candidate and a baseline prediction file for the same targets, and their truth."""

    targets: str
    preds: str
    base: str
    y: np.ndarray
    pred: np.ndarray
    base_pred: np.ndarray
    ids: list[str]


N_EXACT = 40
CAND_MSE = 2.5
BASE_MSE = 1.625
EXACT_DIFFERENCE = 0.875


def exact_regression_pair(directory: Path, n: int = N_EXACT) -> Pair:
    """The regression pair described in the module docstring (n even)."""
    i = np.arange(n)
    y = (10.0 + (i * 7) % 23).astype(np.float64)  # integers 10..32, never only 0/1
    sign = np.where(i % 4 < 2, 1.0, -1.0)
    cand_err = np.where(i % 2 == 0, 1.0, 2.0) * sign
    base_err = np.where(i % 2 == 0, 1.0, 1.5) * -sign
    ids = [f"r{k:04d}" for k in range(n)]
    pred, base_pred = y + cand_err, y + base_err
    directory.mkdir(parents=True, exist_ok=True)
    return Pair(
        targets=write_csv(directory / "targets.csv", {"id": ids, "price": y}),
        preds=write_csv(directory / "preds.csv", {"id": ids, "price": pred}),
        base=write_csv(directory / "base.csv", {"id": ids, "price": base_pred}),
        y=y,
        pred=pred,
        base_pred=base_pred,
        ids=ids,
    )


def noisy_regression_pair(directory: Path, n: int, *, seed: int, shift: float) -> Pair:
    """A regression pair whose per-row squared errors differ by ``shift`` on average,
    exactly over the sample: baseline error^2 = candidate error^2 - shift + u, where
    the noise u comes in +-pairs and so sums to zero (n even)."""
    rng = np.random.default_rng(seed)
    y = np.round(rng.normal(100.0, 15.0, n), 3)
    cand_sq = rng.uniform(2.0, 4.0, n)
    half = rng.uniform(0.0, 0.9, n // 2)
    u = np.concatenate((half, -half))
    base_sq = cand_sq - shift + u
    cand_err = np.sqrt(cand_sq) * rng.choice([-1.0, 1.0], n)
    base_err = np.sqrt(base_sq) * rng.choice([-1.0, 1.0], n)
    ids = [f"s{k:06d}" for k in range(n)]
    directory.mkdir(parents=True, exist_ok=True)
    pred, base_pred = y + cand_err, y + base_err
    return Pair(
        targets=write_csv(directory / "targets.csv", {"id": ids, "y": y}),
        preds=write_csv(directory / "preds.csv", {"id": ids, "y": pred}),
        base=write_csv(directory / "base.csv", {"id": ids, "y": base_pred}),
        y=y,
        pred=pred,
        base_pred=base_pred,
        ids=ids,
    )
