"""Column, value, alignment and detection errors: what is inside the inputs."""

from __future__ import annotations

from lossctl.errors.base import AlignmentError, BadValueError, ColumnError, DetectionError

__all__ = [
    "AllRowsMissing",
    "AmbiguousPairing",
    "BaselineTaskMismatch",
    "ClassIndexOutOfRange",
    "DuplicateColumn",
    "DuplicateIds",
    "EmptyId",
    "LengthMismatch",
    "LossOverflow",
    "MissingIds",
    "MissingValue",
    "MixedClassTargets",
    "MixedJsonTypes",
    "NegativeWeight",
    "NoColumnsLeft",
    "NoSampleOfClass",
    "NoSuchColumn",
    "NonNumeric",
    "NotBinary",
    "NotOneHot",
    "OutsideLossDomain",
    "PartColumnsDiffer",
    "PartitionColumnClash",
    "PosLabelNeeded",
    "ProbabilityOutOfRange",
    "RaggedList",
    "TooManyTargetColumns",
    "TooManyValues",
    "UnknownClass",
    "UnknownPosLabel",
    "UnpairedBaseline",
    "UnsupportedColumnType",
    "WrongColumnCount",
    "ZeroWeights",
]


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
    """A Parquet, Arrow, JSON Lines or DataFrame column of a type that holds no numbers
    (lists of text, structs, dates)."""

    fix = "Pick numeric columns with --pred-col and --target-col"


class MixedJsonTypes(ColumnError):
    """A JSON Lines column whose values are of two JSON types (numbers and strings)."""

    fix = "Give each column values of one JSON type (quote every id, or none)"


class TooManyTargetColumns(ColumnError):
    """TARGETS has more columns besides the id and weights than targets can be (a split or a
    date column beside the label), and no --target-col says which is the target."""

    fix = "Pick the target column with --target-col"


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


class RaggedList(BadValueError):
    """A list column of numbers (read as K columns, logits[0] .. logits[K-1]) with a row whose list
    is not as long as the first list of the column."""

    fix = "Give every row a list of the same length"


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


class UnknownPosLabel(BadValueError):
    """--pos-label names a value that the target column does not hold."""

    fix = "Give --pos-label one of the values of the target column"


class TooManyValues(BadValueError):
    """--pos-label was given, but the target column holds more than two values."""

    fix = "Give a target column of two values: --pos-label makes one of them 1, the other 0"


class NotOneHot(BadValueError):
    """Several multiclass target columns whose row is not exactly one 1 and zeros."""

    fix = "Give one class column, or one-hot rows"


class LossOverflow(BadValueError):
    """A regression error so large that its square is beyond float64 (about 1e308)."""

    fix = "Scale the predictions and targets to a smaller range"


class NoSampleOfClass(BadValueError):
    """--class-weight balanced, and a class (a prediction column) has no sample in the targets,
    so its weight n / (K x count) has no value."""

    fix = "Give the class weights with NAME=W,..., or leave out the empty class's column"


class OutsideLossDomain(BadValueError):
    """A target or prediction outside the domain of the --loss chosen (a negative target for
    poisson, a prediction <= 0 for gamma), as scikit-learn checks it."""

    fix = "Choose a loss whose domain holds the values, or fix the values"


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


class PosLabelNeeded(DetectionError):
    """Binary targets of two values other than 0/1 (yes/no, -1/1) and no --pos-label to say
    which one is the positive class."""

    fix = "Name the positive class with --pos-label"


class BaselineTaskMismatch(DetectionError):
    """The baseline's predictions are detected as another task than the predictions."""

    fix = "Set the task with --task"
