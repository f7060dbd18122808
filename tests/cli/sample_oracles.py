"""Oracles of the sample files' losses, computed with pandas, NumPy, SciPy and scikit-learn."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import log_softmax
from sklearn.metrics import log_loss

from tests.cli.helpers import (
    sample_path,
)

CLASSES = ["cat", "dog", "bird"]
GENRES = ["action", "comedy", "drama", "horror"]


# --------------------------------------------------------------------------- oracles


def aligned(pred_name: str, target_name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both sample files, the targets re-ordered by id into the predictions' order."""
    preds = pd.read_csv(sample_path(pred_name))
    targets = pd.read_csv(sample_path(target_name)).set_index("id").loc[preds["id"]]
    return preds, targets.reset_index()


def bce_from_logits(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-sample binary cross-entropy of a logit: softplus(z) - z*y, computed stably."""
    return np.logaddexp(0.0, z) - z * y


def binary_probs() -> np.ndarray:
    p, t = aligned("binary_probs.csv", "binary_labels.csv")
    y, q = t["churned"].to_numpy(), p["p_churn"].to_numpy()
    return np.array([log_loss([yi], [qi], labels=[0, 1]) for yi, qi in zip(y, q, strict=True)])


def binary_logits() -> np.ndarray:
    p, t = aligned("binary_logits.csv", "binary_labels.csv")
    return bce_from_logits(p["score"].to_numpy(), t["churned"].to_numpy())


def multiclass_y(t: pd.DataFrame) -> np.ndarray:
    return t["label"].map({c: i for i, c in enumerate(CLASSES)}).to_numpy()


def multiclass_probs() -> np.ndarray:
    p, t = aligned("multiclass_probs.csv", "multiclass_labels.csv")
    probs = p[CLASSES].to_numpy()
    return -np.log(probs[np.arange(len(probs)), multiclass_y(t)])


def multiclass_logits() -> np.ndarray:
    p, t = aligned("multiclass_logits.csv", "multiclass_labels.csv")
    logp = log_softmax(p[CLASSES].to_numpy(), axis=1)
    return -logp[np.arange(len(logp)), multiclass_y(t)]


def multilabel_probs() -> np.ndarray:
    p, t = aligned("multilabel_probs.csv", "multilabel_labels.csv")
    q, y = p[GENRES].to_numpy(), t[GENRES].to_numpy()
    return -(y * np.log(q) + (1 - y) * np.log1p(-q)).sum(axis=1)


def multilabel_logits() -> np.ndarray:
    p, t = aligned("multilabel_logits.csv", "multilabel_labels.csv")
    return bce_from_logits(p[GENRES].to_numpy(), t[GENRES].to_numpy()).sum(axis=1)


def regression() -> np.ndarray:
    p, t = aligned("regression_preds.csv", "regression_targets.csv")
    return (p["price"].to_numpy() - t["price"].to_numpy()) ** 2


@dataclass(frozen=True)
class Case:
    preds: str
    targets: str
    task: str
    kind: str
    per_sample: Callable[[], np.ndarray]

    @property
    def id(self) -> str:
        return self.preds.removesuffix(".csv")

    def args(self) -> list[str]:
        return [sample_path(self.preds), sample_path(self.targets)]


CASES = [
    Case("binary_probs.csv", "binary_labels.csv", "binary", "probabilities", binary_probs),
    Case("binary_logits.csv", "binary_labels.csv", "binary", "logits", binary_logits),
    Case(
        "multiclass_probs.csv",
        "multiclass_labels.csv",
        "multiclass",
        "probabilities",
        multiclass_probs,
    ),
    Case(
        "multiclass_logits.csv", "multiclass_labels.csv", "multiclass", "logits", multiclass_logits
    ),
    Case(
        "multilabel_probs.csv",
        "multilabel_labels.csv",
        "multilabel",
        "probabilities",
        multilabel_probs,
    ),
    Case(
        "multilabel_logits.csv", "multilabel_labels.csv", "multilabel", "logits", multilabel_logits
    ),
    Case("regression_preds.csv", "regression_targets.csv", "regression", "values", regression),
]
CASE_IDS = [c.id for c in CASES]


def write_aligned_multiclass_labels(tmp_path: Path, keep_id: bool = False) -> str:
    """multiclass_labels.csv re-ordered to follow multiclass_probs.csv row by row."""
    _, targets = aligned("multiclass_probs.csv", "multiclass_labels.csv")
    path = tmp_path / "labels_aligned.csv"
    (targets if keep_id else targets.drop(columns="id")).to_csv(path, index=False)
    return str(path)
