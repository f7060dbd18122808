"""Exit codes and the exception family that carries them.

Every failure lossctl expects is a :class:`LossctlError`. Each one knows its
exit code and renders as one line: where (file, column, row), what, how many
rows are affected, and a hint that says how to fix it. The command line maps
every exception to an exit code in one place (``lossctl.cli``); anything that
is not a ``LossctlError`` is a bug and exits with :attr:`ExitCode.INTERNAL_ERROR`.

The catalogue: every error lossctl reports is one of the named classes below
(:data:`CATALOGUE`), each a subclass of one family (:class:`UsageError`,
:class:`SourceError`, :class:`ColumnError`, :class:`BadValueError`,
:class:`AlignmentError`, :class:`DetectionError`, :class:`InternalError`).
A class's docstring says what causes it and its ``fix`` what to do; the
README's "Errors" section lists them with an example message, and a test
checks that it lists every one of them.

This module imports nothing but the standard library: the command line maps
errors to exit codes before NumPy or pyarrow are loaded.
"""

from __future__ import annotations

from enum import IntEnum
from typing import ClassVar


class ExitCode(IntEnum):
    """The process exit status, as documented in the README."""

    OK = 0
    GATE_FAILED = 1
    INPUT_ERROR = 2
    INTERNAL_ERROR = 3
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
    TERMINATED = 143  # SIGTERM, as a job's timeout sends it (128 + SIGTERM)


class LossctlError(Exception):
    """Base class of every error lossctl reports without a traceback.

    Parameters
    ----------
    message : str
        What is wrong, without the location (it is added from the fields).
    file, column : str, optional
        Where the problem is. ``file`` is the path as the user gave it.
    row : int, optional
        The first offending data row, counting from 1 (the header is not counted).
    count : int, optional
        How many rows are affected, when more than one may be.
    hint : str, optional
        What to do about it; by default, for an input error, the class's general ``fix``.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.INPUT_ERROR
    #: What to do about it, in general (the README's "fix" column).
    fix: ClassVar[str] = ""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        column: str | None = None,
        row: int | None = None,
        count: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.column = column
        self.row = row
        self.count = count
        if hint is None and self.exit_code == ExitCode.INPUT_ERROR:
            hint = self.fix  # (a bug's line says what to do itself: see lossctl.cli.app)
        self.hint = hint

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.column is not None:
            where.append(f"column {self.column!r}")
        if self.row is not None:
            where.append(f"row {self.row}")
        text = ", ".join(where) + ": " + self.message if where else self.message
        if self.count is not None and self.count > 1:
            text += f" ({self.count} rows affected)"
        if self.hint:
            text += f". {self.hint}"
        return text


# --------------------------------------------------------------------------- families


class UsageError(LossctlError):
    """Options that cannot be used together, or an option value that makes no sense."""


class InputError(LossctlError):
    """A file, or a value in it, that lossctl cannot evaluate."""


class SourceError(InputError):
    """The input cannot be opened or parsed: missing, a directory, wrong type, corrupt."""


class ColumnError(InputError):
    """A column that is named but absent, duplicated, or of the wrong kind."""


class BadValueError(InputError):
    """A value that cannot be used: non-numeric, missing, out of range, unknown class."""


class AlignmentError(InputError):
    """The two files cannot be matched row for row: lengths or ids disagree."""


class DetectionError(InputError):
    """The task or prediction kind asked for contradicts the data."""


# --------------------------------------------------------------------------- usage


class ConflictingOptions(UsageError):
    """Two options contradict each other, or an option does not apply to the task."""

    fix = "Give one of them"


class UnknownTask(UsageError):
    """(Python API) A task that lossctl does not know; the command line checks --task itself."""

    fix = "Use auto, binary, multiclass, multilabel or regression"


class InvalidOption(UsageError):
    """An option value out of its range: --eps, --label-reduction, --chunk-rows, --head."""

    fix = "Use a value in the range the message gives"


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
    """A gate that compares with a baseline (--max-increase, --max-increase-pct) without one."""

    fix = "Give the baseline's predictions with --baseline"


class OverlappingColumns(UsageError):
    """One column named for two parts: a prediction and a target, or a weight or --by column."""

    fix = "Give each part a column of its own"


class UnsupportedOutput(UsageError):
    """--output names a file type that lossctl does not write."""

    fix = "Use .csv, .tsv, .csv.gz or .parquet"


class OutputIsInput(UsageError):
    """An output file (--output, --junit, --markdown) is an input, which it would replace, or
    a part that an input's glob or directory would read on the next run."""

    fix = "Write it to another file"


class OutputDirMissing(UsageError):
    """The directory of an output file (--output, --junit, --markdown) does not exist."""

    fix = "Create the directory first"


class OutputNotWritable(UsageError):
    """An output file cannot be written: a directory, no permission, no space left."""

    fix = "Write it where you have permission and space"


class OutputClash(UsageError):
    """Two output options (--output, --junit, --markdown, --step-summary) name the same file."""

    fix = "Give each output a file of its own"


# --------------------------------------------------------------------------- sources


class FileNotFound(SourceError):
    """The path names no file."""

    fix = "Check the path"


class IsADirectory(SourceError):
    """Python only, from `lossctl.io.sources.resolve`, which opens one file: the command
    line and `lossctl.evaluate` read a directory as parts."""

    fix = "Give the path of a file"


class NoFileMatches(SourceError):
    """A glob pattern (such as 'preds/*.parquet') that matches no file."""

    fix = "Check the pattern, and quote it so that lossctl expands it itself"


class NoPartFiles(SourceError):
    """A directory of parts that holds no .csv, .tsv or .parquet file, in any subdirectory."""

    fix = "Give a directory of parts, or a glob that matches them"


class MixedPartFormats(SourceError):
    """The parts of a glob or a directory are not all of one format (CSV, TSV or Parquet)."""

    fix = "Give parts of one format, with a narrower glob"


class UnsupportedFormat(SourceError):
    """The file name's extension is not one lossctl reads."""

    fix = "Use .csv, .tsv, .parquet or .csv.gz/.bz2/.zst, or rename the file"


class StdinIsTerminal(SourceError):
    """An input is - but standard input is a terminal, not a pipe or a file."""

    fix = "Pipe the CSV into lossctl, or give a file path"


class Unreadable(SourceError):
    """The operating system or the decompressor refuses the file (permissions, corrupt gzip)."""

    fix = "Check that the file is complete, readable, and compressed as its name says"


class EmptyFile(SourceError):
    """The file has no header row at all."""

    fix = "Give a file with a header row and data rows"


class HeaderOnly(SourceError):
    """The file has a header but no data rows."""

    fix = "Give at least one data row"


class RaggedRow(SourceError):
    """A CSV row has more or fewer fields than the header."""

    fix = "Fix the row, or check the delimiter and quoting"


class NotUtf8(SourceError):
    """A CSV file is not UTF-8 text (and no --encoding says what it is)."""

    fix = "Pass --encoding (latin-1, cp1252, ...) or save the file as UTF-8"


class UnparsableCsv(SourceError):
    """The CSV reader refuses the file for another reason (pyarrow's words are quoted)."""

    fix = "Check that the file is CSV, with a header row"


class CorruptParquet(SourceError):
    """A .parquet file that is truncated, corrupt, or not Parquet at all."""

    fix = "Check that the file is complete and really Parquet"


class UnsupportedData(SourceError):
    """(Python API) An object that is not a table: a 3-D array, complex numbers."""

    fix = "Give a path, a DataFrame, a pyarrow Table, or a 1-D or 2-D array of numbers"


# --------------------------------------------------------------------------- columns


class NoSuchColumn(ColumnError):
    """An option names a column that the file does not have."""

    fix = "Use one of the columns the message lists"


class DuplicateColumn(ColumnError):
    """Two columns of one file have the same name, or an option names a column twice."""

    fix = "Give every column a unique name, and name it once"


class NoColumnsLeft(ColumnError):
    """Once the id and weight columns are set aside, no prediction or target column is left."""

    fix = "Name the columns with --pred-col and --target-col"


class AmbiguousPairing(ColumnError):
    """Target columns that share some, but not all, names with the prediction columns."""

    fix = "Give both lists in matching order with --pred-col and --target-col"


class UnsupportedColumnType(ColumnError):
    """A Parquet or DataFrame column of a type that holds no numbers (lists, structs, dates)."""

    fix = "Pick numeric columns with --pred-col and --target-col"


class PartColumnsDiffer(ColumnError):
    """A part of a glob or a directory whose columns are not those of the first part."""

    fix = "Give every part the same columns (in any order)"


class PartitionColumnClash(ColumnError):
    """A Hive partition directory (key=value) whose key is also a column of the file."""

    fix = "Rename the column or the partition directories"


# --------------------------------------------------------------------------- values


class NonNumeric(BadValueError):
    """A prediction, weight or numeric target that is not a number."""

    fix = "Fix the value, or pick numeric columns with --pred-col"


class MissingValue(BadValueError):
    """An empty cell, NaN or infinity in a prediction, target or weight column."""

    fix = "Fill or remove those rows, or pass --drop-missing"


class AllRowsMissing(BadValueError):
    """--drop-missing dropped every row: nothing is left to evaluate."""

    fix = "Check the columns chosen"


class NegativeWeight(BadValueError):
    """A weight below zero."""

    fix = "Weights must be >= 0"


class ZeroWeights(BadValueError):
    """Every weight is zero, so the weighted mean is undefined."""

    fix = "Check --weight-col"


class ProbabilityOutOfRange(BadValueError):
    """--from-probs was given, but a prediction lies outside [0, 1]."""

    fix = "Drop --from-probs if the predictions are logits"


class ClassIndexOutOfRange(BadValueError):
    """A multiclass target index is at least the number of prediction columns."""

    fix = "Check --pred-col: one prediction column per class"


class UnknownClass(BadValueError):
    """A multiclass target that is neither a prediction column name nor a class index."""

    fix = "Use the prediction column names, or indices 0..K-1"


class MixedClassTargets(BadValueError):
    """Multiclass targets that mix class names and class indices."""

    fix = "Use either the names or the indices, not both"


class NotBinary(BadValueError):
    """A binary or multilabel target that is not 0/1 (or true/false)."""

    fix = "Use --task regression for other values"


class NotOneHot(BadValueError):
    """Several multiclass target columns whose row is not exactly one 1 and zeros."""

    fix = "Give one class column, or one-hot rows"


class LossOverflow(BadValueError):
    """A regression error so large that its square is beyond float64 (about 1e308)."""

    fix = "Scale the predictions and targets to a smaller range"


# --------------------------------------------------------------------------- alignment


class LengthMismatch(AlignmentError):
    """Aligned by row order, the two files have different numbers of rows."""

    fix = "Give files with the same rows, or align them by an id column with --id"


class UnpairedBaseline(AlignmentError):
    """The baseline does not cover the target rows (or ids) of the predictions, or none is kept."""

    fix = "Give the baseline predictions for the same rows, or the same ids"


class EmptyId(AlignmentError):
    """A row whose id cell is empty."""

    fix = "Give every row an id, or align by row order with --no-id"


class DuplicateIds(AlignmentError):
    """An id that appears more than once in one file."""

    fix = "Make every id appear exactly once in each file"


class MissingIds(AlignmentError):
    """Ids of one file that the other does not have."""

    fix = "Make both files hold the same ids, or align by row order with --no-id"


# --------------------------------------------------------------------------- detection


class WrongColumnCount(DetectionError):
    """The number of prediction or target columns does not suit the task."""

    fix = "Pick the columns with --pred-col and --target-col, or choose another --task"


class BaselineTaskMismatch(DetectionError):
    """The baseline's predictions are detected as another task than the predictions."""

    fix = "Set the task with --task"


# --------------------------------------------------------------------------- bugs


class InternalError(LossctlError):
    """A state that should be impossible: a bug in lossctl."""

    exit_code = ExitCode.INTERNAL_ERROR
    fix = "Rerun with --debug and report the traceback"


FAMILIES: tuple[type[LossctlError], ...] = (
    UsageError,
    InputError,
    SourceError,
    ColumnError,
    BadValueError,
    AlignmentError,
    DetectionError,
)


def _named(cls: type[LossctlError]) -> list[type[LossctlError]]:
    """The subclasses of ``cls`` that are not families, depth first, in definition order."""
    found = []
    for sub in cls.__subclasses__():
        if sub not in FAMILIES:
            found.append(sub)
        found += _named(sub)
    return found


#: Every named error, family by family: what the README's "Errors" table lists.
CATALOGUE: tuple[type[LossctlError], ...] = tuple(_named(LossctlError))
