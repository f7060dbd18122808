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
    """List the losses lossctl computes: the --loss name, task, activation, formula, domain."""
    from lossctl.core.losses import LOSSES

    if output_format is LossesFormat.json:
        from lossctl.report.render import render_json

        rows = [spec.describe() for spec in LOSSES.values()]
        sys.stdout.write(render_json({"losses": rows}) + "\n")
        return 0
    from rich.table import Table
    from rich.text import Text

    table = Table(title="lossctl losses")
    for name in ("--loss", "task", "activation", "loss"):
        table.add_column(name, no_wrap=True)  # names are never cut; the formula wraps
    table.add_column("per-sample formula")
    table.add_column("domain")
    for spec in LOSSES.values():
        cells = (spec.option, spec.task, spec.activation, spec.label, spec.formula, spec.domain)
        table.add_row(*(Text(v) for v in cells))
    stdout_console().print(table)
    return 0
