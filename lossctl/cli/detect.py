"""``lossctl detect``: only what ``eval`` would decide (task, kind, columns, alignment) and why."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated

import typer

from lossctl.cli.app import app, stdout_console
from lossctl.cli.examples import DETECT, ExamplesCommand
from lossctl.cli.options import (
    OUTPUT,
    Debug,
    DropMissing,
    Encoding,
    FromLogits,
    FromProbs,
    IdCol,
    NoHeader,
    NoId,
    PosLabel,
    PredCol,
    Predictions,
    TargetCol,
    Targets,
    Task,
    TaskChoice,
    WeightCol,
    prediction_kind,
)


class DetectFormat(str, Enum):
    table = "table"
    json = "json"


@app.command("detect", no_args_is_help=True, cls=ExamplesCommand, epilog=DETECT)
def detect_command(
    predictions: Predictions,
    targets: Targets = None,
    task: Task = TaskChoice.auto,
    from_logits: FromLogits = False,
    from_probs: FromProbs = False,
    pred_col: PredCol = None,
    target_col: TargetCol = None,
    pos_label: PosLabel = None,
    weight_col: WeightCol = None,
    id_col: IdCol = None,
    no_id: NoId = False,
    encoding: Encoding = "utf-8",
    no_header: NoHeader = False,
    drop_missing: DropMissing = False,
    output_format: Annotated[
        DetectFormat,
        typer.Option("--format", help="table (Rich) or json.", rich_help_panel=OUTPUT),
    ] = DetectFormat.table,
    debug: Debug = False,
) -> int:
    """Show what eval would decide for these inputs, and why, without computing losses."""
    from lossctl.engine import detect
    from lossctl.report.render import render_json

    found = detect(
        predictions,
        targets,
        task=task.value,
        from_logits=prediction_kind(from_logits, from_probs),
        pred_cols=pred_col,
        target_cols=target_col,
        pos_label=pos_label,
        weight_col=weight_col,
        id_col=id_col,
        no_id=no_id,
        drop_missing=drop_missing,
        encoding=encoding,
        no_header=no_header,
    )
    if output_format is DetectFormat.json:
        sys.stdout.write(render_json(found.to_dict()) + "\n")
    else:
        from lossctl.report.table import render_detection

        render_detection(found, stdout_console())
    return 0
