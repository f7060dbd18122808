"""Comparisons that give the mean loss a scale: the null model and a baseline.

The null model is the best constant prediction learned from the targets: the
(weighted) class frequencies for binary, multiclass and multilabel targets,
the (weighted) mean for regression. Its loss has a closed form: the entropy of
the class frequencies, or the variance of the targets, so no clipping is
involved. ``d2 = 1 - mean_loss / null_loss`` is the fraction of the null
model's loss that the predictions explain (for regression, R^2).

The baseline comparison is a paired bootstrap: rows are resampled with
replacement, the same rows for both models, and the 2.5 and 97.5 percentiles
of the resampled differences of the (weighted) means form the 95% interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossctl.core.activations import FloatArray, weighted_sums
from lossctl.core.losses import IntArray, LabelReduction, Task

#: Resampled indices held at once by the bootstrap (8 bytes each): about 32 MiB.
BOOTSTRAP_BLOCK = 1 << 22


def _entropy(p: FloatArray) -> FloatArray:
    """``-p log p`` elementwise, 0 where p is 0."""
    safe = np.where(p > 0.0, p, 1.0)
    result: FloatArray = -p * np.log(safe)
    return result


class NullState:
    """The running totals behind :func:`null_loss`: ``update(chunk)``, ``merge``, ``result``.

    Class weights for multiclass; for the other tasks the weight, weighted mean
    and weighted sum of squared deviations of each target column, merged with
    Chan et al.'s pairwise formula, which stays exact where ``E[y^2] - E[y]^2``
    would cancel.
    """

    def __init__(self, task: Task, *, n_classes: int = 0, label_reduction: LabelReduction = "sum"):
        self.task = task
        self.n_classes = n_classes
        self.label_reduction = label_reduction
        self.w = 0.0
        self.class_w = np.zeros(n_classes)
        self.mean: FloatArray | None = None
        self.m2: FloatArray | None = None

    @np.errstate(over="ignore", invalid="ignore")  # targets near 1e154 give an infinite variance
    def update(self, y: FloatArray | IntArray, weights: FloatArray | None = None) -> NullState:
        """y : the encoded targets of a chunk, as the losses take them."""
        if y.shape[0] == 0:
            return self
        w = np.ones(y.shape[0]) if weights is None else weights
        total = float(np.sum(w))
        if self.task == "multiclass":
            self.class_w += np.bincount(y.astype(np.intp), weights=w, minlength=self.n_classes)
            self.w += total
            return self
        values = y.astype(np.float64).reshape(y.shape[0], -1)
        if total <= 0.0:
            return self
        mean = weighted_sums(w, values) / total
        m2 = weighted_sums(w, np.square(values - mean))
        self._combine(total, mean, m2)
        return self

    @np.errstate(over="ignore", invalid="ignore")
    def _combine(self, w: float, mean: FloatArray, m2: FloatArray) -> None:
        if self.mean is None or self.m2 is None or self.w == 0.0:
            self.w, self.mean, self.m2 = w, mean, m2
            return
        total = self.w + w
        delta = mean - self.mean
        self.mean = self.mean + delta * (w / total)
        self.m2 = self.m2 + m2 + np.square(delta) * (self.w * w / total)
        self.w = total

    def merge(self, other: NullState) -> NullState:
        if self.task == "multiclass":
            self.class_w += other.class_w
            self.w += other.w
        elif other.mean is not None and other.m2 is not None:
            self._combine(other.w, other.mean, other.m2)
        return self

    @np.errstate(over="ignore", invalid="ignore")
    def result(self) -> float:
        if self.task == "multiclass":
            return float(np.sum(_entropy(self.class_w / self.w)))
        if self.mean is None or self.m2 is None:
            return float("nan")
        if self.task == "regression":
            return float(np.mean(self.m2 / self.w))
        per_label = _entropy(self.mean) + _entropy(1.0 - self.mean)
        if self.task == "binary" or self.label_reduction == "sum":
            return float(np.sum(per_label))
        return float(np.mean(per_label))


def null_loss(
    task: Task,
    y: FloatArray | IntArray,
    weights: FloatArray | None = None,
    *,
    n_classes: int = 0,
    label_reduction: LabelReduction = "sum",
) -> float:
    """The mean loss of the best constant prediction, in closed form.

    y : the encoded targets, as the losses take them (class indices for multiclass)
    n_classes : multiclass only, the number of prediction columns

    >>> round(null_loss("binary", np.array([1.0, 0.0, 0.0, 0.0])), 9)  # entropy of 1/4
    0.562335145
    >>> null_loss("regression", np.array([1.0, 2.0, 3.0]))  # variance
    0.6666666666666666
    """
    state = NullState(task, n_classes=n_classes, label_reduction=label_reduction)
    return state.update(y, weights).result()


def d2_score(mean_loss: float, null: float) -> float:
    """``1 - mean_loss / null``; with a null loss of 0 (constant targets), 1.0 for a
    perfect model and 0.0 otherwise, as scikit-learn's ``r2_score`` does."""
    if null > 0.0:
        return 1.0 - mean_loss / null
    return 1.0 if mean_loss == 0.0 else 0.0


@dataclass(frozen=True)
class BaselineComparison:
    """Candidate against baseline over the same rows."""

    n_samples: int
    mean_loss: float
    baseline_mean_loss: float
    difference: float
    ci_low: float
    ci_high: float
    n_bootstrap: int
    seed: int

    @property
    def difference_pct(self) -> float:
        """The difference as a percentage of the baseline's mean loss."""
        if self.baseline_mean_loss == 0.0:
            return 0.0 if self.difference == 0.0 else float(np.copysign(np.inf, self.difference))
        return 100.0 * self.difference / self.baseline_mean_loss


@np.errstate(over="ignore", invalid="ignore")  # infinite losses (see null_loss) give NaN
def compare_to_baseline(
    loss: FloatArray,
    baseline_loss: FloatArray,
    weights: FloatArray | None = None,
    *,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> BaselineComparison:
    """Mean losses, their difference and its paired bootstrap 95% interval.

    loss, baseline_loss : (n,) per-sample losses of the same rows
    The resampled indices are drawn in blocks of about ``BOOTSTRAP_BLOCK``, so
    memory stays bounded whatever the number of rows.

    >>> same = np.array([0.1, 0.5, 0.9])
    >>> c = compare_to_baseline(same, same)
    >>> c.difference, c.ci_low, c.ci_high
    (0.0, 0.0, 0.0)
    """
    n = loss.shape[0]
    w = np.ones(n) if weights is None else weights
    diff = loss - baseline_loss
    total = float(np.sum(w))
    mean = float(np.sum(w * loss)) / total
    baseline_mean = float(np.sum(w * baseline_loss)) / total
    wd = w * diff
    rng = np.random.default_rng(seed)
    replicates = np.empty(n_bootstrap)
    per_block = max(1, BOOTSTRAP_BLOCK // max(n, 1))
    for start in range(0, n_bootstrap, per_block):
        b = min(per_block, n_bootstrap - start)
        index = rng.integers(0, n, size=(b, n))
        with np.errstate(invalid="ignore", divide="ignore"):
            replicates[start : start + b] = np.sum(wd[index], axis=1) / np.sum(w[index], axis=1)
    finite = replicates[np.isfinite(replicates)]  # a resample of zero-weight rows only
    low, high = np.percentile(finite, [2.5, 97.5]) if finite.size else (float("nan"), float("nan"))
    return BaselineComparison(
        n_samples=n,
        mean_loss=mean,
        baseline_mean_loss=baseline_mean,
        difference=mean - baseline_mean,
        ci_low=float(low),
        ci_high=float(high),
        n_bootstrap=n_bootstrap,
        seed=seed,
    )
