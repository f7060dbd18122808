"""Usage errors: options that cannot be used together or make no sense."""

from __future__ import annotations

from lossctl.errors.base import UsageError

__all__ = [
    "BothStdin",
    "CompatLacksLoss",
    "ConflictingOptions",
    "InvalidOption",
    "LossNotForTask",
    "MetricNotForTask",
    "MissingBaseline",
    "MissingExtra",
    "NoHeaderNotCsv",
    "NoNullModel",
    "NoTargets",
    "OutputClash",
    "OutputDirMissing",
    "OutputIsInput",
    "OutputNotWritable",
    "OverlappingColumns",
    "ParameterWithoutLoss",
    "ReportNeedsExtra",
    "ReportNotHtml",
    "UnknownEncoding",
    "UnknownLoss",
    "UnknownTask",
    "UnsupportedOutput",
]


# --------------------------------------------------------------------------- usage


class ConflictingOptions(UsageError):
    """Two options contradict each other, or an option does not apply to the task."""

    fix = "Give one of them"


class UnknownTask(UsageError):
    """(Python API) A task that lossctl does not know; the command line checks --task itself."""

    fix = "Use auto, binary, multiclass, multilabel or regression"


class InvalidOption(UsageError):
    """An option value out of its range: --eps, --label-reduction, --chunk-rows, --head,
    --threshold, --top-k, --bins, a loss parameter (--delta, --beta, --quantile, --power), or a
    gate's threshold (not a number; --max-accuracy-drop and --max-auc-drop: negative or
    infinite)."""

    fix = "Use a value in the range the message gives"


class UnknownLoss(UsageError):
    """(Python API) A loss that lossctl does not know; the command line checks --loss itself."""

    fix = "Use a name that lossctl losses lists"


class ParameterWithoutLoss(UsageError):
    """A loss parameter (--delta, --quantile, ...) given without the loss that takes it."""

    fix = "Leave the parameter out, or choose its loss with --loss"


class LossNotForTask(UsageError):
    """The --loss chosen does not serve the task given or detected (a regression loss on
    class targets, a classification loss on values)."""

    fix = "Choose a loss of the task, or set the task with --task"


class CompatLacksLoss(UsageError):
    """--compat names a library that does not have the loss chosen (or the task's default
    loss): --compat kaggle --loss huber."""

    fix = "Choose a loss the library has, or leave out --compat"


class NoNullModel(UsageError):
    """--min-d2 with a loss whose null model has no closed form (mae, huber, quantile, ...)."""

    fix = "Use --max-loss instead, or a loss with a null model"


class UnknownEncoding(UsageError):
    """--encoding names an encoding that Python does not know."""

    fix = "Use utf-8, latin-1, cp1252 or another Python codec name"


class BothStdin(UsageError):
    """Two of PREDICTIONS, TARGETS and --baseline are - (standard input can be read once)."""

    fix = "Give the others as files"


class NoTargets(UsageError):
    """No TARGETS file and no --target-col to find the targets in PREDICTIONS."""

    fix = "Give a TARGETS file, or name the target columns with --target-col"


class MissingBaseline(UsageError):
    """A gate that compares with a baseline (--max-increase, --max-increase-pct,
    --max-accuracy-drop, --max-auc-drop) without one."""

    fix = "Give the baseline's predictions with --baseline"


class MetricNotForTask(UsageError):
    """A gate on a metric that the task does not have (--min-accuracy or --max-accuracy-drop
    on regression)."""

    fix = "Leave out the gate, or gate a metric of the task"


class OverlappingColumns(UsageError):
    """One column named for two parts: a prediction and a target, or a weight or --by column."""

    fix = "Give each part a column of its own"


class UnsupportedOutput(UsageError):
    """--output names a file type that lossctl does not write, or an output names a web
    server's URL (http://, https://), where lossctl does not write."""

    fix = "Use .csv, .tsv, .csv.gz or .parquet"


class OutputIsInput(UsageError):
    """An output file (--output, --junit, --markdown) is an input, which it would replace, or
    a part that an input's glob, directory or prefix would read on the next run."""

    fix = "Write it to another file"


class OutputDirMissing(UsageError):
    """The directory of an output file (--output, --junit, --markdown) does not exist, or
    the bucket of an output in object storage."""

    fix = "Create the directory first"


class OutputNotWritable(UsageError):
    """An output file cannot be written: a directory (in object storage, a prefix that holds
    objects), no permission, no space left; or, on the dask engine, --output names an
    existing file or object, where a directory of parts would go."""

    fix = "Write it where you have permission and space"


class NoHeaderNotCsv(UsageError):
    """--no-header was given, but no input of the run is CSV or TSV (Parquet and
    DataFrames name their columns themselves)."""

    fix = "Leave out --no-header, or give the inputs as CSV"


class ReportNotHtml(UsageError):
    """--report names a file that is not .html (or .htm)."""

    fix = "Give a file name ending in .html"


class ReportNeedsExtra(UsageError):
    """--report (or Report.to_html) without matplotlib, which the [report] extra installs."""

    fix = "pip install 'lossctl[report]'"


class OutputClash(UsageError):
    """Two output options (--output, --junit, --markdown, --step-summary) name the same file."""

    fix = "Give each output a file of its own"


class MissingExtra(UsageError):
    """An option or a path that needs an optional part of lossctl that is not installed:
    --engine dask needs lossctl[dask], s3:// paths lossctl[s3] (gs:// [gcs], az:// [azure],
    https:// [http])."""

    fix = "Install the extra that the message names"
