"""``lossctl eval``: build the report with the library, render it, return the exit code."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated

import typer

from lossctl.cli.app import app, error_line, silence_stdout
from lossctl.core.defaults import DEFAULT_CHUNK_ROWS, DEFAULT_EPS
from lossctl.errors import UsageError


class TaskChoice(str, Enum):
    auto = "auto"
    binary = "binary"
    multiclass = "multiclass"
    multilabel = "multilabel"
    regression = "regression"


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    value = "value"


class Reduction(str, Enum):
    sum = "sum"
    mean = "mean"


COLUMNS = "Columns"
OUTPUT = "Output and gates"
NUMERICS = "Numerics"


@app.command("eval", no_args_is_help=True)
def eval_command(
    predictions: Annotated[
        str,
        typer.Argument(
            metavar="PREDICTIONS",
            help="Predictions: .csv, .tsv, .parquet, .csv.gz/.bz2/.zst, or - for CSV on stdin.",
            show_default=False,
        ),
    ],
    targets: Annotated[
        str | None,
        typer.Argument(
            metavar="[TARGETS]",
            help="Targets, same formats. Leave out when --target-col names columns of PREDICTIONS.",
            show_default=False,
        ),
    ] = None,
    task: Annotated[
        TaskChoice, typer.Option(help="The task; auto detects it from the data.")
    ] = TaskChoice.auto,
    from_logits: Annotated[
        bool, typer.Option("--from-logits", help="The predictions are logits (raw scores).")
    ] = False,
    from_probs: Annotated[
        bool, typer.Option("--from-probs", help="The predictions are probabilities.")
    ] = False,
    pred_col: Annotated[
        list[str] | None,
        typer.Option(
            "--pred-col",
            help="Prediction column(s); repeat or comma-separate. Default: all but id/weight.",
            rich_help_panel=COLUMNS,
        ),
    ] = None,
    target_col: Annotated[
        list[str] | None,
        typer.Option(
            "--target-col",
            help="Target column(s); repeat or comma-separate. Default: all of TARGETS but "
            "id/weight.",
            rich_help_panel=COLUMNS,
        ),
    ] = None,
    weight_col: Annotated[
        str | None,
        typer.Option(
            "--weight-col",
            help="Per-sample weights (from TARGETS if both have it).",
            rich_help_panel=COLUMNS,
        ),
    ] = None,
    id_col: Annotated[
        str | None,
        typer.Option(
            "--id",
            help="Match rows by this key column. Default: a column 'id' in both files.",
            rich_help_panel=COLUMNS,
        ),
    ] = None,
    no_id: Annotated[
        bool,
        typer.Option(
            "--no-id",
            help="Match rows by position, even if both have an id column.",
            rich_help_panel=COLUMNS,
        ),
    ] = False,
    encoding: Annotated[
        str,
        typer.Option(
            help="Text encoding of CSV inputs, e.g. latin-1 (default utf-8).",
            rich_help_panel=COLUMNS,
        ),
    ] = "utf-8",
    drop_missing: Annotated[
        bool,
        typer.Option(
            "--drop-missing",
            help="Drop rows with empty, NaN or infinite values instead of failing.",
            rich_help_panel=COLUMNS,
        ),
    ] = False,
    eps: Annotated[
        float,
        typer.Option(help=r"Clip probabilities to \[eps, 1 - eps].", rich_help_panel=NUMERICS),
    ] = DEFAULT_EPS,
    label_reduction: Annotated[
        Reduction,
        typer.Option(
            "--label-reduction",
            help="Multilabel: sum the per-label losses, or average them (PyTorch/Keras).",
            rich_help_panel=NUMERICS,
        ),
    ] = Reduction.sum,
    chunk_rows: Annotated[
        int,
        typer.Option(
            "--chunk-rows",
            min=1,
            help="Rows per chunk of the computation.",
            rich_help_panel=NUMERICS,
        ),
    ] = DEFAULT_CHUNK_ROWS,
    output_format: Annotated[
        Format,
        typer.Option(
            "--format",
            help="table (Rich), json, csv (per-sample losses) or value (the mean alone).",
            rich_help_panel=OUTPUT,
        ),
    ] = Format.table,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Write per-sample losses to this .csv, .tsv, .csv.gz or .parquet file.",
            rich_help_panel=OUTPUT,
        ),
    ] = None,
    max_loss: Annotated[
        float | None,
        typer.Option(
            "--max-loss",
            help="Gate: exit 1 when the mean loss is above this.",
            rich_help_panel=OUTPUT,
        ),
    ] = None,
    head: Annotated[
        int, typer.Option(min=0, help="Rows shown first in the table.", rich_help_panel=OUTPUT)
    ] = 10,
    worst: Annotated[
        int, typer.Option(min=0, help="Worst rows shown in the table.", rich_help_panel=OUTPUT)
    ] = 5,
    debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of an error.")] = False,
) -> int:
    """Evaluate PREDICTIONS against TARGETS and report per-sample and mean loss.

    Exit status: 0 evaluated (gates passed), 1 a gate failed, 2 usage or input
    error, 3 internal error (a bug).
    """
    from lossctl.engine import evaluate
    from lossctl.io.writers import check_output, losses_table, write_csv_stdout, write_losses

    if from_logits and from_probs:
        raise UsageError(
            "--from-logits and --from-probs contradict each other", hint="Give at most one"
        )
    if output is not None:
        check_output(output, [predictions, *([targets] if targets else [])])
    report = evaluate(
        predictions,
        targets,
        task=task.value,
        from_logits=True if from_logits else False if from_probs else None,
        pred_cols=pred_col,
        target_cols=target_col,
        weight_col=weight_col,
        id_col=id_col,
        no_id=no_id,
        eps=eps,
        label_reduction=label_reduction.value,
        drop_missing=drop_missing,
        max_loss=max_loss,
        head=head if output_format is Format.table else 0,
        worst=worst,
        chunk_rows=chunk_rows,
        encoding=encoding,
    )
    per_sample = None
    if output is not None or output_format is Format.csv:
        assert report.losses is not None
        per_sample = losses_table(report.losses, report.ids, report.inputs.id_column)
    if output is not None and per_sample is not None:
        write_losses(output, per_sample)

    try:
        if output_format is Format.table:
            from rich.console import Console

            from lossctl.report.table import render_table

            render_table(report, Console(highlight=False))
        elif output_format is Format.json:
            from lossctl.report.render import render_json

            sys.stdout.write(render_json(report) + "\n")
        elif output_format is Format.value:
            from lossctl.report.render import render_value

            sys.stdout.write(render_value(report) + "\n")
        elif per_sample is not None:
            write_csv_stdout(per_sample)
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()  # the reader (`| head`) has what it wanted; the exit code stands
    for gate in report.gates:
        if not gate.passed:
            error_line(gate.message)
    return int(report.exit_code)
