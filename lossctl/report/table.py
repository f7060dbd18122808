"""The Rich rendering for people: summary, first and worst rows, histogram, per-class losses.

Text that comes from the input files (names, ids, values) is always wrapped
in ``rich.text.Text``, so it is printed literally and never read as markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lossctl._version import __version__
from lossctl.core.accumulate import GroupLoss
from lossctl.report.model import DetectionReport, Report, counted
from lossctl.report.samples import SampleRow

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.table import Table

BAR_WIDTH = 30
NUMERIC_COLUMNS = {
    "row",
    "samples",
    "weight",
    "mean loss",
    "loss",
    "count",
    "threshold",
    "observed",
}


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def render_table(report: Report, console: Console) -> None:
    """Print the whole report to ``console``."""

    console.print(_summary(report))
    if report.head:
        console.print(_rows(f"First {counted(len(report.head), 'row')}", report))
    if report.worst:
        console.print(_rows(f"Worst {counted(len(report.worst), 'row')}", report, worst=True))
    console.print(_histogram(report))
    if report.metrics is not None:
        from lossctl.report.metric_tables import render_metrics

        baseline = None if report.baseline is None else report.baseline.metrics
        render_metrics(report.metrics, console, baseline)
    if report.summary.groups:
        what = "class" if report.task == "multiclass" else "label"
        console.print(_groups(f"Mean loss per {what}", what, report.summary.groups))
    if report.inputs.by_column is not None:
        by = report.inputs.by_column
        console.print(_groups(f"Mean loss by {by}", by, report.summary.by_groups, weights=True))
    if report.baseline is not None:
        console.print(_baseline(report))
    if report.gates:
        console.print(_gates(report))


def _table(title: str, *columns: str) -> Table:
    """A table; its title and headers may hold a column's name, so markup is escaped."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(title), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in columns:
        numeric = name in NUMERIC_COLUMNS
        table.add_column(escape(name), justify="right" if numeric else "left")
    return table


def render_detection(found: DetectionReport, console: Console) -> None:
    """Print what ``lossctl detect`` found."""
    console.print(_panel(_decision(found), __version__))


def _decision(found: DetectionReport | Report) -> list[tuple[str, str]]:
    """The summary rows that say what was decided and why."""
    i = found.inputs
    return [
        ("task", f"{found.task}: {found.activation} + {found.loss}"),
        (
            "predictions",
            f"{found.prediction_kind} from {i.predictions} ({', '.join(i.pred_columns)})",
        ),
        (
            "targets",
            f"{found.target_encoding} from {i.targets or i.predictions} "
            f"({', '.join(i.target_columns)})",
        ),
        ("why", "\n".join(found.reasons)),
        ("samples", f"{found.n_samples}"),
    ]


def _panel(rows: list[tuple[str, str]], version: str) -> RenderableType:
    """A key/value grid in a panel; values are file-derived text, printed literally."""
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for key, value in rows:
        grid.add_row(key, Text(value, style="yellow" if key == "warning" else ""))
    return Panel(grid, title=f"lossctl {version}", title_align="left", expand=False)


#: What each --compat convention does, for the summary.
_COMPAT = {
    "sklearn": "sklearn (probabilities clipped to [eps, 1 - eps])",
    "torch": "torch (no clip, logs clamped at -100; multilabel mean)",
    "keras": "keras (eps 1e-7; multiclass rows divided by their sum, then clipped)",
    "kaggle": "kaggle (clipped to [1e-15, 1 - 1e-15], then rows divided by their sum)",
}


def _param(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_param(v) for v in value) + "]"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _summary(report: Report) -> RenderableType:
    i = report.inputs
    rows = [
        *_decision(report),
        ("mean loss", _fmt(report.mean_loss)),
        ("null loss", f"{_fmt(report.null_loss)} (a constant prediction from the targets)"),
        ("D^2", f"{_fmt(report.d2)} (1 - mean loss / null loss)"),
    ]
    if report.loss_params:
        params = ", ".join(f"{name} = {_param(v)}" for name, v in report.loss_params.items())
        rows[0] = (rows[0][0], f"{rows[0][1]} ({params})")
    if report.null_reason is not None:
        rows[-2:] = [("null loss", f"none: {report.null_reason}"), ("D^2", "none")]
    if report.normalized_entropy is not None:
        rows.append(("normalized", f"{_fmt(report.normalized_entropy)} (mean loss / null loss)"))
    unweighted = _fmt(report.summary.unweighted_mean_loss)
    weighted = f"yes, by {i.weight_column} (unweighted mean {unweighted})"
    rows.append(("weighted", weighted if report.weighted else "no"))
    rows.append(("compat", _COMPAT[report.compat]))
    if report.label_reduction is not None:
        rows.append(("labels", f"{report.label_reduction} over {len(i.pred_columns)} labels"))
    if report.prediction_kind == "probabilities":
        how = "log clamped at -100" if report.compat == "torch" else f"eps = {report.eps:g}"
        rows.append(("clipped", f"{counted(report.n_clipped, 'sample')} ({how})"))
    if report.n_dropped:
        rows.append(("dropped", f"{counted(report.n_dropped, 'row')} with missing values"))
    rows += [("warning", note) for note in report.warnings]
    return _panel(rows, report.version)


def _rows(title: str, report: Report, *, worst: bool = False) -> Table:
    from rich.text import Text

    has_id = report.inputs.id_column is not None
    columns = ["row", *(["id"] if has_id else []), "target", "prediction", "loss"]
    table = _table(title, *columns)
    sample: SampleRow
    for sample in report.worst if worst else report.head:
        cells = [str(sample.row), *([sample.id or ""] if has_id else [])]
        cells += [sample.target, sample.prediction, _fmt(sample.loss)]
        table.add_row(*(Text(c) for c in cells))
    return table


def _histogram(report: Report) -> Table:
    from rich.text import Text

    s = report.summary
    table = _table("Loss histogram", "loss from", "to", "count", "")
    peak = max(s.histogram_counts, default=0)
    edges = s.histogram_edges
    for lo, hi, count in zip(edges[:-1], edges[1:], s.histogram_counts, strict=True):
        bar = "█" * round(BAR_WIDTH * count / peak) if peak else ""
        table.add_row(
            Text(f"{lo:.3g}"), Text(f"{hi:.3g}"), Text(str(count)), Text(bar, style="cyan")
        )
    return table


def _groups(title: str, what: str, groups: tuple[GroupLoss, ...], weights: bool = False) -> Table:
    from rich.text import Text

    from lossctl.report.metric_tables import LONGEST

    table = _table(title, what, "samples", *(["weight"] if weights else []), "mean loss")
    if len(groups) > LONGEST:  # the worst, and how many more the JSON holds
        more = len(groups) - LONGEST
        groups = tuple(sorted(groups, key=lambda g: -g.mean_loss)[:LONGEST])
        table.caption = f"the {LONGEST} of highest mean loss; {more} more in the JSON"
    for group in groups:
        cells = [group.name, str(group.n_samples)]
        cells += [_fmt(group.sum_weights)] if weights else []
        table.add_row(*(Text(c) for c in [*cells, _fmt(group.mean_loss)]))
    return table


def _baseline(report: Report) -> Table:
    from rich.text import Text

    b = report.baseline
    assert b is not None
    table = _table("Against the baseline", "", "file", "mean loss")
    table.add_row(Text("predictions"), Text(report.inputs.predictions), Text(_fmt(b.mean_loss)))
    table.add_row(
        Text("baseline"), Text(report.inputs.baseline or ""), Text(_fmt(b.baseline_mean_loss))
    )
    table.add_row(
        Text("difference"),
        Text(f"95% CI [{_fmt(b.ci_low)}, {_fmt(b.ci_high)}]"),
        Text(f"{b.difference:+.6g} ({b.difference_pct:+.3g}%)"),
    )
    table.caption = (
        f"paired bootstrap over {b.n_samples} rows in {b.n_buckets} buckets, "
        f"{b.n_bootstrap} resamples, seed {b.seed}"
    )
    return table


def _gates(report: Report) -> Table:
    from rich.text import Text

    table = _table("Gates", "gate", "threshold", "observed", "result")
    for gate in report.gates:
        style = "green" if gate.passed else "bold red"
        table.add_row(
            Text(gate.name),
            Text(f"{gate.threshold:g}"),
            Text(_fmt(gate.observed)),
            Text("passed" if gate.passed else "FAILED", style=style),
        )
    return table
