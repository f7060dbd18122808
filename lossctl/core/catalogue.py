"""The ``--loss`` names, their tasks and parameters, checked before any data is read.

Importable without NumPy (the options are validated before the engine loads):
:mod:`lossctl.core.losses` holds the functions, keyed by the same names, and
checks at import that it agrees with this table.

``LOSS_NAMES`` maps a ``--loss`` name to the tasks it serves, the parameters
it takes and whether its null model has a closed form; ``PARAMS`` gives each
parameter's default and allowed range; ``DEFAULT_LOSS`` the loss a task
computes when ``--loss`` is left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from lossctl.errors import InvalidOption, NoNullModel, ParameterWithoutLoss, UnknownLoss

REGRESSION = ("regression",)


@dataclass(frozen=True)
class Param:
    """One loss parameter: its default, the test of its range and the range in words."""

    default: float
    ok: Callable[[float], bool]
    range: str


PARAMS: dict[str, Param] = {
    "delta": Param(1.0, lambda v: v > 0.0, "> 0"),
    "beta": Param(1.0, lambda v: v >= 0.0, ">= 0 (0 is the absolute error)"),
    "quantile": Param(0.5, lambda v: 0.0 < v < 1.0, "in (0, 1)"),
    "power": Param(0.0, lambda v: v <= 0.0 or v >= 1.0, "<= 0 or >= 1"),
}


@dataclass(frozen=True)
class LossName:
    """What a ``--loss`` name serves: tasks, parameters, and why it has no null model (or "")."""

    tasks: tuple[str, ...]
    params: tuple[str, ...] = ()
    no_null: str = ""


_MEDIAN = "its best constant is a quantile of the targets, which a streaming pass cannot hold"
_NO_FORM = "its best constant prediction has no closed form over the targets' totals"

LOSS_NAMES: dict[str, LossName] = {
    "bce": LossName(("binary", "multilabel")),
    "ce": LossName(("multiclass",)),
    "mse": LossName(REGRESSION),
    "mae": LossName(REGRESSION, (), _MEDIAN),
    "huber": LossName(REGRESSION, ("delta",), _NO_FORM),
    "smooth_l1": LossName(REGRESSION, ("beta",), _NO_FORM),
    "log_cosh": LossName(REGRESSION, (), _NO_FORM),
    "quantile": LossName(REGRESSION, ("quantile",), _MEDIAN),
    "msle": LossName(REGRESSION, (), _NO_FORM),
    "mape": LossName(REGRESSION, (), _NO_FORM),
    "poisson": LossName(REGRESSION),
    "gamma": LossName(REGRESSION),
    "tweedie": LossName(REGRESSION, ("power",)),
}

#: The ``--loss`` each task computes when none is given.
DEFAULT_LOSS: dict[str, str] = {
    "binary": "bce",
    "multilabel": "bce",
    "multiclass": "ce",
    "regression": "mse",
}


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def check_loss(loss: str | None, params: Mapping[str, float | None], min_d2: object) -> None:
    """The checks that need no data: a known loss, parameters in range and of that loss,
    and a null model for ``--min-d2``."""
    if loss is not None and loss not in LOSS_NAMES:
        raise UnknownLoss(f"unknown --loss {loss!r}", hint=f"Use one of: {', '.join(LOSS_NAMES)}")
    for name, value in params.items():
        if value is None:
            continue
        param = PARAMS[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidOption(f"{_option(name)} {value!r} is not a number")
        if math.isnan(value) or not param.ok(value):
            raise InvalidOption(
                f"{_option(name)} {value:g} is out of range",
                hint=f"Give a value {param.range}",
            )
        owners = [n for n, spec in LOSS_NAMES.items() if name in spec.params]
        if loss is None or name not in LOSS_NAMES[loss].params:
            chosen = f"--loss {loss}" if loss is not None else "the default loss"
            raise ParameterWithoutLoss(
                f"{_option(name)} is a parameter of --loss {' or '.join(owners)}, not of {chosen}",
                hint=f"Leave {_option(name)} out, or add --loss {owners[0]}",
            )
    if loss is not None and min_d2 is not None and LOSS_NAMES[loss].no_null:
        raise NoNullModel(
            f"--min-d2 needs a null model, and --loss {loss} has none: {LOSS_NAMES[loss].no_null}",
            hint="Use --max-loss, or a loss with a null model such as mse",
        )


def loss_params(loss: str | None, params: Mapping[str, float | None]) -> dict[str, float]:
    """The parameters of ``loss`` as used: given, or their defaults."""
    if loss is None:
        return {}
    used = {}
    for name in LOSS_NAMES[loss].params:
        value = params.get(name)
        used[name] = PARAMS[name].default if value is None else float(value)
    return used
