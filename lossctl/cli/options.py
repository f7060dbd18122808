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
LOSS = "Loss"


ENGINE = "Engine"


class EngineChoice(str, Enum):
    local = "local"
    dask = "dask"


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
        help="Predictions: .csv, .tsv, .parquet, .arrow/.feather/.ipc, .jsonl/.ndjson, .npy, "
        ".csv.gz/.bz2/.zst, a glob or a directory of parts, or - for CSV on stdin.",
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
PosLabel = Annotated[
    str | None,
    typer.Option(
        "--pos-label",
        help="Binary targets: the target value that is the positive class (yes, M, 1, ...).",
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
NoHeader = Annotated[
    bool,
    typer.Option(
        "--no-header",
        help="CSV inputs have no header line: their columns are named 0, 1, ...",
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


# ---------------------------------------------------------------- eval's own options


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    value = "value"


class Reduction(str, Enum):
    sum = "sum"
    mean = "mean"


By = Annotated[
    str | None,
    typer.Option(
        "--by",
        help="Also give the mean loss per value of this column (either file).",
        rich_help_panel=COLUMNS,
    ),
]
Eps = Annotated[
    float, typer.Option(help=r"Clip probabilities to \[eps, 1 - eps].", rich_help_panel=NUMERICS)
]
LabelReduction = Annotated[
    Reduction | None,
    typer.Option(
        "--label-reduction",
        help="Multilabel: sum the per-label losses (default), or average them (PyTorch/Keras).",
        rich_help_panel=NUMERICS,
    ),
]


class LossChoice(str, Enum):
    """The ``--loss`` names (``lossctl.core.catalogue.LOSS_NAMES``)."""

    bce = "bce"
    focal = "focal"
    hinge = "hinge"
    kl = "kl"
    ce = "ce"
    mse = "mse"
    mae = "mae"
    huber = "huber"
    smooth_l1 = "smooth_l1"
    log_cosh = "log_cosh"
    quantile = "quantile"
    msle = "msle"
    mape = "mape"
    poisson = "poisson"
    gamma = "gamma"
    tweedie = "tweedie"


Loss = Annotated[
    LossChoice | None,
    typer.Option(
        "--loss",
        help="The per-sample loss (default: the task's own; lossctl losses lists them).",
        rich_help_panel=LOSS,
    ),
]
Delta = Annotated[
    float | None,
    typer.Option(
        "--delta",
        help="--loss huber: where the square turns linear (default 1; > 0).",
        rich_help_panel=LOSS,
    ),
]
Beta = Annotated[
    float | None,
    typer.Option(
        "--beta",
        help="--loss smooth_l1: where the square turns linear (default 1; >= 0).",
        rich_help_panel=LOSS,
    ),
]
Quantile = Annotated[
    float | None,
    typer.Option(
        "--quantile",
        help="--loss quantile: the quantile predicted (default 0.5; in (0, 1)).",
        rich_help_panel=LOSS,
    ),
]
Power = Annotated[
    float | None,
    typer.Option(
        "--power",
        help="--loss tweedie: the power of the deviance (default 0; <= 0 or >= 1).",
        rich_help_panel=LOSS,
    ),
]
Gamma = Annotated[
    float | None,
    typer.Option(
        "--gamma", help="--loss focal: the focusing power (default 2; >= 0).", rich_help_panel=LOSS
    ),
]
Alpha = Annotated[
    str | None,
    typer.Option(
        "--alpha",
        help="--loss focal: weight of the positives in [0, 1] (multiclass: NAME=W,... per class).",
        rich_help_panel=LOSS,
    ),
]
PosWeight = Annotated[
    str | None,
    typer.Option(
        "--pos-weight",
        help="bce: weight of the positive term (> 0; multilabel: W1,W2,... or NAME=W,...).",
        rich_help_panel=LOSS,
    ),
]
LabelSmoothing = Annotated[
    float | None,
    typer.Option(
        "--label-smoothing",
        help="ce: the target becomes (1 - s) one-hot + s / K (default 0; in [0, 1]).",
        rich_help_panel=LOSS,
    ),
]


class CompatChoice(str, Enum):
    sklearn = "sklearn"
    torch = "torch"
    keras = "keras"
    kaggle = "kaggle"


Compat = Annotated[
    CompatChoice,
    typer.Option(
        "--compat",
        help="Reproduce this library's numbers on probabilities (clip, clamp, rescaling, "
        "multilabel mean).",
        rich_help_panel=NUMERICS,
    ),
]
ClassWeight = Annotated[
    str | None,
    typer.Option(
        "--class-weight",
        help="ce: weigh each sample by its class: balanced, NAME=W,... or a class,weight CSV.",
        rich_help_panel=LOSS,
    ),
]
Engine = Annotated[
    EngineChoice,
    typer.Option(
        "--engine",
        help="local (this process) or dask (a Dask cluster: pip install 'lossctl[dask]').",
        rich_help_panel=ENGINE,
    ),
]
Scheduler = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        metavar="ADDR",
        help="--engine dask: the scheduler's address (default: $DASK_SCHEDULER_ADDRESS, "
        "else a LocalCluster for the run).",
        rich_help_panel=ENGINE,
        show_default=False,
    ),
]
ChunkRows = Annotated[
    int,
    typer.Option(
        "--chunk-rows", min=1, help="Rows per chunk of the computation.", rich_help_panel=NUMERICS
    ),
]
OutputFormat = Annotated[
    Format,
    typer.Option(
        "--format",
        help="table (Rich), json, csv (per-sample losses) or value (the mean alone).",
        rich_help_panel=OUTPUT,
    ),
]
Output = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        help="Write per-sample losses to this .csv, .tsv, .csv.gz or .parquet file (or "
        "object: s3://, gs://, az://).",
        rich_help_panel=OUTPUT,
    ),
]
HtmlReport = Annotated[
    str | None,
    typer.Option(
        "--report",
        help="Write the report as one HTML page with charts (pip install 'lossctl[report]').",
        rich_help_panel=OUTPUT,
    ),
]
Junit = Annotated[
    str | None,
    typer.Option(help="Write the gates as JUnit XML to this file.", rich_help_panel=OUTPUT),
]
Markdown = Annotated[
    str | None,
    typer.Option(help="Write a Markdown summary to this file.", rich_help_panel=OUTPUT),
]
StepSummary = Annotated[
    bool,
    typer.Option(
        "--step-summary",
        help="Append the Markdown summary to $GITHUB_STEP_SUMMARY, when it is set.",
        rich_help_panel=OUTPUT,
    ),
]
Head = Annotated[
    int, typer.Option(min=0, help="Rows shown first in the table.", rich_help_panel=OUTPUT)
]
Worst = Annotated[
    int, typer.Option(min=0, help="Worst rows shown in the table.", rich_help_panel=OUTPUT)
]
NoProgress = Annotated[
    bool,
    typer.Option(
        "--no-progress",
        help="No progress bar (one is drawn on stderr for large inputs at a terminal).",
        rich_help_panel=OUTPUT,
    ),
]
MaxLoss = Annotated[
    float | None,
    typer.Option(
        "--max-loss", help="Gate: fail when the mean loss is above this.", rich_help_panel=GATES
    ),
]
MinD2 = Annotated[
    float | None,
    typer.Option(
        "--min-d2",
        help="Gate: fail when D^2 = 1 - loss / null loss is below this.",
        rich_help_panel=GATES,
    ),
]
Baseline = Annotated[
    str | None,
    typer.Option(
        help="Predictions of a baseline model for the same targets, to compare with.",
        rich_help_panel=GATES,
    ),
]
MaxIncrease = Annotated[
    float | None,
    typer.Option(
        "--max-increase",
        help="Gate: fail when the loss exceeds the baseline's by more than this.",
        rich_help_panel=GATES,
    ),
]
MaxIncreasePct = Annotated[
    float | None,
    typer.Option(
        "--max-increase-pct",
        help="Gate: fail when the loss exceeds the baseline's by more than this percent.",
        rich_help_panel=GATES,
    ),
]
MaxAccuracyDrop = Annotated[
    float | None,
    typer.Option(
        help="Gate: fail when the accuracy is more than this below the baseline's (0.01: a point).",
        rich_help_panel=GATES,
    ),
]
MaxAucDrop = Annotated[
    float | None,
    typer.Option(
        help="Gate: fail when the (macro) ROC AUC is more than this below the baseline's.",
        rich_help_panel=GATES,
    ),
]
Bootstrap = Annotated[
    int,
    typer.Option(
        min=1,
        help="Resamples of the paired bootstrap of the baseline difference.",
        rich_help_panel=GATES,
    ),
]
Seed = Annotated[int, typer.Option(help="Seed of the bootstrap.", rich_help_panel=GATES)]
MinAccuracy = Annotated[
    float | None,
    typer.Option(
        "--min-accuracy",
        help="Gate: fail when the accuracy (multilabel: subset accuracy) is below this.",
        rich_help_panel=GATES,
    ),
]
MinAuc = Annotated[
    float | None,
    typer.Option(
        "--min-auc",
        help="Gate: fail when the (macro) ROC AUC is below this.",
        rich_help_panel=GATES,
    ),
]
MaxEce = Annotated[
    float | None,
    typer.Option(
        "--max-ece",
        help="Gate: fail when the expected calibration error is above this.",
        rich_help_panel=GATES,
    ),
]
MaxBrier = Annotated[
    float | None,
    typer.Option(
        "--max-brier", help="Gate: fail when the Brier score is above this.", rich_help_panel=GATES
    ),
]
METRICS = "Metrics"
NoMetrics = Annotated[
    bool,
    typer.Option(
        "--no-metrics",
        help="The loss alone: no accuracy, ROC AUC, calibration or confusion matrix.",
        rich_help_panel=METRICS,
    ),
]
Threshold = Annotated[
    float,
    typer.Option(
        help="Binary and multilabel: predict positive when the probability is above this.",
        rich_help_panel=METRICS,
    ),
]
TopK = Annotated[
    int | None,
    typer.Option(
        "--top-k",
        help=r"Multiclass: top-k accuracy with this k.  \[default: 5, shown when K > 5]",
        rich_help_panel=METRICS,
        show_default=False,
    ),
]
Bins = Annotated[
    int,
    typer.Option(
        help="Equal-width bins of the calibration error and the reliability table.",
        rich_help_panel=METRICS,
    ),
]

#: The command line's parameters that the library names otherwise.
API_NAMES = {"pred_col": "pred_cols", "target_col": "target_cols", "bootstrap": "n_bootstrap"}
