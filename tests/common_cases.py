"""The data of the registry-driven tests (tests/test_common.py): a Case per loss and
prediction kind, and generators of its predictions and targets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lossctl.core.losses import LOSSES, loss_for

N = 60
K = 3
SEEDS = (0, 1)
SAME = 1e-12  # "equal" for two computations of the same numbers in a different order

Data = tuple[np.ndarray, np.ndarray]

#: The activation of each task, from logits to probabilities.
ACTIVATION = {
    "binary": "sigmoid",
    "multiclass": "softmax",
    "multilabel": "sigmoid",
    "regression": "identity",
}


def _binary_probs(rng: np.random.Generator) -> Data:
    return rng.uniform(0.01, 0.99, N), rng.integers(0, 2, N)


def _binary_logits(rng: np.random.Generator) -> Data:
    z = rng.uniform(-5.0, 5.0, N)
    z[0] = -2.5  # at least one value outside [0, 1]
    return z, rng.integers(0, 2, N)


def _multiclass_probs(rng: np.random.Generator) -> np.ndarray:
    return rng.dirichlet(np.full(K, 2.0), N)


def _multiclass_logits(rng: np.random.Generator) -> np.ndarray:
    z = rng.uniform(-5.0, 5.0, (N, K))
    z[0, 0] = 3.0
    return z


def _index(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, K, N)


def _one_hot(rng: np.random.Generator) -> np.ndarray:
    return np.eye(K, dtype=np.int64)[rng.integers(0, K, N)]


def _multi_hot(rng: np.random.Generator) -> np.ndarray:
    y = rng.integers(0, 2, (N, K))
    y[0] = 1  # not one-hot, so never read as classes
    return y


def _regression(outputs: int) -> Callable[[np.random.Generator], Data]:
    def make(rng: np.random.Generator) -> Data:
        shape = (N,) if outputs == 1 else (N, outputs)
        y = rng.normal(0.0, 5.0, shape)
        return y + rng.normal(0.0, 1.0, shape), y

    return make


def _positive(outputs: int, counts: bool = False) -> Callable[[np.random.Generator], Data]:
    """Targets for the deviances: counts with zeros (poisson), or > 0; predictions > 0."""

    def make(rng: np.random.Generator) -> Data:
        shape = (N,) if outputs == 1 else (N, outputs)
        y = rng.poisson(3.0, shape).astype(np.float64) if counts else rng.gamma(2.0, 2.0, shape)
        return (y + 1.0) * np.exp(rng.normal(0.0, 0.3, shape)), y

    return make


def _maker(task: str, kind: str) -> Callable[[np.random.Generator], Data]:
    """The data of a classification case: class indices for multiclass."""
    if task == "binary":
        return _binary_probs if kind == "probabilities" else _binary_logits
    if task == "multiclass":
        pred = _multiclass_probs if kind == "probabilities" else _multiclass_logits
        return lambda rng: (pred(rng), _index(rng))
    if kind == "probabilities":
        return lambda rng: (rng.uniform(0.01, 0.99, (N, K)), _multi_hot(rng))
    return lambda rng: (_multiclass_logits(rng), _multi_hot(rng))


def _soft_targets(kind: str) -> Callable[[np.random.Generator], Data]:
    """Class probabilities as targets (rows of a Dirichlet draw, one exact one-hot row)."""

    def make(rng: np.random.Generator) -> Data:
        pred = _multiclass_probs(rng) if kind == "probabilities" else _multiclass_logits(rng)
        target = rng.dirichlet(np.full(K, 0.7), N)
        target[1] = [0.0, 1.0, 0.0]
        return pred, target

    return make


@dataclass(frozen=True)
class Case:
    """One task x prediction kind: how to make data, and what lossctl should detect."""

    id: str
    task: str
    kind: str
    make: Callable[[np.random.Generator], Data]
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def loss(self) -> str:
        """The registry's name of the loss this case computes."""
        spec = loss_for(self.options.get("loss"), self.task)
        assert spec is not None
        return spec.name

    @property
    def has_null(self) -> bool:
        return LOSSES[self.loss].null is not None

    @property
    def link(self) -> str | None:
        """How probabilities follow from logits for this loss (None: scores or values)."""
        return None if LOSSES[self.loss].activation == "identity" else ACTIVATION[self.task]


CASES = [
    Case("binary-probs", "binary", "probabilities", _binary_probs),
    Case("binary-logits", "binary", "logits", _binary_logits),
    Case(
        "multiclass-probs-index",
        "multiclass",
        "probabilities",
        lambda rng: (_multiclass_probs(rng), _index(rng)),
    ),
    Case(
        "multiclass-probs-onehot",
        "multiclass",
        "probabilities",
        lambda rng: (_multiclass_probs(rng), _one_hot(rng)),
    ),
    Case(
        "multiclass-logits-index",
        "multiclass",
        "logits",
        lambda rng: (_multiclass_logits(rng), _index(rng)),
    ),
    Case(
        "multiclass-logits-onehot",
        "multiclass",
        "logits",
        lambda rng: (_multiclass_logits(rng), _one_hot(rng)),
    ),
    *(
        Case(
            f"multilabel-probs-{reduction}",
            "multilabel",
            "probabilities",
            lambda rng: (rng.uniform(0.01, 0.99, (N, K)), _multi_hot(rng)),
            {"label_reduction": reduction},
        )
        for reduction in ("sum", "mean")
    ),
    *(
        Case(
            f"multilabel-logits-{reduction}",
            "multilabel",
            "logits",
            lambda rng: (_multiclass_logits(rng), _multi_hot(rng)),
            {"label_reduction": reduction},
        )
        for reduction in ("sum", "mean")
    ),
    *(
        Case(f"{name}-{kind}", task, kind, _maker(task, kind), options)
        for kind in ("probabilities", "logits")
        for name, task, options in (
            ("binary-pos-weight", "binary", {"pos_weight": "2.5"}),
            (
                "multilabel-pos-weight",
                "multilabel",
                {"pos_weight": "0.5,2,4", "label_reduction": "sum"},
            ),
            ("focal-binary", "binary", {"loss": "focal", "gamma": 2.0, "alpha": 0.25}),
            (
                "focal-multilabel",
                "multilabel",
                {"loss": "focal", "gamma": 1.5, "label_reduction": "mean"},
            ),
            ("focal-multiclass", "multiclass", {"loss": "focal", "gamma": 2.0}),
            (
                "focal-multiclass-alpha",
                "multiclass",
                {"loss": "focal", "gamma": 0.5, "alpha": "0=0.2,1=0.3,2=0.5"},
            ),
            ("ce-smoothing", "multiclass", {"label_smoothing": 0.1}),
            ("kl", "multiclass", {"loss": "kl"}),
            ("hinge", "binary", {"loss": "hinge"}),
        )
    ),
    *(
        Case(f"{name}-{kind}", "multiclass", kind, _soft_targets(kind), options)
        for kind in ("probabilities", "logits")
        for name, options in (
            ("soft-ce", {"task": "multiclass"}),
            ("soft-ce-smoothing", {"task": "multiclass", "label_smoothing": 0.2}),
            ("soft-kl", {"loss": "kl"}),
        )
    ),
    Case("regression-single", "regression", "values", _regression(1)),
    Case("regression-multi-output", "regression", "values", _regression(3)),
    Case("mae", "regression", "values", _regression(1), {"loss": "mae"}),
    Case("mae-multi-output", "regression", "values", _regression(2), {"loss": "mae"}),
    Case("huber", "regression", "values", _regression(2), {"loss": "huber", "delta": 0.7}),
    Case("smooth_l1", "regression", "values", _regression(1), {"loss": "smooth_l1", "beta": 2.0}),
    Case("log_cosh", "regression", "values", _regression(1), {"loss": "log_cosh"}),
    Case("quantile", "regression", "values", _regression(2), {"loss": "quantile", "quantile": 0.8}),
    Case("msle", "regression", "values", _positive(2, counts=True), {"loss": "msle"}),
    Case("mape", "regression", "values", _regression(1), {"loss": "mape"}),
    Case("poisson", "regression", "values", _positive(1, counts=True), {"loss": "poisson"}),
    Case("gamma", "regression", "values", _positive(1), {"loss": "gamma"}),
    Case("tweedie", "regression", "values", _positive(1), {"loss": "tweedie", "power": 1.5}),
]
