"""``lossctl eval``: build the report with the library, render it, return the exit code."""

from __future__ import annotations

import itertools
import os
import sys
from enum import Enum
from typing import Annotated

import typer

from lossctl.cli.app import app, error_line, silence_stdout, stdout_console
from lossctl.cli.examples import EVAL, ExamplesCommand
from lossctl.cli.options import (
    COLUMNS,
    GATES,
    NUMERICS,
    OUTPUT,
    Debug,
    DropMissing,
    Encoding,
    FromLogits,
    FromProbs,
    IdCol,
    NoId,
    PredCol,
    Predictions,
    TargetCol,
    Targets,
    Task,
    TaskChoice,
    WeightCol,
    prediction_kind,
)
from lossctl.core.defaults import DEFAULT_CHUNK_ROWS, DEFAULT_EPS
from lossctl.errors import OutputClash


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    value = "value"


class Reduction(str, Enum):
    sum = "sum"
    mean = "mean"


@app.command("eval", no_args_is_help=True, cls=ExamplesCommand, epilog=EVAL)
def eval_command(
    predictions: Predictions,
    targets: Targets = None,
    task: Task = TaskChoice.auto,
    from_logits: FromLogits = False,
    from_probs: FromProbs = False,
    pred_col: PredCol = None,
    target_col: TargetCol = None,
    weight_col: WeightCol = None,
    id_col: IdCol = None,
    no_id: NoId = False,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="Also give the mean loss per value of this column (either file).",
            rich_help_panel=COLUMNS,
        ),
    ] = None,
    encoding: Encoding = "utf-8",
    drop_missing: DropMissing = False,
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
    junit: Annotated[
        str | None,
        typer.Option(help="Write the gates as JUnit XML to this file.", rich_help_panel=OUTPUT),
    ] = None,
    markdown: Annotated[
        str | None,
        typer.Option(help="Write a Markdown summary to this file.", rich_help_panel=OUTPUT),
    ] = None,
    step_summary: Annotated[
        bool,
        typer.Option(
            "--step-summary",
            help="Append the Markdown summary to $GITHUB_STEP_SUMMARY, when it is set.",
            rich_help_panel=OUTPUT,
        ),
    ] = False,
    head: Annotated[
        int, typer.Option(min=0, help="Rows shown first in the table.", rich_help_panel=OUTPUT)
    ] = 10,
    worst: Annotated[
        int, typer.Option(min=0, help="Worst rows shown in the table.", rich_help_panel=OUTPUT)
    ] = 5,
    max_loss: Annotated[
        float | None,
        typer.Option(
            "--max-loss", help="Gate: fail when the mean loss is above this.", rich_help_panel=GATES
        ),
    ] = None,
    min_d2: Annotated[
        float | None,
        typer.Option(
            "--min-d2",
            help="Gate: fail when D^2 = 1 - loss / null loss is below this.",
            rich_help_panel=GATES,
        ),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(
            help="Predictions of a baseline model for the same targets, to compare with.",
            rich_help_panel=GATES,
        ),
    ] = None,
    max_increase: Annotated[
        float | None,
        typer.Option(
            "--max-increase",
            help="Gate: fail when the loss exceeds the baseline's by more than this.",
            rich_help_panel=GATES,
        ),
    ] = None,
    max_increase_pct: Annotated[
        float | None,
        typer.Option(
            "--max-increase-pct",
            help="Gate: fail when the loss exceeds the baseline's by more than this percent.",
            rich_help_panel=GATES,
        ),
    ] = None,
    bootstrap: Annotated[
        int,
        typer.Option(
            min=1,
            help="Resamples of the paired bootstrap of the baseline difference.",
            rich_help_panel=GATES,
        ),
    ] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.", rich_help_panel=GATES)] = 0,
    no_progress: Annotated[
        bool,
        typer.Option(
            "--no-progress",
            help="No progress bar (one is drawn on stderr for large inputs at a terminal).",
            rich_help_panel=OUTPUT,
        ),
    ] = False,
    debug: Debug = False,
) -> int:
    """Evaluate PREDICTIONS against TARGETS and report per-sample and mean loss.

    Exit status: 0 evaluated (gates passed), 1 a gate failed, 2 usage or input
    error, 3 internal error (a bug).
    """
    import tempfile

    from lossctl.cli.progress import ProgressBar
    from lossctl.engine import evaluate
    from lossctl.io.writers import check_output, write_text
    from lossctl.options import EvalOptions
    from lossctl.report.render import FILE_RENDERERS, RENDERERS, Out

    options = EvalOptions.build(
        task=task.value,
        from_logits=prediction_kind(from_logits, from_probs),
        pred_cols=pred_col,
        target_cols=target_col,
        weight_col=weight_col,
        id_col=id_col,
        no_id=no_id,
        by=by,
        eps=eps,
        label_reduction=label_reduction.value,
        drop_missing=drop_missing,
        encoding=encoding,
        baseline=baseline,
        n_bootstrap=bootstrap,
        seed=seed,
        max_loss=max_loss,
        max_increase=max_increase,
        max_increase_pct=max_increase_pct,
        min_d2=min_d2,
        head=head if output_format is Format.table else 0,
        worst=worst,
        chunk_rows=chunk_rows,
    )
    inputs = [name for name in (predictions, targets, baseline) if name]
    summary_path = os.environ.get("GITHUB_STEP_SUMMARY") or None if step_summary else None
    destinations = [
        (option, path)
        for option, path in (
            ("--output", output),
            ("--junit", junit),
            ("--markdown", markdown),
            ("--step-summary", summary_path),
        )
        if path is not None
    ]
    for option, path in destinations:
        check_output(path, inputs, option)
    for (first, a), (second, b) in itertools.combinations(destinations, 2):
        if os.path.realpath(a) == os.path.realpath(b):
            raise OutputClash(f"{first} and {second} name the same file", file=a)
    # Per-sample CSV for stdout is written aside and printed once the run is complete.
    spool = tempfile.TemporaryFile() if output_format is Format.csv else None  # noqa: SIM115
    try:
        report = evaluate(
            predictions,
            targets,
            options=options,
            output=[d for d in (output, spool) if d is not None],
            keep_losses=False,
            progress=ProgressBar() if ProgressBar.wanted(no_progress) else None,
        )
        for name, file in (("junit", junit), ("markdown", markdown)):
            if file is not None:
                write_text(file, FILE_RENDERERS[name](report))
        if summary_path:
            write_text(summary_path, FILE_RENDERERS["markdown"](report), append=True)
        try:
            RENDERERS[output_format.value](report, Out(sys.stdout, stdout_console, spool))
            sys.stdout.flush()
        except BrokenPipeError:
            silence_stdout()  # the reader (`| head`) has what it wanted; the exit code stands
    finally:
        if spool is not None:
            spool.close()
    for gate in report.gates:
        if not gate.passed:
            error_line(gate.message)
    return int(report.exit_code)
