"""The charts of the HTML report, drawn by matplotlib as inline SVG (the ``[report]`` extra).

SVG is text inside the page: the file opens offline, and every chart is drawn
shapes (paths), which a test can find. Only this module imports matplotlib,
and only when a chart is asked for.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from lossctl.errors import ReportNeedsExtra

if TYPE_CHECKING:
    from lossctl.report.model import Report

#: Classes up to which the confusion matrix is drawn as a heat map.
HEAT_MAP_CLASSES = 50
#: The colour of the baseline's curve (no other chart uses it).
BASELINE_COLOR = "#8172b3"


def pyplot() -> Any:
    """matplotlib's pyplot with a file-only backend, or the error that names the extra."""
    try:
        import matplotlib
    except ImportError:
        raise ReportNeedsExtra(
            "--report draws its charts with matplotlib, which is not installed",
            hint="pip install 'lossctl[report]'",
        ) from None
    matplotlib.use("svg", force=True)
    matplotlib.rcParams["svg.hashsalt"] = "lossctl"  # the same page for the same report
    import matplotlib.pyplot as plt

    return plt


def _svg(figure: Any) -> str:
    plt = pyplot()
    out = io.StringIO()
    figure.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = out.getvalue()
    return text[text.index("<svg") :]  # the XML prologue has no place inside HTML


def loss_histogram(report: Report) -> str:
    plt = pyplot()
    s = report.summary
    figure, axes = plt.subplots(figsize=(6, 3))
    edges = s.histogram_edges
    lows, highs = list(edges[:-1]), [min(e, 10 * edges[-2] or 1.0) for e in edges[1:]]
    lows = [max(lo, highs[0] / 10) if lo == 0 else lo for lo in lows]
    widths = [hi - lo for lo, hi in zip(lows, highs, strict=True)]
    axes.bar(lows, s.histogram_counts, width=widths, align="edge", color="#4c72b0")
    axes.set_xscale("log")
    axes.set_xlabel("per-sample loss")
    axes.set_ylabel("samples")
    return _svg(figure)


def reliability_diagram(
    bins: list[dict[str, Any]], title: str = "", baseline: list[dict[str, Any]] | None = None
) -> str:
    """The observed frequency per confidence bin, as bars, and at the bins' mean confidence,
    as a curve; with the ``baseline``'s bins, its curve too."""
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(4.5, 4))
    axes.plot([0, 1], [0, 1], linestyle="--", color="#999999", label="calibrated")
    used = [b for b in bins if b["count"]]
    axes.bar(
        [b["lower"] for b in used],
        [b["frequency"] for b in used],
        width=[b["upper"] - b["lower"] for b in used],
        align="edge",
        color="#4c72b0",
        edgecolor="white",
        label="observed frequency" if baseline is None else "predictions' frequency",
    )
    axes.plot(
        [b["confidence"] for b in used],
        [b["frequency"] for b in used],
        marker="o",
        color="#dd8452",
        label="at the mean confidence" if baseline is None else "predictions",
    )
    if baseline is not None:
        theirs = [b for b in baseline if b["count"]]
        axes.plot(
            [b["confidence"] for b in theirs],
            [b["frequency"] for b in theirs],
            marker="s",
            color=BASELINE_COLOR,
            label="baseline",
        )
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_xlabel("confidence")
    axes.set_ylabel("frequency")
    axes.legend(loc="upper left", fontsize="small")
    if title:
        axes.set_title(title)
    return _svg(figure)


def confusion_heat_map(confusion: dict[str, Any]) -> str | None:
    """The matrix as a heat map (cells as paths), or None when there are too many classes."""
    labels = confusion["labels"]
    if "matrix" not in confusion or len(labels) > HEAT_MAP_CLASSES:
        return None
    plt = pyplot()
    k = len(labels)
    size = min(9.0, 2.5 + 0.4 * k)
    figure, axes = plt.subplots(figsize=(size, size * 0.85))
    mesh = axes.pcolormesh(confusion["matrix"], cmap="Blues", edgecolors="white", linewidth=0.5)
    axes.invert_yaxis()
    ticks = [i + 0.5 for i in range(k)]
    axes.set_xticks(ticks, labels, rotation=45 if k > 5 else 0, ha="right" if k > 5 else "center")
    axes.set_yticks(ticks, labels)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    if k <= 12:
        peak = max((max(row) for row in confusion["matrix"]), default=0) or 1
        for i, row in enumerate(confusion["matrix"]):
            for j, value in enumerate(row):
                color = "white" if value > peak / 2 else "black"
                axes.text(j + 0.5, i + 0.5, f"{value:.4g}", ha="center", va="center", color=color)
    figure.colorbar(mesh, ax=axes)
    return _svg(figure)


def group_losses(names: list[str], values: list[float], xlabel: str) -> str:
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(6, 0.8 + 0.28 * len(names)))
    axes.barh(range(len(names)), values, color="#55a868")
    axes.set_yticks(range(len(names)), names)
    axes.invert_yaxis()
    axes.set_xlabel(xlabel)
    return _svg(figure)
