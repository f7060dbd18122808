"""Independent computations of every loss of the registry (scikit-learn's, or NumPy's
closed form): ``ORACLES``, keyed by loss name, used by tests/test_common.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import expit, rel_entr
from scipy.special import softmax as scipy_softmax
from sklearn.metrics import (
    log_loss,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_pinball_loss,
    mean_squared_error,
    mean_squared_log_error,
    mean_tweedie_deviance,
)

from tests import classification_oracles as co
from tests.common_cases import Case, K, N


def _probabilities(case: Case, pred: np.ndarray) -> np.ndarray:
    if case.kind != "logits":
        return pred
    return expit(pred) if case.link == "sigmoid" else scipy_softmax(pred, axis=1)


def _classes(target: np.ndarray) -> np.ndarray:
    return target if target.ndim == 1 else np.argmax(target, axis=1)


def _bce_oracle(case: Case, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    p = _probabilities(case, pred)
    if "pos_weight" in case.options:
        return co.weighted_bce(p, target, case.options)
    return np.array([log_loss([y], [q], labels=[0, 1]) for y, q in zip(target, p, strict=True)])


def _is_soft(target: np.ndarray) -> bool:
    return target.ndim == 2 and not np.all((target == 0) | (target == 1))


def _ce_oracle(case: Case, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    p, y = _probabilities(case, pred), _classes(target)
    if _is_soft(target):
        return co.soft_ce(p, target, case.options)
    if "label_smoothing" in case.options:
        return co.smoothed_ce(p, y, case.options)
    return np.array(
        [log_loss([k], [row], labels=list(range(K))) for k, row in zip(y, p, strict=True)]
    )


def _multilabel_oracle(case: Case, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    p = _probabilities(case, pred)
    if "pos_weight" in case.options:
        return _reduce_labels(case, co.weighted_bce(p, target, case.options))
    per_label = np.array(
        [
            [log_loss([y], [q], labels=[0, 1]) for y, q in zip(ys, ps, strict=True)]
            for ys, ps in zip(target, p, strict=True)
        ]
    )
    return _reduce_labels(case, per_label)


def _reduce_labels(case: Case, per_label: np.ndarray) -> np.ndarray:
    reduce = np.mean if case.options.get("label_reduction") == "mean" else np.sum
    result: np.ndarray = reduce(per_label, axis=1)
    return result


def _focal_oracle(case: Case, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    p = _probabilities(case, pred)
    if case.task == "multiclass":
        return co.softmax_focal(p, _classes(target), case.options)
    per_label = co.sigmoid_focal(p, target, case.options)
    return per_label if case.task == "binary" else _reduce_labels(case, per_label)


def _kl_oracle(case: Case, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    p = _probabilities(case, pred)
    t = target if target.ndim == 2 else np.eye(K)[target]
    result: np.ndarray = np.sum(rel_entr(t, p), axis=1)
    return result


def _hinge_oracle(case: Case, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    return co.hinge(pred, target)


def _squared_oracle(case: Case, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    y, p = target.reshape(N, -1), pred.reshape(N, -1)
    return np.array(
        [mean_squared_error(y[i], p[i]) for i in range(N)]  # one sample's MSE over outputs
    )


def _per_sample(metric: Callable[..., float], **fixed: Any) -> Oracle:
    """A scikit-learn ``mean_*`` metric of one sample at a time (averaged over outputs)."""

    def oracle(case: Case, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        params = {**fixed, **{k: v for k, v in case.options.items() if k in ("power",)}}
        if "quantile" in case.options:
            params["alpha"] = case.options["quantile"]
        y, p = target.reshape(N, -1), pred.reshape(N, -1)
        if metric is mean_tweedie_deviance:  # single output only
            return np.array([metric(y[i], p[i], **params) for i in range(N)])
        return np.array([metric(y[i : i + 1], p[i : i + 1], **params) for i in range(N)])

    return oracle


def _closed_form(fn: Callable[[np.ndarray, dict[str, Any]], np.ndarray]) -> Oracle:
    """PyTorch's definitions (``HuberLoss``, ``SmoothL1Loss``), written out with NumPy."""

    def oracle(case: Case, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        r = np.abs(target.reshape(N, -1) - pred.reshape(N, -1))
        result: np.ndarray = np.mean(fn(r, case.options), axis=1)
        return result

    return oracle


def _huber(r: np.ndarray, o: dict[str, Any]) -> np.ndarray:
    d = o["delta"]
    return np.where(r <= d, 0.5 * r**2, d * (r - 0.5 * d))


def _smooth_l1(r: np.ndarray, o: dict[str, Any]) -> np.ndarray:
    b = o["beta"]
    return np.where(r < b, 0.5 * r**2 / b, r - 0.5 * b)


def _log_cosh(r: np.ndarray, o: dict[str, Any]) -> np.ndarray:
    return np.log(np.cosh(r))


Oracle = Callable[[Case, np.ndarray, np.ndarray], np.ndarray]

#: Per-sample losses by scikit-learn (``log_loss`` of one sample, its ``mean_*`` metrics),
#: or PyTorch's definitions in NumPy.
ORACLES: dict[str, Oracle] = {
    "binary_cross_entropy": _bce_oracle,
    "categorical_cross_entropy": _ce_oracle,
    "multilabel_log_loss": _multilabel_oracle,
    "squared_error": _squared_oracle,
    "focal": _focal_oracle,
    "focal:multilabel": _focal_oracle,
    "focal:multiclass": _focal_oracle,
    "hinge": _hinge_oracle,
    "kl": _kl_oracle,
    "mae": _per_sample(mean_absolute_error),
    "huber": _closed_form(_huber),
    "smooth_l1": _closed_form(_smooth_l1),
    "log_cosh": _closed_form(_log_cosh),
    "quantile": _per_sample(mean_pinball_loss),
    "msle": _per_sample(mean_squared_log_error),
    "mape": _per_sample(mean_absolute_percentage_error),
    "poisson": _per_sample(mean_tweedie_deviance, power=1.0),
    "gamma": _per_sample(mean_tweedie_deviance, power=2.0),
    "tweedie": _per_sample(mean_tweedie_deviance),
}
