"""The regression losses of ``--loss``: per-value losses, their domains and null models.

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

import numpy as np
from numpy.typing import NDArray

from lossctl.core.activations import FloatArray

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
