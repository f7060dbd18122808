"""The regression losses of ``--loss``: per-value losses, domains, null models, registry entries.

Each function takes ``(y_true, y_pred)`` of the same shape and returns the loss of
each value (the caller averages over output columns, as ``mse`` does). The
definitions are scikit-learn's (``mean_absolute_error``, ``mean_pinball_loss``,
``mean_squared_log_error``, ``mean_absolute_percentage_error``, the Tweedie
deviances) and PyTorch's (``HuberLoss``, ``SmoothL1Loss``). Values outside a
loss's domain are reported by :func:`domain`, not here: these functions compute
whatever NumPy gives for them, with its warnings silenced.

The null models: for the Tweedie family (``poisson``, ``gamma``, ``tweedie``) the
best constant prediction is the (weighted) mean, and its mean deviance follows
from the mean and the weighted sum of one more function of the targets,
:func:`null_term`, which a streaming state adds up.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lossctl.core.activations import FloatArray
from lossctl.core.catalogue import LOSS_NAMES
from lossctl.core.spec import BoolArray, LossSpec, NullTotals, PredictionKind, SampleLosses, no_clip

Elementwise = Callable[..., FloatArray]
F64_EPS = float(np.finfo(np.float64).eps)


def _xlogy(x: FloatArray, y: FloatArray) -> FloatArray:
    """``x log y``, 0 where x is 0 (scipy's ``xlogy``)."""
    safe = np.where(x == 0.0, 1.0, y)
    result: FloatArray = np.where(x == 0.0, 0.0, x * np.log(safe))
    return result


def absolute_error(y: FloatArray, p: FloatArray) -> FloatArray:
    """``|y - p|``."""
    return np.abs(y - p)


def huber(y: FloatArray, p: FloatArray, *, delta: float) -> FloatArray:
    """``r^2 / 2`` if ``|r| <= delta``, else ``delta (|r| - delta / 2)`` (PyTorch ``HuberLoss``)."""
    r = np.abs(y - p)
    result: FloatArray = np.where(r <= delta, 0.5 * r * r, delta * (r - 0.5 * delta))
    return result


def smooth_l1(y: FloatArray, p: FloatArray, *, beta: float) -> FloatArray:
    """``r^2 / (2 beta)`` for ``|r| < beta``, else ``|r| - beta / 2``; beta 0 is ``|r|``
    (PyTorch ``SmoothL1Loss``)."""
    r = np.abs(y - p)
    if beta == 0.0:
        return r
    result: FloatArray = np.where(r < beta, 0.5 * r * r / beta, r - 0.5 * beta)
    return result


def log_cosh(y: FloatArray, p: FloatArray) -> FloatArray:
    """``log(cosh(r))``: ``log1p(2 sinh(r/2)^2)`` for ``|r| < 20``, exact down to r = 1e-300
    (``cosh(r) - 1 = 2 sinh(r/2)^2``), else ``|r| + log1p(exp(-2|r|)) - log 2`` (cosh
    overflows from |r| = 711)."""
    r = np.abs(y - p)
    small = np.log1p(2.0 * np.square(np.sinh(0.5 * np.minimum(r, 20.0))))
    result: FloatArray = np.where(r < 20.0, small, r + np.log1p(np.exp(-2.0 * r)) - np.log(2.0))
    return result


def pinball(y: FloatArray, p: FloatArray, *, quantile: float) -> FloatArray:
    """``q (y - p)`` when ``y >= p``, else ``(1 - q) (p - y)`` (``mean_pinball_loss``)."""
    diff = y - p
    result: FloatArray = np.where(diff >= 0.0, quantile * diff, (quantile - 1.0) * diff)
    return result


def squared_log_error(y: FloatArray, p: FloatArray) -> FloatArray:
    """``(log1p(y) - log1p(p))^2`` (``mean_squared_log_error``)."""
    result: FloatArray = np.square(np.log1p(y) - np.log1p(p))
    return result


def absolute_percentage_error(y: FloatArray, p: FloatArray) -> FloatArray:
    """``|y - p| / max(|y|, eps)``, eps the float64 machine epsilon (scikit-learn's)."""
    result: FloatArray = np.abs(p - y) / np.maximum(np.abs(y), F64_EPS)
    return result


def tweedie_deviance(y: FloatArray, p: FloatArray, *, power: float) -> FloatArray:
    """The unit Tweedie deviance of scikit-learn's ``mean_tweedie_deviance``:
    power 0 the squared error, 1 Poisson, 2 Gamma; never below 0 (it is 0 at ``p = y``,
    where rounding could leave -1e-16)."""
    result: FloatArray = np.maximum(_deviance(y, p, power), 0.0)
    return result


def _deviance(y: FloatArray, p: FloatArray, power: float) -> FloatArray:
    if power == 0.0:
        return np.square(y - p)
    if power == 1.0:
        return 2.0 * (_xlogy(y, y) - _xlogy(y, p) - y + p)
    if power == 2.0:
        return 2.0 * (np.log(p / y) + y / p - 1.0)
    one, two = 1.0 - power, 2.0 - power
    positive = np.where(y > 0.0, y, 0.0) if power < 0.0 else y
    result: FloatArray = 2.0 * (
        np.power(positive, two) / (one * two) - y * np.power(p, one) / one + np.power(p, two) / two
    )
    return result


def poisson_deviance(y: FloatArray, p: FloatArray) -> FloatArray:
    return tweedie_deviance(y, p, power=1.0)


def gamma_deviance(y: FloatArray, p: FloatArray) -> FloatArray:
    return tweedie_deviance(y, p, power=2.0)


# ----------------------------------------------------------------------- domains


def tweedie_domain(power: float) -> tuple[str | None, str | None]:
    """The conditions on targets and predictions of ``mean_tweedie_deviance``, as
    ``(target rule, prediction rule)`` with rules ``">= 0"``, ``"> 0"``, ``"> -1"`` or None."""
    if power < 0.0:
        return None, "> 0"
    if power == 0.0:
        return None, None
    if power < 2.0:
        return ">= 0", "> 0"
    return "> 0", "> 0"


def outside(values: FloatArray, rule: str | None) -> NDArray[np.bool_] | None:
    """Where ``values`` break ``rule`` (one of :func:`tweedie_domain`'s), or None."""
    if rule is None:
        return None
    bound = {">= 0": 0.0, "> 0": 0.0, "> -1": -1.0}[rule]
    mask: NDArray[np.bool_] = values < bound if rule == ">= 0" else values <= bound
    return mask


# -------------------------------------------------------------------- null models


def tweedie_null_term(y: FloatArray, *, power: float) -> FloatArray:
    """The function of the targets whose weighted mean, with the targets' mean, gives the
    mean deviance of predicting that mean (see :func:`tweedie_null`)."""
    if power == 1.0:
        return _xlogy(y, y)
    if power == 2.0:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(y)
    with np.errstate(divide="ignore", invalid="ignore"):  # outside the domain: an error
        result: FloatArray = np.power(np.where(y > 0.0, y, 0.0), 2.0 - power)
    return result


def tweedie_null(mean: FloatArray, term_mean: FloatArray, *, power: float) -> FloatArray:
    """The mean deviance of the constant ``mean`` for each column, ``term_mean`` being the
    weighted mean of :func:`tweedie_null_term` (the ``- y + mu`` and ``y / mu - 1`` terms
    average to 0 at ``mu = mean``)."""
    if power == 1.0:
        return 2.0 * (term_mean - _xlogy(mean, mean))
    if power == 2.0:
        result: FloatArray = 2.0 * (np.log(mean) - term_mean)
        return result
    one, two = 1.0 - power, 2.0 - power
    m_two = np.power(mean, two)
    return 2.0 * (term_mean / (one * two) - m_two / one + m_two / two)


def null_squared(totals: NullTotals, **params: object) -> float:
    return float(np.mean(totals.m2 / totals.weight))


def _null_tweedie(totals: NullTotals, *, power: float) -> float:
    if power == 0.0:
        return null_squared(totals)
    per_column = tweedie_null(totals.mean, totals.extra / totals.weight, power=power)
    return float(np.mean(per_column))


# ---------------------------------------------------------------------- registry


def _rows(mask: BoolArray | None) -> BoolArray | None:
    if mask is None:
        return None
    rows: BoolArray = mask if mask.ndim == 1 else np.any(mask, axis=1)
    return rows


def _regression(
    elementwise: Elementwise,
    rules: Callable[..., tuple[str | None, str | None]] | None = None,
) -> Callable[..., SampleLosses]:
    """A regression loss of ``elementwise``, averaged over output columns; ``rules(**params)``
    gives its domain as (target rule, prediction rule)."""

    def fn(y: FloatArray, pred: FloatArray, *, kind: PredictionKind, **params: Any) -> SampleLosses:
        y = y.astype(np.float64, copy=False)
        with np.errstate(all="ignore"):  # out of the domain: reported by the state
            values = elementwise(y, pred, **params)
        loss = values if values.ndim == 1 else np.mean(values, axis=1)
        bad = None
        if rules is not None:
            target_rule, pred_rule = rules(**params)
            bad = (_rows(outside(y, target_rule)), _rows(outside(pred, pred_rule)))
        return SampleLosses(loss, no_clip(pred.shape[0]), outside=bad)

    return fn


def _fixed(power: float) -> Callable[..., float]:
    return lambda totals, **params: _null_tweedie(totals, power=power)


def _spec(
    option: str,
    formula: str,
    elementwise: Elementwise,
    rules: Callable[..., tuple[str | None, str | None]] | None = None,
    domain: str = "any real y and y_hat",
    **more: Any,
) -> LossSpec:
    params = LOSS_NAMES[option].params
    fn = _regression(elementwise, rules)
    return LossSpec(
        option,
        "regression",
        "identity",
        formula,
        fn,
        params,
        option=option,
        domain=domain,
        rules=rules,
        **more,
    )


_TWEEDIE = "2 (y^(2-p) / ((1-p)(2-p)) - y y_hat^(1-p) / (1-p) + y_hat^(2-p) / (2-p))"

REGRESSION_LOSSES = (
    _spec("mae", "|y - y_hat|", absolute_error),
    _spec("huber", "r^2 / 2 if |r| <= delta else delta (|r| - delta / 2),  r = y - y_hat", huber),
    _spec(
        "smooth_l1",
        "r^2 / (2 beta) if |r| < beta else |r| - beta / 2,  r = y - y_hat",
        smooth_l1,
    ),
    _spec("log_cosh", "log(cosh(y_hat - y))", log_cosh),
    _spec("quantile", "q (y - y_hat) if y >= y_hat else (1 - q) (y_hat - y)", pinball),
    _spec(
        "msle",
        "(log(1 + y) - log(1 + y_hat))^2",
        squared_log_error,
        lambda: ("> -1", "> -1"),
        "y > -1, y_hat > -1",
    ),
    _spec("mape", "|y - y_hat| / max(|y|, 2.22e-16)", absolute_percentage_error),
    _spec(
        "poisson",
        "2 (y log(y / y_hat) - y + y_hat)",
        poisson_deviance,
        lambda: (">= 0", "> 0"),
        "y >= 0, y_hat > 0",
        null=_fixed(1.0),
        null_term=partial(tweedie_null_term, power=1.0),
    ),
    _spec(
        "gamma",
        "2 (log(y_hat / y) + y / y_hat - 1)",
        gamma_deviance,
        lambda: ("> 0", "> 0"),
        "y > 0, y_hat > 0",
        null=_fixed(2.0),
        null_term=partial(tweedie_null_term, power=2.0),
    ),
    _spec(
        "tweedie",
        _TWEEDIE + " (power 0: squared error, 1: poisson, 2: gamma)",
        tweedie_deviance,
        tweedie_domain,
        "power < 0: y_hat > 0; 1 <= power < 2: y >= 0, y_hat > 0; power >= 2: y, y_hat > 0",
        null=_null_tweedie,
        null_term=tweedie_null_term,
    ),
)
