"""The metrics from the sums of a :class:`~lossctl.core.metrics.MetricsState`.

Macro averages follow scikit-learn (``zero_division=0``, over the classes seen
in the targets or the predictions); a class with no samples gives None for its
own recall, F1 and ROC AUC, never a division by zero.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lossctl.core.activations import FloatArray
from lossctl.core.metrics import Metrics, MetricsState


def _div(a: float, b: float, zero: float | None = 0.0) -> float | None:
    return float(a) / float(b) if b > 0 else zero


def _mean(values: list[float | None]) -> float | None:
    found = [v for v in values if v is not None]
    return float(np.mean(found)) if found else None


def _cells(values: FloatArray) -> list[Any]:
    """Counts as integers when every one is whole (no weights), else floats."""
    whole = bool(np.all(values == np.round(values)))
    return [int(v) if whole else float(v) for v in values.tolist()]


def metrics_of(state: MetricsState) -> Metrics:
    if state.task == "regression":
        return _regression(state)
    if state.task == "multiclass":
        return _multiclass(state)
    return _sigmoid(state)


def _auc(state: MetricsState) -> tuple[list[float | None], list[float | None], dict[str, Any]]:
    assert state.auc is not None
    roc, ap, roc_bound, ap_bound = state.auc.result()
    info = {
        "method": "histogram sketch",
        "bins": state.auc.bins,
        "roc_auc_error_bound": roc_bound,
        "pr_auc_error_bound": ap_bound,
    }
    return roc, ap, info


def _groups(state: MetricsState, name: str) -> dict[str, dict[str, Any]]:
    return {
        g.name: {
            "n_samples": g.n_samples,
            name: g.mean_loss if math.isfinite(g.mean_loss) else None,
        }
        for g in state.groups.result()
    }


def _sigmoid(state: MetricsState) -> Metrics:

    s, w = state.sums, float(state.sums["w"][()])
    assert state.reliability is not None
    roc, ap, info = _auc(state)
    if state.task == "binary":
        tp, pp, tpos = float(s["tp"][0]), float(s["pred_pos"][0]), float(s["true_pos"][0])
        values: dict[str, float | None] = {
            "accuracy": _div(float(s["hits"][0]), w, None),
            "precision": _div(tp, pp),
            "recall": _div(tp, tpos),
            "f1": _div(2 * tp, pp + tpos),
            "brier": _div(float(s["brier"][0]), w, None),
            "roc_auc": roc[0],
            "pr_auc": ap[0],
            "ece": state.reliability.ece(),
        }
        confusion = {
            "labels": ["0", "1"],
            "matrix": [_cells(s["confusion"][:2]), _cells(s["confusion"][2:])],
        }
        return Metrics(
            values,
            confusion=confusion,
            reliability=state.reliability.table(),
            auc=info,
            per_group=_groups(state, "accuracy"),
        )
    per_label: dict[str, dict[str, Any]] = {}
    briers: list[float | None] = []
    eces: list[float | None] = []
    for j, name in enumerate(state.names):
        tp, pp, tpos = float(s["tp"][j]), float(s["pred_pos"][j]), float(s["true_pos"][j])
        per_label[name] = {
            "accuracy": _div(float(s["hits"][j]), w, None),
            "precision": _div(tp, pp, None),
            "recall": _div(tp, tpos, None),
            "roc_auc": roc[j],
            "pr_auc": ap[j],
            "brier": _div(float(s["brier"][j]), w, None),
            "ece": state.reliability.ece(j),
            "reliability": state.reliability.table(j),
        }
        briers.append(per_label[name]["brier"])
        eces.append(per_label[name]["ece"])
    labels = len(state.names)
    values = {
        "subset_accuracy": _div(float(s["subset"][()]), w, None),
        "hamming_loss": None if w <= 0 else 1.0 - float(np.sum(s["hits"])) / (w * labels),
        "roc_auc": _mean(roc),
        "pr_auc": _mean(ap),
        "brier": _mean(briers),
        "ece": _mean(eces),
    }
    return Metrics(
        values, per_label=per_label, auc=info, per_group=_groups(state, "subset_accuracy")
    )


def _multiclass(state: MetricsState) -> Metrics:

    s, w, k = state.sums, float(state.sums["w"][()]), len(state.names)
    assert state.reliability is not None
    roc, _, info = _auc(state)
    del info["pr_auc_error_bound"]  # no PR AUC for multiclass
    tp, tpos, ppos = s["tp"], s["true_pos"], s["pred_pos"]
    support, seen = s["support"], s["support"] + s["pred_n"]
    per_class, f1s, recalls = {}, [], []
    for j, name in enumerate(state.names):
        has = support[j] > 0
        recall = _div(float(tp[j]), float(tpos[j]))
        f1 = _div(2 * float(tp[j]), float(tpos[j] + ppos[j]))
        if seen[j] > 0:
            f1s.append(f1)
        if has and tpos[j] > 0:
            recalls.append(recall)
        per_class[name] = {
            "support": int(support[j]),
            "precision": _div(float(tp[j]), float(ppos[j]), None),
            "recall": recall if has else None,
            "f1": f1 if has else None,
            "roc_auc": roc[j],
        }
    values: dict[str, float | None] = {"accuracy": _div(float(s["hits"][()]), w, None)}
    top_k = 5 if state.options.top_k is None else state.options.top_k
    if "top_k" in s:
        values["top_k_accuracy"] = _div(float(s["top_k"][()]), w, None)
    elif state.options.top_k is not None and top_k >= k:
        values["top_k_accuracy"] = 1.0 if w > 0 else None
    values.update(
        balanced_accuracy=_mean(recalls),
        f1=_mean(f1s),
        roc_auc=_mean(roc),
        brier=_div(float(s["brier"][()]), w, None),
        ece=state.reliability.ece(),
    )
    return Metrics(
        values,
        per_class=per_class,
        per_group=_groups(state, "accuracy"),
        confusion=_confusion(state),
        reliability=state.reliability.table(),
        auc=info,
    )


def _confusion(state: MetricsState) -> dict[str, Any]:
    k = len(state.names)
    labels = list(state.names)
    if "confusion" in state.sums:
        cells = _cells(state.sums["confusion"])
        return {"labels": labels, "matrix": [cells[i * k : (i + 1) * k] for i in range(k)]}
    entries = sorted(state.sparse.items())
    values = _cells(np.array([v for _, v in entries]))
    return {
        "labels": labels,
        "entries": [[c // k, c % k, v] for (c, _), v in zip(entries, values, strict=True)],
    }


def _regression(state: MetricsState) -> Metrics:

    s, x, w = state.sums, state.extra, float(state.sums["w"][()])
    if w <= 0:
        values: dict[str, float | None] = dict.fromkeys(("mae", "rmse", "r2", "max_error"))
        return Metrics(values)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        mae = s["abs"] / w
        rmse = np.sqrt(s["sq"] / w)
        m2 = x.get("y_m2", np.zeros_like(mae))
        r2 = np.where(
            m2 > 0, 1.0 - s["sq"] / np.where(m2 > 0, m2, 1.0), np.where(s["sq"] == 0, 1.0, 0.0)
        )
    found = {
        "mae": float(np.mean(mae)),
        "rmse": float(np.mean(rmse)),
        "r2": float(np.mean(r2)),
        "max_error": float(np.max(x["max"])),
    }
    return Metrics(
        {k: v if math.isfinite(v) else None for k, v in found.items()},
        per_group=_groups(state, "mae"),
    )
