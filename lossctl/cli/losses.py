"""``lossctl losses``: the tasks, their activations and loss formulas."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated

import typer

from lossctl.cli.app import app, stdout_console
from lossctl.cli.examples import LOSSES, ExamplesCommand


class LossesFormat(str, Enum):
    table = "table"
    json = "json"


@app.command("losses", cls=ExamplesCommand, epilog=LOSSES)
def losses_command(
    output_format: Annotated[
        LossesFormat, typer.Option("--format", help="table (Rich) or json.")
    ] = LossesFormat.table,
) -> int:
    """List the losses lossctl computes, with the task, activation and formula of each."""
    from lossctl.core.losses import LOSSES

    if output_format is LossesFormat.json:
        from lossctl.report.render import render_json

        rows = [spec.describe() for spec in LOSSES.values()]
        sys.stdout.write(render_json({"losses": rows}) + "\n")
        return 0
    from rich.table import Table
    from rich.text import Text

    table = Table(title="lossctl losses")
    for name in ("task", "activation", "loss"):
        table.add_column(name, no_wrap=True)  # names are never cut; the formula wraps
    table.add_column("per-sample formula")
    for spec in LOSSES.values():
        table.add_row(*(Text(v) for v in (spec.task, spec.activation, spec.name, spec.formula)))
    stdout_console().print(table)
    return 0
