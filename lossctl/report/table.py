"""The Rich rendering for people: summary, first and worst rows, histogram, per-class losses.

Text that comes from the input files (names, ids, values) is always wrapped
in ``rich.text.Text``, so it is printed literally and never read as markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lossctl.report.model import Report, SampleRow

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.table import Table

BAR_WIDTH = 30


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def render_table(report: Report, console: Console) -> None:
    """Print the whole report to ``console``."""
    from rich.text import Text

    console.print(_summary(report))
    if report.head:
        console.print(_rows(f"First {len(report.head)} rows", report))
    if report.worst:
        console.print(_rows(f"Worst {len(report.worst)} rows", report, worst=True))
    console.print(_histogram(report))
    if report.summary.groups:
        console.print(_groups(report))
    for gate in report.gates:
        style = "green" if gate.passed else "bold red"
        console.print(Text(gate.message, style=style))


def _table(title: str, *columns: str) -> Table:
    from rich import box
    from rich.table import Table

    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in columns:
        numeric = name in ("row", "samples", "mean loss", "loss", "count")
        table.add_column(name, justify="right" if numeric else "left")
    return table


def _summary(report: Report) -> RenderableType:
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    i = report.inputs
    rows: list[tuple[str, str]] = [
        ("task", f"{report.task}: {report.activation} + {report.loss}"),
        (
            "predictions",
            f"{report.prediction_kind} from {i.predictions} ({', '.join(i.pred_columns)})",
        ),
        (
            "targets",
            f"{report.target_encoding} from {i.targets or i.predictions} "
            f"({', '.join(i.target_columns)})",
        ),
        ("why", "\n".join(report.reasons)),
        ("samples", f"{report.n_samples}"),
        ("mean loss", _fmt(report.mean_loss)),
    ]
    unweighted = _fmt(report.summary.unweighted_mean_loss)
    weighted = f"yes, by {i.weight_column} (unweighted mean {unweighted})"
    rows.append(("weighted", weighted if report.weighted else "no"))
    if report.label_reduction is not None:
        rows.append(("labels", f"{report.label_reduction} over {len(i.pred_columns)} labels"))
    rows.append(("clipped", f"{report.n_clipped} samples (eps = {report.eps:g})"))
    if report.n_dropped:
        rows.append(("dropped", f"{report.n_dropped} rows with missing values"))
    for note in report.warnings:
        rows.append(("warning", note))
    for key, value in rows:
        grid.add_row(key, Text(value, style="yellow" if key == "warning" else ""))
    from rich.panel import Panel

    return Panel(grid, title=f"lossctl {report.version}", title_align="left", expand=False)


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


def _groups(report: Report) -> Table:
    from rich.text import Text

    what = "class" if report.task == "multiclass" else "label"
    table = _table(f"Mean loss per {what}", what, "samples", "mean loss")
    for group in report.summary.groups:
        table.add_row(Text(group.name), Text(str(group.n_samples)), Text(_fmt(group.mean_loss)))
    return table
