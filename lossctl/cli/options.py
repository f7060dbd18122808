"""Options shared by the commands, defined once: ``eval`` and ``detect`` read the same inputs."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from lossctl.errors import ConflictingOptions

COLUMNS = "Columns"
OUTPUT = "Output"
GATES = "Gates and baseline"
NUMERICS = "Numerics"


class TaskChoice(str, Enum):
    auto = "auto"
    binary = "binary"
    multiclass = "multiclass"
    multilabel = "multilabel"
    regression = "regression"


Predictions = Annotated[
    str,
    typer.Argument(
        metavar="PREDICTIONS",
        help="Predictions: .csv, .tsv, .parquet, .csv.gz/.bz2/.zst, or - for CSV on stdin.",
        show_default=False,
    ),
]
Targets = Annotated[
    str | None,
    typer.Argument(
        metavar="[TARGETS]",
        help="Targets, same formats. Leave out when --target-col names columns of PREDICTIONS.",
        show_default=False,
    ),
]
Task = Annotated[TaskChoice, typer.Option(help="The task; auto detects it from the data.")]
FromLogits = Annotated[
    bool, typer.Option("--from-logits", help="The predictions are logits (raw scores).")
]
FromProbs = Annotated[bool, typer.Option("--from-probs", help="The predictions are probabilities.")]
PredCol = Annotated[
    list[str] | None,
    typer.Option(
        "--pred-col",
        help="Prediction column(s); repeat or comma-separate. Default: all but id/weight.",
        rich_help_panel=COLUMNS,
    ),
]
TargetCol = Annotated[
    list[str] | None,
    typer.Option(
        "--target-col",
        help="Target column(s); repeat or comma-separate. Default: all of TARGETS but id/weight.",
        rich_help_panel=COLUMNS,
    ),
]
WeightCol = Annotated[
    str | None,
    typer.Option(
        "--weight-col",
        help="Per-sample weights (from TARGETS if both have it).",
        rich_help_panel=COLUMNS,
    ),
]
IdCol = Annotated[
    str | None,
    typer.Option(
        "--id",
        help="Match rows by this key column. Default: a column 'id' in both files.",
        rich_help_panel=COLUMNS,
    ),
]
NoId = Annotated[
    bool,
    typer.Option(
        "--no-id",
        help="Match rows by position, even if both have an id column.",
        rich_help_panel=COLUMNS,
    ),
]
Encoding = Annotated[
    str,
    typer.Option(
        help="Text encoding of CSV inputs, e.g. latin-1.",
        rich_help_panel=COLUMNS,
    ),
]
DropMissing = Annotated[
    bool,
    typer.Option(
        "--drop-missing",
        help="Drop rows with empty, NaN or infinite values instead of failing.",
        rich_help_panel=COLUMNS,
    ),
]
Debug = Annotated[bool, typer.Option("--debug", help="Show the traceback of an error.")]


def prediction_kind(from_logits: bool, from_probs: bool) -> bool | None:
    """``--from-logits`` / ``--from-probs`` as the library's ``from_logits``."""
    if from_logits and from_probs:
        raise ConflictingOptions(
            "--from-logits and --from-probs contradict each other", hint="Give at most one"
        )
    return True if from_logits else False if from_probs else None
