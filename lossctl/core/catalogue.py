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

from lossctl.errors import (
    CompatLacksLoss,
    InvalidOption,
    NoNullModel,
    ParameterWithoutLoss,
    UnknownLoss,
)

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
    "gamma": Param(2.0, lambda v: v >= 0.0, ">= 0"),
    "label_smoothing": Param(0.0, lambda v: 0.0 <= v <= 1.0, "in [0, 1]"),
}

#: Parameters with a value per prediction column (``W`` for all, ``W1,W2,...`` in the
#: columns' order, or ``NAME=W,...``), with their range; left out, no such weighting.
PER_COLUMN: dict[str, Param] = {
    "pos_weight": Param(1.0, lambda v: v > 0.0, "> 0"),
    "alpha": Param(math.nan, lambda v: 0.0 <= v <= 1.0, "in [0, 1]"),
    "class_weight": Param(1.0, lambda v: v >= 0.0, ">= 0"),
}

#: Parameters that weigh the mean instead of entering the per-sample loss: the state
#: multiplies each row's weight by its class's (see lossctl.core.state).
WEIGHTING = ("class_weight",)


#: Every loss parameter's name.
LOSS_PARAMETERS = (*PARAMS, *PER_COLUMN)


@dataclass(frozen=True)
class LossName:
    """What a ``--loss`` name serves: tasks, parameters, and why it has no null model (or "")."""

    tasks: tuple[str, ...]
    params: tuple[str, ...] = ()
    no_null: str = ""


_MEDIAN = "its best constant is a quantile of the targets, which a streaming pass cannot hold"
_NO_FORM = "its best constant prediction has no closed form over the targets' totals"

LOSS_NAMES: dict[str, LossName] = {
    "bce": LossName(("binary", "multilabel"), ("pos_weight",)),
    "focal": LossName(
        ("binary", "multilabel", "multiclass"),
        ("gamma", "alpha"),
        "the best constant prediction of the focal loss has no closed form",
    ),
    "hinge": LossName(("binary",)),
    "kl": LossName(("multiclass",)),
    "ce": LossName(("multiclass",), ("label_smoothing", "class_weight")),
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


#: ``--compat``: the losses each library has (sklearn: every loss; lossctl's default), and
#: the clip and multilabel reduction of its convention (see lossctl.core.compat).
COMPAT_LOSSES: dict[str, tuple[str, ...]] = {
    "sklearn": tuple(LOSS_NAMES),
    "torch": ("bce", "ce", "focal", "kl", "mse", "mae", "huber", "smooth_l1"),
    "keras": ("bce", "ce", "hinge", "mse", "mae", "huber", "log_cosh"),
    "kaggle": ("bce", "ce"),
}
COMPAT_EPS = {"torch": 0.0, "keras": 1e-7, "kaggle": 1e-15}


def check_compat(compat: str, loss: str | None, task: str | None = None) -> None:
    """``--compat`` must have the loss (the task's default loss when ``loss`` is None and
    the task is known)."""
    if compat not in COMPAT_LOSSES:
        raise InvalidOption(
            f"unknown --compat {compat!r}", hint=f"Use one of: {', '.join(COMPAT_LOSSES)}"
        )
    name = loss if loss is not None else DEFAULT_LOSS.get(task or "")
    if name is not None and name not in COMPAT_LOSSES[compat]:
        raise CompatLacksLoss(
            f"--compat {compat} has no {name} loss",
            hint=f"Its losses are {', '.join(COMPAT_LOSSES[compat])}; or leave out --compat",
        )


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def check_loss(loss: str | None, params: Mapping[str, object], min_d2: object) -> None:
    """The checks that need no data: a known loss, parameters in range and of that loss,
    and a null model for ``--min-d2``."""
    if loss is not None and loss not in LOSS_NAMES:
        raise UnknownLoss(f"unknown --loss {loss!r}", hint=f"Use one of: {', '.join(LOSS_NAMES)}")
    for name, value in params.items():
        if value is None:
            continue
        _check_owner(name, loss)
        if name in PER_COLUMN:
            continue  # checked with the columns' names (see per_column)
        param = PARAMS[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidOption(f"{_option(name)} {value!r} is not a number")
        if math.isnan(value) or not param.ok(value):
            raise InvalidOption(
                f"{_option(name)} {value:g} is out of range",
                hint=f"Give a value {param.range}",
            )
    if loss is not None and min_d2 is not None and LOSS_NAMES[loss].no_null:
        raise NoNullModel(
            f"--min-d2 needs a null model, and --loss {loss} has none: {LOSS_NAMES[loss].no_null}",
            hint="Use --max-loss, or a loss with a null model such as mse",
        )


def _check_owner(name: str, loss: str | None, task: str | None = None) -> None:
    """``name`` must be a parameter of ``loss``; of the task's default loss when ``loss`` is
    None (of any default loss while the task is not known)."""
    if loss is not None:
        fits = name in LOSS_NAMES[loss].params
    elif task is not None:
        fits = name in LOSS_NAMES[DEFAULT_LOSS[task]].params
    else:
        fits = any(name in LOSS_NAMES[d].params for d in DEFAULT_LOSS.values())
    if fits:
        return
    owners = [n for n, spec in LOSS_NAMES.items() if name in spec.params]
    chosen = f"--loss {loss}" if loss is not None else "the default loss"
    if loss is None and task is not None:
        chosen += f" of {task} targets ({DEFAULT_LOSS[task]})"
    raise ParameterWithoutLoss(
        f"{_option(name)} is a parameter of --loss {' or '.join(owners)}, not of {chosen}",
        hint=f"Leave {_option(name)} out, or add --loss {owners[0]}",
    )


def check_task_params(
    loss: str | None, task: str, given: tuple[str, ...], compat: str = "sklearn"
) -> None:
    """Once the task is known: the parameters given belong to the loss computed, which
    ``--compat`` has."""
    for name in given:
        _check_owner(name, loss, task)
    check_compat(compat, loss, task)


def per_column(name: str, value: object, columns: tuple[str, ...]) -> tuple[float, ...]:
    """A :data:`PER_COLUMN` parameter as one value per column: ``2``, ``"2"``, ``"1,2,3"``,
    ``[1, 2, 3]``, ``"a=1,b=2,c=3"`` or ``{"a": 1, ...}`` (every column named)."""
    option, param = _option(name), PER_COLUMN[name]
    hint = f"Give one number, one per column ({', '.join(columns)}), or NAME=W for each"
    if isinstance(value, dict):
        items: list[str] = [f"{k}={v}" for k, v in value.items()]
    elif isinstance(value, (list, tuple)):
        items = [str(v) for v in value]
    else:
        items = [part.strip() for part in str(value).split(",") if part.strip()]
    try:
        if items and all("=" in item for item in items):
            named = {k.strip(): float(v) for k, v in (item.split("=", 1) for item in items)}
            unknown = [k for k in named if k not in columns]
            if unknown or len(named) != len(columns):
                which = unknown[0] if unknown else next(c for c in columns if c not in named)
                what = "is not a prediction column" if unknown else "is not given a value"
                raise InvalidOption(f"{option}: {which!r} {what}", hint=hint)
            values = tuple(named[c] for c in columns)
        else:
            values = tuple(float(item) for item in items)
    except ValueError:
        raise InvalidOption(f"{option} {value!r} is not a list of numbers", hint=hint) from None
    if len(values) == 1:
        values = values * len(columns)
    if len(values) != len(columns):
        raise InvalidOption(
            f"{option} gives {len(values)} values for {len(columns)} columns", hint=hint
        )
    for v in values:
        if math.isnan(v) or not param.ok(v):
            raise InvalidOption(
                f"{option} {v:g} is out of range", hint=f"Give values {param.range}"
            )
    return values


def loss_params(
    loss: str | None, params: Mapping[str, object], columns: tuple[str, ...]
) -> dict[str, object]:
    """The parameters of ``loss`` as used: given, or their defaults; of the default loss, the
    ones given. A per-column parameter is one number for one column, else a list; left out,
    it is left out."""
    names = LOSS_NAMES[loss].params if loss is not None else tuple(PARAMS) + tuple(PER_COLUMN)
    used: dict[str, object] = {}
    for name in names:
        value = params.get(name)
        if name in PER_COLUMN:
            if value == "balanced":
                used[name] = value  # resolved from the class counts (see lossctl.engine)
            elif value is not None:
                values = per_column(name, value, columns)
                used[name] = values[0] if len(values) == 1 else list(values)
        elif value is not None:
            used[name] = float(value)  # type: ignore[arg-type]
        elif loss is not None:
            used[name] = PARAMS[name].default
    return used
