"""What the peer scripts share: the command line, eps and the column conventions.

Each data file has an ``id`` column; every other column of a predictions file is a
prediction (class probabilities in class order for multiclass) and every other column of
a targets file is a target (one integer ``label`` column for multiclass). Kept free of
heavy imports so that it does not add to any peer's start-up time.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

TASKS = ("multiclass", "binary", "multilabel", "regression")
ID = "id"
LOSS = "loss"  # the per-sample loss column of --output
EPS = sys.float_info.epsilon  # float64 machine epsilon; probabilities are clipped to [EPS, 1-EPS]
SUFFIX = "_true"  # added to target columns whose names clash with prediction columns


def parse_args(description: str | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--task", choices=TASKS, required=True)
    parser.add_argument(
        "--output", help="also write the per-sample losses (id, loss) to this .parquet file"
    )
    parser.add_argument("pred", help="predictions: a .csv or .parquet file, a directory or a glob")
    parser.add_argument("true", help="targets: the same")
    return parser.parse_args()


def files(path: str) -> list[str]:
    """The files that ``path`` names: itself, or those in a directory or matching a glob."""
    if os.path.isdir(path):
        path = os.path.join(path, "*")
    elif not any(c in path for c in "*?["):
        return [path]
    found = sorted(glob.glob(path))
    if not found:
        sys.exit(f"error: no files match {path}")
    return found


def value_columns(pred: list[str], true: list[str]) -> tuple[list[str], list[str]]:
    """Prediction and target column names as they are after joining on ``id``."""
    targets = [c + SUFFIX if c in pred else c for c in true if c != ID]
    return [c for c in pred if c != ID], targets


def per_sample(task: str, p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each row's loss from predictions ``p`` and targets ``y``, in NumPy (imported here)."""
    import numpy as np

    if task == "regression":
        out: np.ndarray = (p[:, 0] - y[:, 0]) ** 2
    elif task == "multiclass":
        picked = p[np.arange(len(p)), y[:, 0].astype(np.intp)]
        out = -np.log(np.clip(picked, EPS, 1 - EPS))
    else:  # binary, multilabel: BCE summed over the columns
        p = np.clip(p, EPS, 1 - EPS)
        out = -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p), axis=1)
    return out


def check_rows(joined: int, expected: int) -> None:
    if joined != expected:
        sys.exit(f"error: {expected - joined} of {expected} predictions have no target")
