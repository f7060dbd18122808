"""Inputs split into parts, for the dask engine: every task, with weights and groups."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SIZES = (700, 1_300, 512, 900)


def write_parts(root: Path, name: str, frames: list[pd.DataFrame], ext: str = "parquet") -> str:
    folder = root / name
    folder.mkdir()
    for i, frame in enumerate(frames):
        path = folder / f"part-{i:02d}.{ext}"
        if ext == "parquet":
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False)
    return str(folder)


def task_frames(task: str, seed: int = 0) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """Predictions (with a weight ``w`` and a group ``g``) and targets, part by part."""
    rng = np.random.default_rng(seed)
    preds, targets = [], []
    for n in SIZES:
        extra = {"w": rng.uniform(0, 2, n), "g": rng.choice(["north", "south", "east"], n)}
        if task == "binary":
            pred = pd.DataFrame({"p": rng.uniform(0, 1, n)})
            target = pd.DataFrame({"y": rng.integers(0, 2, n)})
        elif task == "multiclass":
            z = rng.normal(size=(n, 3))
            pred = pd.DataFrame(z, columns=["a", "b", "c"])  # logits
            target = pd.DataFrame({"y": rng.choice(["a", "b", "c"], n)})
        elif task == "multilabel":
            pred = pd.DataFrame(rng.uniform(0, 1, (n, 3)), columns=["l0", "l1", "l2"])
            target = pd.DataFrame(rng.integers(0, 2, (n, 3)), columns=["l0", "l1", "l2"])
        else:
            pred = pd.DataFrame({"v": rng.normal(size=n)})
            target = pd.DataFrame({"t": rng.normal(size=n)})
        preds.append(pred.assign(**extra))
        targets.append(target)
    return preds, targets


def assert_same(a: Any, b: Any, path: str = "") -> None:
    """The same report: floats within 1e-12 relative (1e-12 absolute near 0)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), (path, a, b)
        for key in a:
            assert_same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), (path, a, b)
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12) or a == b, (path, a, b)
    else:
        assert a == b, (path, a, b)
