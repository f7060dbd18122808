"""What every loss is made of: :class:`SampleLosses` (the per-sample losses of a chunk),
:class:`NullTotals` (what a null model reads) and :class:`LossSpec` (one entry of the
registry, :data:`lossctl.core.losses.LOSSES`), with the array and name types they use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from lossctl.core.activations import FloatArray
from lossctl.core.catalogue import LOSS_NAMES

IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

Task = Literal["binary", "multiclass", "multilabel", "regression"]
PredictionKind = Literal["probabilities", "logits", "values"]
LabelReduction = Literal["sum", "mean"]


@dataclass(frozen=True)
class SampleLosses:
    """Per-sample losses of one chunk, with what the report needs beside them.

    loss : (n_samples,)
    clipped : (n_samples,) bool, whether clipping changed the sample's loss input
    per_label : (n_samples, n_labels) for multilabel, else None
    outside : the rows whose target, and those whose prediction, lie outside the loss's
        domain (None: no rule for that side; ``outside`` None: the loss has no domain)
    """

    loss: FloatArray
    clipped: BoolArray
    per_label: FloatArray | None = None
    outside: tuple[BoolArray | None, BoolArray | None] | None = None


def no_clip(n: int) -> BoolArray:
    return np.zeros(n, dtype=bool)


class NullTotals(Protocol):
    """What the closed forms of the null models read (``NullState`` provides it)."""

    weight: float
    class_weights: FloatArray  # multiclass: the weight of each class
    mean: FloatArray  # the other tasks: the weighted mean of each target column
    m2: FloatArray  # and its weighted sum of squared deviations
    extra: FloatArray  # the weighted sum of the loss's null_term of each target column


@dataclass(frozen=True)
class LossSpec:
    """One loss lossctl computes: what it serves, the function, and what it says of itself.

    name : the key of the registry, and the JSON report's ``"loss"`` (see ``label``)
    fn : ``fn(y, pred, *, kind, **params) -> SampleLosses``; ``y`` as the task's
        targets are encoded (class indices for multiclass, 0/1 or values otherwise)
    params : the options (``EvalOptions`` fields) that ``fn`` takes, by keyword
    null : the mean loss of the best constant prediction, from the targets' totals;
        None for a loss without a closed form
    option : the ``--loss`` name that selects it (see :mod:`lossctl.core.catalogue`)
    domain : the values it takes, in words ("" for any real values)
    null_term : ``null_term(y, **params)``, the function of the targets whose weighted
        sum the null model needs besides their mean (None: none)
    """

    name: str
    task: Task
    activation: str
    formula: str
    fn: Callable[..., SampleLosses]
    params: tuple[str, ...] = ()
    null: Callable[..., float] | None = None
    option: str = ""
    domain: str = ""
    null_term: Callable[..., FloatArray] | None = field(default=None, repr=False)
    rules: Callable[..., tuple[str | None, str | None]] | None = field(default=None, repr=False)
    report_as: str = ""

    @property
    def label(self) -> str:
        """The JSON report's ``"loss"``: the name, or the ``--loss`` name of a loss that
        serves several tasks under one name (``focal``)."""
        return self.report_as or self.name

    def __call__(
        self, y: FloatArray | IntArray, pred: FloatArray, *, kind: PredictionKind, **options: Any
    ) -> SampleLosses:
        """The per-sample losses, taking from ``options`` the parameters this loss has."""
        return self.fn(y, pred, kind=kind, **{p: options[p] for p in self.params if p in options})

    def domain_of(self, what: str, **options: Any) -> str:
        """The rule ``what`` ("target" or "prediction") must follow, in words."""
        if self.rules is None:
            return "any real value"
        rules = self.rules(**{p: options[p] for p in self.params if p in options})
        return rules[0 if what == "target" else 1] or "any real value"

    def term(self, **options: Any) -> Callable[[FloatArray], FloatArray] | None:
        """The null model's extra function of the targets, with this loss's parameters."""
        if self.null_term is None:
            return None
        return partial(self.null_term, **{p: options[p] for p in self.params if p in options})

    @property
    def no_null(self) -> str:
        """Why there is no null model, in words ("" when there is one)."""
        return LOSS_NAMES[self.option].no_null if self.null is None else ""

    def null_loss(self, totals: NullTotals, **options: Any) -> float:
        if self.null is None:
            return float("nan")
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self.null(totals, **{p: options[p] for p in self.params if p in options})

    def describe(self) -> dict[str, Any]:
        """What ``lossctl losses`` prints."""
        return {
            "loss": self.label,
            "task": self.task,
            "activation": self.activation,
            "formula": self.formula,
            "option": self.option,
            "params": list(self.params),
            "domain": self.domain,
            "null_model": self.null is not None,
        }
