"""The gates of an evaluation: what each observes, and the metric gates a task can take.

A drop gate (``max_accuracy_drop``, ``max_auc_drop``) observes the baseline's value of
its metric minus the predictions', in the metric's own units: a drop of 0.01 is one
point of accuracy; it passes when that is at most the threshold.
"""

from __future__ import annotations

from collections.abc import Sequence

from lossctl.core.compare import BaselineComparison
from lossctl.core.tasks import Detection
from lossctl.errors import InvalidOption, MetricNotForTask
from lossctl.options import DROP_GATES, EvalOptions
from lossctl.report.model import Gate, Report

_ACCURACY: dict[str, str | None] = {
    "binary": "accuracy",
    "multiclass": "accuracy",
    "multilabel": "subset_accuracy",
    "regression": None,
}
_AUC: dict[str, str | None] = {
    "binary": "roc_auc",
    "multiclass": "roc_auc",
    "multilabel": "roc_auc",
}

#: The metric each metric gate observes, by task (None: the task has no such metric).
GATED_METRICS: dict[str, dict[str, str | None]] = {
    "min_accuracy": _ACCURACY,
    "min_auc": _AUC,
    "max_ece": {"binary": "ece", "multiclass": "ece", "multilabel": "ece"},
    "max_brier": {"binary": "brier", "multiclass": "brier", "multilabel": "brier"},
    "max_accuracy_drop": _ACCURACY,
    "max_auc_drop": _AUC,
}


def check_metric_options(detection: Detection, pred: Sequence[str], o: EvalOptions) -> None:
    """The options on metrics that the decided task cannot take: exit 2."""
    task = detection.task
    for name in o.gates.on_metrics:
        if GATED_METRICS[name].get(task) is None:
            option = "--" + name.replace("_", "-")
            instead = "--max-increase" if name in DROP_GATES else "--max-loss"
            raise MetricNotForTask(
                f"{option} gates a metric that {task} predictions do not have",
                hint=f"Leave it out, or use {instead}",
            )
    if o.metrics and task == "multiclass" and o.top_k is not None and o.top_k > len(pred):
        raise InvalidOption(
            f"--top-k {o.top_k} is more than the {len(pred)} classes",
            hint=f"Give at most {len(pred)}",
        )


def gates(
    report: Report, comparison: BaselineComparison | None, o: EvalOptions
) -> tuple[Gate, ...]:
    """Every gate asked for, in a fixed order, each with what it observed."""
    g = o.gates
    gates = []
    if g.max_loss is not None:
        gates.append(Gate.at_most("max_loss", g.max_loss, report.mean_loss))
    if comparison is not None and g.max_increase is not None:
        gates.append(Gate.at_most("max_increase", g.max_increase, comparison.difference))
    if comparison is not None and g.max_increase_pct is not None:
        gates.append(
            Gate.at_most("max_increase_pct", g.max_increase_pct, comparison.difference_pct)
        )
    if g.min_d2 is not None:
        gates.append(Gate.at_least("min_d2", g.min_d2, report.d2))
    values = {} if report.metrics is None else report.metrics.values
    base = comparison.metrics if comparison is not None else None
    base_values = {} if base is None else base.values
    for name in g.on_metrics:
        metric = GATED_METRICS[name][report.task]
        assert metric is not None
        threshold: float = getattr(g, name)
        value = _value(values.get(metric))
        if name in DROP_GATES:
            value = _value(base_values.get(metric)) - value
        gate = Gate.at_least if name.startswith("min") else Gate.at_most
        gates.append(gate(name, threshold, value))
    return tuple(gates)


def _value(observed: float | None) -> float:
    """A metric as a gate observes it: an undefined one (None) is NaN, which fails."""
    return float("nan") if observed is None else observed
