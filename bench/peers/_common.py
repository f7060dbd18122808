"""What the peer scripts share: the command line, eps and the column conventions.

Each data file has an ``id`` column; every other column of a predictions file is a
prediction (class probabilities in class order for multiclass) and every other column of
a targets file is a target (one integer ``label`` column for multiclass). Kept free of
heavy imports so that it does not add to any peer's start-up time.
"""

from __future__ import annotations

import argparse
import sys

TASKS = ("multiclass", "binary", "multilabel", "regression")
ID = "id"
EPS = sys.float_info.epsilon  # float64 machine epsilon; probabilities are clipped to [EPS, 1-EPS]
SUFFIX = "_true"  # added to target columns whose names clash with prediction columns


def parse_args(description: str | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--task", choices=TASKS, required=True)
    parser.add_argument("pred", help="predictions file (.csv or .parquet)")
    parser.add_argument("true", help="targets file (.csv or .parquet)")
    return parser.parse_args()


def value_columns(pred: list[str], true: list[str]) -> tuple[list[str], list[str]]:
    """Prediction and target column names as they are after joining on ``id``."""
    targets = [c + SUFFIX if c in pred else c for c in true if c != ID]
    return [c for c in pred if c != ID], targets


def check_rows(joined: int, expected: int) -> None:
    if joined != expected:
        sys.exit(f"error: {expected - joined} of {expected} predictions have no target")
