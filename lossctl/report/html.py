"""The report to look at: one self-contained HTML file (``--report FILE.html``,
``Report.to_html(path)``), and a notebook's view of a report (``Report._repr_html_``).

The page has no script and loads nothing: its style is inline, its charts
inline SVG from matplotlib (:mod:`lossctl.report.charts`), so it opens offline.
Text from the input files is escaped.
"""

from __future__ import annotations

import contextlib
import math
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lossctl.core.metrics import Metrics
    from lossctl.report.model import Report

#: Rows of a per-class, per-label or per-group table and chart.
LONGEST = 40

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; padding: 0 1.5em;
       max-width: 70em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { padding: 0.2em 0.8em; border-bottom: 1px solid #ddd; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.charts { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; }
figure.chart { margin: 0; } figure.chart svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.9em; }
.failed { color: #b00; font-weight: bold; } .passed { color: #070; }
"""


def check_report_path(path: str) -> None:
    """Before any work: ``--report`` names an .html file, and matplotlib is installed."""
    import importlib.util

    from lossctl.errors import ReportNeedsExtra, ReportNotHtml

    if not path.lower().endswith((".html", ".htm")):
        raise ReportNotHtml(
            "--report writes an HTML page, and this name does not end in .html",
            file=path,
            hint="Give a file name ending in .html",
        )
    if importlib.util.find_spec("matplotlib") is None:
        raise ReportNeedsExtra(
            "--report draws its charts with matplotlib, which is not installed",
            hint="pip install 'lossctl[report]'",
        )


def _fmt(x: Any) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{x:.6g}" if isinstance(x, float) else escape(str(x))


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{_fmt(c)}</td>'
            if isinstance(c, (int, float)) or c is None
            else f"<td>{escape(str(c))}</td>"
            for c in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(svg: str, caption: str) -> str:
    return f'<figure class="chart">{svg}<figcaption>{escape(caption)}</figcaption></figure>'


def summary_html(report: Report) -> str:
    """The summary and the metrics: what a notebook shows of a report."""
    rows: list[list[Any]] = [
        ["task", f"{report.task}: {report.activation} + {report.loss}"],
        ["predictions", f"{report.prediction_kind} from {report.inputs.predictions}"],
        ["targets", report.inputs.targets or report.inputs.predictions],
        ["samples", report.n_samples],
        ["mean loss", report.mean_loss],
        ["null loss", report.null_loss],
        ["D^2", report.d2],
        ["why", "; ".join(report.reasons)],
    ]
    rows += [["warning", note] for note in report.warnings]
    parts = [_table(["", ""], rows)]
    if report.metrics is not None:
        parts.append(_metrics_table(report))
    if report.gates:
        gates = [
            [g.name, g.threshold, g.observed, "passed" if g.passed else "FAILED"]
            for g in report.gates
        ]
        parts.append(_table(["gate", "threshold", "observed", "result"], gates))
    return "\n".join(parts)


def _metrics_table(report: Report) -> str:
    """The overall metrics; with a baseline's, a column per model and their difference."""
    assert report.metrics is not None
    values, base = report.metrics.values, _baseline_metrics(report)
    if base is None:
        return _table(["metric", "value"], [[name, value] for name, value in values.items()])
    rows = []
    for name, value in values.items():
        other = base.values.get(name)
        difference = None if value is None or other is None else value - other
        rows.append([name, value, other, difference])
    return _table(["metric", "predictions", "baseline", "difference"], rows)


def notebook_html(report: Report) -> str:
    """``_repr_html_``: the summary and metrics, and the charts when matplotlib is there."""
    from lossctl.errors import ReportNeedsExtra

    html = f"<div><strong>lossctl {escape(report.version)}</strong>{summary_html(report)}"
    with contextlib.suppress(ReportNeedsExtra):
        html += _charts(report)
    return html + "</div>"


def _charts(report: Report) -> str:
    from lossctl.report import charts

    figures = [_figure(charts.loss_histogram(report), "per-sample losses (log scale)")]
    m, base = report.metrics, _baseline_metrics(report)
    if m is not None and m.reliability is not None:
        theirs = None if base is None else base.reliability
        svg = charts.reliability_diagram(m.reliability, baseline=theirs)
        figures.append(_figure(svg, "reliability: observed frequency per confidence bin"))
    if m is not None and m.confusion is not None:
        heat = charts.confusion_heat_map(m.confusion)
        if heat is not None:
            figures.append(_figure(heat, "confusion matrix: rows true, columns predicted"))
    return f'<div class="charts">{"".join(figures)}</div>'


def _groups(report: Report) -> list[str]:
    """The per-class / per-label / per-group losses, as a chart and a table each."""
    from lossctl.report import charts

    s, parts = report.summary, []
    what = "class" if report.task == "multiclass" else "label"
    for title, key, groups in (
        (f"Mean loss per {what}", what, s.groups),
        (f"Mean loss by {report.inputs.by_column}", "group", s.by_groups),
    ):
        if not groups:
            continue
        worst = sorted(groups, key=lambda g: -g.mean_loss)[:LONGEST]
        more = len(groups) - len(worst)
        caption = f"the {len(worst)} of highest mean loss" + (f"; {more} more" if more else "")
        names, values = [g.name for g in worst], [g.mean_loss for g in worst]
        parts.append(f"<h2>{escape(title)}</h2>")
        parts.append(_figure(charts.group_losses(names, values, "mean loss"), caption))
        rows = [[g.name, g.n_samples, g.mean_loss] for g in worst]
        parts.append(_table([key, "samples", "mean loss"], rows))
    return parts


def _metric_parts(report: Report) -> list[str]:
    m, parts = report.metrics, list[str]()
    if m is None:
        return parts
    for title, table in (("Metrics per class", m.per_class), ("Metrics per label", m.per_label)):
        if table:
            first = next(iter(table.values()))
            names = [n for n, v in first.items() if not isinstance(v, list)]
            rows = [[name, *(values[n] for n in names)] for name, values in table.items()]
            parts += [f"<h2>{title}</h2>", _table(["", *names], rows[: LONGEST * 5])]
    if m.per_label:
        from lossctl.report import charts

        base = _baseline_metrics(report)
        theirs = {} if base is None else base.per_label
        figures = []
        for name, v in list(m.per_label.items())[:LONGEST]:
            other = theirs.get(name, {}).get("reliability")
            svg = charts.reliability_diagram(v["reliability"], name, other)
            figures.append(_figure(svg, f"reliability of {name}"))
        parts.append(f'<h2>Reliability per label</h2><div class="charts">{"".join(figures)}</div>')
    return parts


def _baseline_metrics(report: Report) -> Metrics | None:
    return None if report.baseline is None else report.baseline.metrics


def _baseline(report: Report) -> list[str]:
    b = report.baseline
    if b is None:
        return []
    rows: list[list[Any]] = [
        ["file", report.inputs.predictions, report.inputs.baseline or "", ""],
        ["mean loss", b.mean_loss, b.baseline_mean_loss, b.difference],
        ["95% CI of the difference", "", "", f"[{b.ci_low:.6g}, {b.ci_high:.6g}]"],
    ]
    table = _table(["", "predictions", "baseline", "difference"], rows)
    return ["<h2>Against the baseline</h2>", table]


def render_html(report: Report) -> str:
    """The whole report as one self-contained HTML page."""
    title = f"lossctl: {report.task} from {report.inputs.predictions}"
    body = [
        f"<h1>{escape(title)}</h1>",
        summary_html(report),
        *_baseline(report),
        _charts(report),
        *_metric_parts(report),
        *_groups(report),
        f"<p><small>lossctl {escape(report.version)}</small></p>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
