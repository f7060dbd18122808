"""Comparisons that give the mean loss a scale: the null model and a baseline.

The null model is the best constant prediction learned from the targets: the
(weighted) class frequencies for binary, multiclass and multilabel targets,
the (weighted) mean for regression. Its loss has a closed form: the entropy of
the class frequencies, or the variance of the targets, so no clipping is
involved. ``d2 = 1 - mean_loss / null_loss`` is the fraction of the null
model's loss that the predictions explain (for regression, R^2).

The baseline comparison (:class:`BaselineComparison`) is computed by
:mod:`lossctl.core.bootstrap`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lossctl.core.activations import FloatArray, weighted_sums
from lossctl.core.losses import IntArray
from lossctl.core.metrics import Metrics


class NullState:
    """The targets' totals behind the null model: ``update(chunk)``, ``merge``, and the
    fields a loss's closed form reads (:class:`lossctl.core.losses.NullTotals`).

    n_classes : multiclass, the weight of each class is kept; otherwise (None) the
        weight, weighted mean and weighted sum of squared deviations of each target
        column, merged with Chan et al.'s pairwise formula, which stays exact where
        ``E[y^2] - E[y]^2`` would cancel.
    term : a loss's ``null_term`` (see :class:`lossctl.core.losses.LossSpec`): ``extra``
        holds its weighted sum over the rows, per target column

    >>> from lossctl.core.losses import LOSSES
    >>> state = NullState().update(np.array([1.0, 0.0, 0.0, 0.0]))
    >>> round(LOSSES["binary_cross_entropy"].null_loss(state), 9)  # entropy of 1/4
    0.562335145
    """

    def __init__(
        self,
        n_classes: int | None = None,
        term: Callable[..., FloatArray] | None = None,
    ) -> None:
        self.n_classes = n_classes
        self.term = term
        self.weight = 0.0
        self.class_weights: FloatArray = np.zeros(n_classes or 0)
        self.mean: FloatArray = np.empty(0)
        self.m2: FloatArray = np.empty(0)
        self.extra: FloatArray = np.zeros(1)

    @np.errstate(over="ignore", invalid="ignore")  # targets near 1e154 give an infinite variance
    def update(self, y: FloatArray | IntArray, weights: FloatArray | None = None) -> NullState:
        """y : the encoded targets of a chunk, as the losses take them."""
        if y.shape[0] == 0:
            return self
        w = np.ones(y.shape[0]) if weights is None else weights
        total = float(np.sum(w))
        if self.n_classes is not None:
            if y.ndim == 2:  # class probabilities as targets
                self.class_weights += weighted_sums(w, y.astype(np.float64))
            else:
                self.class_weights += np.bincount(
                    y.astype(np.intp), weights=w, minlength=self.n_classes
                )
            if self.term is not None:
                self.extra = self.extra + float(np.sum(w * self.term(y)))
            self.weight += total
            return self
        if total <= 0.0:
            return self
        values = y.astype(np.float64).reshape(y.shape[0], -1)
        if self.term is not None:
            self.extra = self.extra + weighted_sums(w, self.term(values))
        mean = weighted_sums(w, values) / total
        self._combine(total, mean, weighted_sums(w, np.square(values - mean)))
        return self

    @np.errstate(over="ignore", invalid="ignore")
    def _combine(self, w: float, mean: FloatArray, m2: FloatArray) -> None:
        if self.weight == 0.0:
            self.weight, self.mean, self.m2 = w, mean, m2
            return
        total = self.weight + w
        delta = mean - self.mean
        self.mean = self.mean + delta * (w / total)
        self.m2 = self.m2 + m2 + np.square(delta) * (self.weight * w / total)
        self.weight = total

    def merge(self, other: NullState) -> NullState:
        if self.n_classes is not None:
            self.class_weights = self.class_weights + other.class_weights
            self.extra = self.extra + other.extra
            self.weight += other.weight
        elif other.weight > 0.0:
            self._combine(other.weight, other.mean, other.m2)
            self.extra = self.extra + other.extra
        return self


def d2_score(mean_loss: float, null: float) -> float:
    """``1 - mean_loss / null``; with a null loss of 0 (constant targets), 1.0 for a
    perfect model and 0.0 otherwise, as scikit-learn's ``r2_score`` does."""
    if math.isnan(null):
        return math.nan  # no null model
    if null > 0.0:
        return 1.0 - mean_loss / null
    return 1.0 if mean_loss == 0.0 else 0.0


@dataclass(frozen=True)
class BaselineComparison:
    """Candidate against baseline over the same rows.

    n_buckets : the non-empty buckets the bootstrap resampled (see
        :mod:`lossctl.core.bootstrap`)
    metrics : the baseline's metrics, computed as the predictions' are (None: none asked)
    """

    n_samples: int
    mean_loss: float
    baseline_mean_loss: float
    difference: float
    ci_low: float
    ci_high: float
    n_bootstrap: int
    seed: int
    n_buckets: int = 0
    metrics: Metrics | None = None

    @property
    def difference_pct(self) -> float:
        """The difference as a percentage of the baseline's mean loss."""
        if self.baseline_mean_loss == 0.0:
            return 0.0 if self.difference == 0.0 else float(np.copysign(np.inf, self.difference))
        return 100.0 * self.difference / self.baseline_mean_loss
