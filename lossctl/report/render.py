"""Every way to show a report, in one table per destination: ``RENDERERS`` for stdout
(keyed by ``--format``) and ``FILE_RENDERERS`` for the files of the CI options.

Each renderer only draws the report it is given; what to print and where is
the command line's choice. Rich, and the CI renderers, are imported only by
the renderers that use them.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from lossctl.report.model import Report

if TYPE_CHECKING:
    from rich.console import Console


@dataclass
class Out:
    """Where a renderer writes: text on ``stream``; Rich on ``console()``; and, for
    ``--format csv``, the per-sample losses the run wrote to ``losses`` (CSV)."""

    stream: IO[str]
    console: Callable[[], Console]
    losses: IO[bytes] | None = None


def render_json(document: dict[str, Any]) -> str:
    """One JSON document (a report's ``to_dict()``); NaN and infinity never appear."""
    return json.dumps(document, indent=2, allow_nan=False, ensure_ascii=False)


def render_value(report: Report) -> str:
    """The (weighted) mean loss alone, with every digit needed to read it back exactly."""
    return repr(report.mean_loss)


def _table(report: Report, out: Out) -> None:
    from lossctl.report.table import render_table

    render_table(report, out.console())


def _json(report: Report, out: Out) -> None:
    out.stream.write(render_json(report.to_dict()) + "\n")


def _value(report: Report, out: Out) -> None:
    out.stream.write(render_value(report) + "\n")


def _csv(report: Report, out: Out) -> None:
    """The per-sample losses, as the run wrote them (the report holds only totals)."""
    assert out.losses is not None
    out.stream.flush()
    out.losses.seek(0)
    shutil.copyfileobj(out.losses, out.stream.buffer)  # type: ignore[attr-defined]


#: ``--format``: how each format draws a report on stdout.
RENDERERS: dict[str, Callable[[Report, Out], None]] = {
    "table": _table,
    "json": _json,
    "csv": _csv,
    "value": _value,
}


def _junit(report: Report) -> str:
    from lossctl.report.ci import render_junit

    return render_junit(report)


def _markdown(report: Report) -> str:
    from lossctl.report.ci import render_markdown

    return render_markdown(report)


#: The CI options' files: ``--junit``, ``--markdown`` (also ``--step-summary``).
FILE_RENDERERS: dict[str, Callable[[Report], str]] = {
    "junit": _junit,
    "markdown": _markdown,
}
