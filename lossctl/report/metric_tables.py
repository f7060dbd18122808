"""The metrics in the terminal: a summary, the confusion matrix, the reliability table and
the per-class / per-label / per-group metrics, in the style of the loss histogram.

Long tables show the :data:`LONGEST` worst rows and say how many more the JSON holds;
the confusion matrix is drawn up to :data:`LONGEST` classes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lossctl.core.metrics import Metrics

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

#: Rows of a per-class, per-label or per-group table, and classes of a confusion matrix.
LONGEST = 20
BAR_WIDTH = 20

#: The metrics of the summary table, in order, with what each is.
SUMMARY = {
    "accuracy": "predicted class right",
    "subset_accuracy": "every label right",
    "hamming_loss": "labels wrong",
    "top_k_accuracy": "class among the top k",
    "balanced_accuracy": "mean recall over classes",
    "precision": "predicted positives that are",
    "recall": "positives predicted so",
    "f1": "of precision and recall",
    "roc_auc": "ranking of the scores",
    "pr_auc": "average precision",
    "brier": "squared error of the probabilities",
    "ece": "expected calibration error",
    "mae": "mean absolute error",
    "rmse": "root mean squared error",
    "r2": "coefficient of determination",
    "max_error": "largest absolute error",
}


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.6g}"


def _short(x: float | None) -> str:
    return "-" if x is None else f"{x:.4g}"


def _table(title: str, *columns: str, numeric: tuple[str, ...] = ()) -> Table:
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(title), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in columns:
        table.add_column(escape(name), justify="right" if name in numeric else "left")
    return table


def render_metrics(metrics: Metrics, console: Console, baseline: Metrics | None = None) -> None:
    """Print every metrics table that ``metrics`` has (the summary beside the ``baseline``'s)."""
    console.print(_summary(metrics, baseline))
    if metrics.confusion is not None:
        console.print(_confusion(metrics.confusion))
    if metrics.reliability is not None:
        console.print(_reliability("Reliability", metrics.reliability))
    if metrics.per_class:
        console.print(_parts("Metrics per class", "class", metrics.per_class, "f1"))
    if metrics.per_label:
        console.print(_parts("Metrics per label", "label", metrics.per_label, "roc_auc"))
    if metrics.per_group:
        first = next(iter(metrics.per_group.values()))
        key = next(name for name in first if name != "n_samples")
        console.print(_parts("Metrics per group", "group", metrics.per_group, key))


def _summary(metrics: Metrics, baseline: Metrics | None = None) -> Table:
    """The overall values; beside a baseline's, a column per model."""
    from rich.text import Text

    models = ("value",) if baseline is None else ("predictions", "baseline")
    table = _table("Metrics", "metric", *models, "", numeric=models)
    for name, what in SUMMARY.items():
        if name in metrics.values:
            values = [metrics.values[name]]
            values += [] if baseline is None else [baseline.values.get(name)]
            cells = [Text(_fmt(value)) for value in values]
            table.add_row(Text(name), *cells, Text(what, style="dim"))
    if metrics.auc is not None:
        bound = metrics.auc["roc_auc_error_bound"]
        table.caption = f"ROC AUC from a {metrics.auc['bins']}-bin sketch, within {bound:.2g}"
    return table


def _confusion(confusion: dict[str, Any]) -> Table:
    from rich.text import Text

    labels: list[str] = confusion["labels"]
    if "matrix" not in confusion or len(labels) > LONGEST:
        table = _table("Confusion matrix", "")
        table.add_row(Text(f"{len(labels)} classes: the JSON holds the matrix (--format json)"))
        return table
    table = _table("Confusion matrix", "true \\ predicted")
    table.caption = "rows: the true class; columns: the predicted class"
    for label in labels:
        table.add_column(Text(label), justify="right")
    for label, row in zip(labels, confusion["matrix"], strict=True):
        peak = max(row, default=0)
        cells = [Text(f"{v:.6g}", style="bold" if v == peak and v else "") for v in row]
        table.add_row(Text(label), *cells)
    return table


def _reliability(title: str, bins: list[dict[str, Any]]) -> Table:
    from rich.text import Text

    table = _table(
        title,
        "confidence from",
        "to",
        "count",
        "confidence",
        "frequency",
        "",
        numeric=("count", "confidence", "frequency"),
    )
    peak = max((b["count"] for b in bins), default=0)
    for b in bins:
        if not b["count"]:
            continue
        bar = "█" * round(BAR_WIDTH * b["count"] / peak) if peak else ""
        table.add_row(
            Text(f"{b['lower']:.3g}"),
            Text(f"{b['upper']:.3g}"),
            Text(str(b["count"])),
            Text(_fmt(b["confidence"])),
            Text(_fmt(b["frequency"])),
            Text(bar, style="cyan"),
        )
    return table


def _parts(title: str, what: str, parts: dict[str, dict[str, Any]], key: str | None) -> Table:
    """One row per class, label or group; above :data:`LONGEST`, the worst by ``key``
    (or the first), and a caption saying how many more the JSON holds."""
    from rich.text import Text

    names = [n for n, v in next(iter(parts.values())).items() if not isinstance(v, list)]
    table = _table(title, what, *names, numeric=tuple(names))
    items = list(parts.items())
    if len(items) > LONGEST:
        if key is not None:  # an error is worst when high, the others when low
            sign = -1.0 if key in ("mae", "brier", "ece") else 1.0
            items.sort(key=lambda item: (item[1][key] is None, sign * (item[1][key] or 0.0)))
        table.caption = f"the {LONGEST} worst; {len(items) - LONGEST} more in the JSON"
        items = items[:LONGEST]
    for name, values in items:
        cells = [v if isinstance(v, int) else _short(v) for v in (values[n] for n in names)]
        table.add_row(Text(name), *(Text(str(c)) for c in cells))
    return table
