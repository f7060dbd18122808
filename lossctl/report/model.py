"""The report: everything one evaluation found, as data. Renderers only draw it."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from lossctl.core.accumulate import GroupLoss, LossSummary
from lossctl.core.chunk import Sample
from lossctl.core.compare import BaselineComparison, d2_score
from lossctl.core.metrics import Metrics
from lossctl.errors import ExitCode
from lossctl.report.samples import SampleRow, sample_row

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


#: The version of the JSON report's layout (schema/report.schema.json): raised when a key
#: is removed, renamed or retyped; a new key leaves it as it is.
SCHEMA_VERSION = 1

#: What each gate observes, as its messages say it.
GATE_SUBJECTS = {
    "max_loss": "mean loss",
    "max_increase": "loss increase over the baseline",
    "max_increase_pct": "loss increase over the baseline, in %",
    "min_d2": "D^2",
    "min_accuracy": "accuracy",
    "min_auc": "ROC AUC",
    "max_ece": "ECE",
    "max_brier": "Brier score",
    "max_accuracy_drop": "accuracy drop from the baseline",
    "max_auc_drop": "ROC AUC drop from the baseline",
}


@dataclass(frozen=True)
class Gate:
    """A CI gate: ``passed`` is False when ``observed`` breaks ``threshold``.

    ``max_*`` gates fail when the observed value is strictly above the
    threshold, ``min_*`` gates when it is strictly below; a value that is not a
    number (NaN) fails either.
    """

    name: str
    threshold: float
    observed: float
    passed: bool

    @classmethod
    def at_most(cls, name: str, threshold: float, observed: float) -> Gate:
        return cls(name, threshold, observed, bool(observed <= threshold))

    @classmethod
    def at_least(cls, name: str, threshold: float, observed: float) -> Gate:
        return cls(name, threshold, observed, bool(observed >= threshold))

    @property
    def message(self) -> str:
        verdict = "passed" if self.passed else "failed"
        upper = self.name.startswith("max")
        sign = ("<=" if self.passed else ">") if upper else (">=" if self.passed else "<")
        option = "--" + self.name.replace("_", "-")
        return (
            f"gate {self.name} {verdict}: {GATE_SUBJECTS.get(self.name, self.name)} "
            f"{self.observed:.10g} {sign} {self.threshold:g} ({option})"
        )


@dataclass(frozen=True)
class Inputs:
    """What was read: files, columns, and how the rows were aligned."""

    predictions: str
    targets: str | None
    pred_columns: tuple[str, ...]
    target_columns: tuple[str, ...]
    id_column: str | None
    weight_column: str | None
    alignment: str
    by_column: str | None = None
    baseline: str | None = None


@dataclass(frozen=True)
class DetectionReport:
    """The result of :func:`lossctl.detect`: what ``evaluate`` would decide, and why."""

    task: str
    activation: str
    prediction_kind: str
    loss: str
    target_encoding: str
    reasons: tuple[str, ...]
    inputs: Inputs
    n_samples: int

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``lossctl detect --format json``."""
        return {
            "schema_version": SCHEMA_VERSION,
            "task": self.task,
            "activation": self.activation,
            "prediction_kind": self.prediction_kind,
            "loss": self.loss,
            "target_encoding": self.target_encoding,
            "alignment": self.inputs.alignment,
            "reasons": list(self.reasons),
            "n_samples": self.n_samples,
            "inputs": _inputs(self.inputs),
        }


@dataclass(frozen=True)
class Report:
    """The result of :func:`lossctl.evaluate`.

    ``samples`` are the first and the worst rows, as numbers (``row`` counts the
    data rows of their file from 1); :attr:`head` and :attr:`worst` give them as
    the table shows them. ``losses`` holds the per-sample losses in the order of
    PREDICTIONS, ``ids`` their ids (or None), ``weights`` their weights (or None)
    and ``target_rows`` the row of TARGETS each was matched with; none is part
    of :meth:`to_dict`.
    """

    version: str
    task: str
    activation: str
    prediction_kind: str
    loss: str
    target_encoding: str
    reasons: tuple[str, ...]
    inputs: Inputs
    summary: LossSummary
    null_loss: float
    eps: float
    label_reduction: str | None
    weighted: bool
    n_dropped: int
    n_not_summing: int
    first_not_summing: int | None
    samples: tuple[tuple[Sample, ...], tuple[Sample, ...]]
    gates: tuple[Gate, ...] = ()
    baseline: BaselineComparison | None = None
    losses: np.ndarray | None = field(default=None, repr=False, compare=False)
    ids: np.ndarray | None = field(default=None, repr=False, compare=False)
    weights: np.ndarray | None = field(default=None, repr=False, compare=False)
    target_rows: np.ndarray | None = field(default=None, repr=False, compare=False)
    loss_params: dict[str, object] = field(default_factory=dict)
    null_reason: str | None = None
    compat: str = "sklearn"
    metrics: Metrics | None = None
    threshold: float | None = None

    @property
    def n_samples(self) -> int:
        return self.summary.n_samples

    @property
    def head(self) -> tuple[SampleRow, ...]:
        """The first rows, as the table shows them."""
        return self._rows(self.samples[0])

    @property
    def worst(self) -> tuple[SampleRow, ...]:
        """The rows of the largest losses, largest first, as the table shows them."""
        return self._rows(self.samples[1])

    def _rows(self, samples: tuple[Sample, ...]) -> tuple[SampleRow, ...]:
        names = self.inputs.pred_columns
        return tuple(sample_row(s, self.task, self.prediction_kind, names) for s in samples)

    def with_gates(self, gates: tuple[Gate, ...]) -> Report:
        return replace(self, gates=gates)

    @property
    def mean_loss(self) -> float:
        return self.summary.mean_loss

    @property
    def n_clipped(self) -> int:
        return self.summary.n_clipped

    @property
    def d2(self) -> float:
        """``1 - mean_loss / null_loss``: the share of the null model's loss explained."""
        return d2_score(self.mean_loss, self.null_loss)

    @property
    def normalized_entropy(self) -> float | None:
        """Binary only: ``mean_loss / null_loss`` (He et al., 2014); None otherwise."""
        if self.task != "binary" or self.null_loss <= 0.0:
            return None
        return self.mean_loss / self.null_loss

    @property
    def passed(self) -> bool:
        return all(gate.passed for gate in self.gates)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.passed else ExitCode.GATE_FAILED

    @property
    def warnings(self) -> tuple[str, ...]:
        """What a careful reader should know about these numbers."""
        notes = []
        if self.n_clipped and self.compat == "torch":
            notes.append(
                f"{counted(self.n_clipped, 'sample')} had a log clamped at -100 (--compat torch)"
            )
        elif self.n_clipped:
            notes.append(
                f"{counted(self.n_clipped, 'sample')} had a probability clipped to [eps, 1 - eps] "
                f"(eps = {self.eps:g})"
            )
        if self.n_not_summing:
            used = (
                f"divided by their sum (--compat {self.compat})"
                if self.compat in ("keras", "kaggle")
                else "used as given"
            )
            notes.append(
                f"probability rows that do not sum to 1 within 1e-6: {self.n_not_summing} "
                f"(first: row {self.first_not_summing}); {used}"
            )
        if self.n_dropped:
            notes.append(f"{counted(self.n_dropped, 'row')} with missing values dropped")
        return tuple(notes)

    @property
    def detection_text(self) -> str:
        """One sentence: what was decided and why."""
        return (
            f"{self.task} ({self.activation} + {self.loss}) from {self.prediction_kind}: "
            + "; ".join(self.reasons)
        )

    def _loss_keys(self) -> dict[str, Any]:
        """What the JSON report says of the loss beyond its name: the parameters, why there
        is no null model (if so), and the --compat convention."""
        return {
            "loss_params": dict(self.loss_params),
            "null_reason": self.null_reason,
            "compat": self.compat,
        }

    def to_dict(self) -> dict[str, Any]:
        """The JSON report (``--format json``); every float is finite or None."""
        s = self.summary
        group_key = "per_class" if self.task == "multiclass" else "per_label"
        doc: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "version": self.version,
            "task": self.task,
            "activation": self.activation,
            "prediction_kind": self.prediction_kind,
            "loss": self.loss,
            "n_samples": s.n_samples,
            "mean_loss": _num(s.mean_loss),
            "weighted": self.weighted,
            "sum_weights": _num(s.sum_weights),
            "unweighted_mean_loss": _num(s.unweighted_mean_loss),
            "min_loss": _num(s.min_loss),
            "max_loss": _num(s.max_loss),
            "null_loss": _num(self.null_loss),
            "d2": _num(self.d2),
            **self._loss_keys(),
            "detection": {
                "task": self.task,
                "prediction_kind": self.prediction_kind,
                "target_encoding": self.target_encoding,
                "alignment": self.inputs.alignment,
                "reasons": list(self.reasons),
                "text": self.detection_text,
            },
            "inputs": _inputs(self.inputs),
            "eps": self.eps,
            "label_reduction": self.label_reduction,
            "n_clipped": s.n_clipped,
            "n_dropped": self.n_dropped,
            "n_not_summing_to_one": self.n_not_summing,
            "warnings": list(self.warnings),
            "histogram": {
                "edges": [_num(e) for e in s.histogram_edges],
                "counts": list(s.histogram_counts),
            },
            "worst": [_row(r) for r in self.worst],
            "gates": [
                {
                    "name": g.name,
                    "threshold": _num(g.threshold),
                    "observed": _num(g.observed),
                    "passed": g.passed,
                }
                for g in self.gates
            ],
            "passed": self.passed,
        }
        if self.task == "binary":
            ne = self.normalized_entropy
            doc["normalized_entropy"] = None if ne is None else _num(ne)
        if s.groups:
            doc[group_key] = [_group(g) for g in s.groups]
        if self.inputs.by_column is not None:
            doc["by"] = self.inputs.by_column
            doc["groups"] = [_group(g) for g in s.by_groups]
        if self.metrics is not None:
            doc.update(metrics_dict(self.metrics, self.threshold))
        if self.baseline is not None:
            b = self.baseline
            doc["baseline"] = {
                "predictions": self.inputs.baseline,
                "mean_loss": _num(b.baseline_mean_loss),
                "difference": _num(b.difference),
                "difference_pct": _num(b.difference_pct),
                "ci_low": _num(b.ci_low),
                "ci_high": _num(b.ci_high),
                "n_bootstrap": b.n_bootstrap,
                "seed": b.seed,
                "n_samples": b.n_samples,
                "method": "paired bootstrap over hashed buckets of rows",
                "n_buckets": b.n_buckets,
            }
            if b.metrics is not None:  # in the shape of the predictions' keys
                doc["baseline"].update(metrics_dict(b.metrics, self.threshold))
        return doc

    def to_html(self, path: str | os.PathLike[str]) -> None:
        """Write the report as one self-contained HTML page (``--report``): the summary,
        the charts, the per-class / label / group losses. Needs the ``[report]`` extra."""
        from lossctl.io.writers import write_text
        from lossctl.report.html import check_report_path, render_html

        check_report_path(os.fspath(path))
        write_text(os.fspath(path), render_html(self))

    def _repr_html_(self) -> str:
        """A notebook shows the summary and the metrics (and the charts, with matplotlib)."""
        from lossctl.report.html import notebook_html

        return notebook_html(self)

    def to_frame(self) -> pd.DataFrame:
        """Per-sample losses as a pandas DataFrame (id column when there is one, then ``loss``)."""
        import pandas as pd

        data: dict[str, Any] = {}
        if self.ids is not None and self.inputs.id_column is not None:
            data[self.inputs.id_column] = self.ids
        data["loss"] = self.losses
        return pd.DataFrame(data)


def metrics_dict(metrics: Metrics, threshold: float | None) -> dict[str, Any]:
    """The report's ``metrics``, ``confusion_matrix`` and ``reliability`` keys."""
    m: dict[str, Any] = {
        name: None if value is None else _num(value) for name, value in metrics.values.items()
    }
    if threshold is not None and ("precision" in m or "subset_accuracy" in m):
        m["threshold"] = threshold
    if metrics.auc is not None:
        m["auc_sketch"] = metrics.auc
    for key in ("per_class", "per_label", "per_group"):
        part = getattr(metrics, key)
        if part:
            m[key] = part
    doc: dict[str, Any] = {"metrics": m}
    if metrics.confusion is not None:
        doc["confusion_matrix"] = metrics.confusion
    if metrics.reliability is not None:
        doc["reliability"] = metrics.reliability
    return doc


def counted(n: int, noun: str) -> str:
    """``counted(1, "row")`` -> "1 row", ``counted(2, "row")`` -> "2 rows"."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _num(value: float) -> float | None:
    """JSON has no NaN or infinity: those become null."""
    return value if math.isfinite(value) else None


def _inputs(inputs: Inputs) -> dict[str, Any]:
    return {
        "predictions": inputs.predictions,
        "targets": inputs.targets,
        "pred_columns": list(inputs.pred_columns),
        "target_columns": list(inputs.target_columns),
        "id_column": inputs.id_column,
        "weight_column": inputs.weight_column,
    }


def _group(group: GroupLoss) -> dict[str, Any]:
    return {
        "name": group.name,
        "n_samples": group.n_samples,
        "sum_weights": _num(group.sum_weights),
        "mean_loss": _num(group.mean_loss),
    }


def _row(row: SampleRow) -> dict[str, Any]:
    return {
        "row": row.row,
        "id": row.id,
        "target": row.target,
        "prediction": row.prediction,
        "loss": _num(row.loss),
    }
