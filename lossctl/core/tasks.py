"""Task and prediction-kind detection, and the targets each task accepts.

Detection reads *profiles*: small summaries of the prediction and target
columns (ranges, counts of rows that break a rule and the first such row).
A profile is built per chunk with ``of`` and combined with ``merge``, so the
decision is always made over the whole input, never over one chunk.

The rules (``SPEC.md``, "Auto-detection"), in order:

1. Several target columns: one-hot rows, and predictions that are logits or
   probability rows summing to 1 -> multiclass; 0/1 values -> multilabel;
   anything else -> multi-output regression.
2. One target column, several prediction columns -> multiclass.
3. One target column, one prediction column: targets all 0/1 (or the words
   true/false) -> binary; two other values of which one is not a number (yes/no)
   -> an error that asks for ``--pos-label``; otherwise regression. With
   ``--pos-label`` -> binary, the named value 1 and the other 0.

Any prediction value outside [0, 1] means logits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lossctl.core.activations import FloatArray, stack_columns
from lossctl.core.binary import binary_targets, not_binary, pos_label_needed, two_values
from lossctl.core.catalogue import LOSS_NAMES, check_task_params
from lossctl.core.labels import Affix, affixes, as_number, is_truth_pair
from lossctl.core.losses import TASK_LOSS, IntArray, LossSpec, PredictionKind, Task, loss_for
from lossctl.core.profiles import (
    Count,
    PredictionProfile,
    TargetColumn,
    TargetColumnProfile,
    TargetProfile,
)
from lossctl.core.sides import Side, bad_value
from lossctl.errors import (
    ClassIndexOutOfRange,
    ConflictingOptions,
    LossNotForTask,
    MixedClassTargets,
    NonNumeric,
    NotOneHot,
    ProbabilityOutOfRange,
    UnknownClass,
    UnknownTask,
    WrongColumnCount,
)

#: How multiclass targets are encoded, as the report names it.
TargetEncoding = str


@dataclass(frozen=True)
class Detection:
    """What lossctl decided, and why, in words.

    pos_label : binary targets of other values than 0/1: the value that is 1
    class_names : multiclass class names that are not the prediction column names
        (those names without a common prefix or suffix), in the columns' order
    loss_choice : the ``--loss`` name (None: the task's default loss)
    """

    task: Task
    prediction_kind: PredictionKind
    target_encoding: TargetEncoding
    reasons: tuple[str, ...]
    pos_label: str | None = None
    class_names: tuple[str, ...] | None = None
    loss_choice: str | None = None

    @property
    def spec(self) -> LossSpec:
        """The loss computed: ``--loss`` for this task (checked by :func:`decide`)."""
        spec = loss_for(self.loss_choice, self.task)
        assert spec is not None, (self.loss_choice, self.task)
        return spec

    @property
    def loss(self) -> str:
        """The name of the loss, as the report gives it (:attr:`LossSpec.label`)."""
        return self.spec.label

    @property
    def activation(self) -> str:
        return self.spec.activation


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def decide(
    pred: PredictionProfile,
    targets: TargetProfile,
    *,
    pred_names: Sequence[str],
    pred_side: Side,
    target_side: Side,
    task: str = "auto",
    kind: PredictionKind | None = None,
    pos_label: str | None = None,
    loss: str | None = None,
    params: tuple[str, ...] = (),
    compat: str = "sklearn",
) -> Detection:
    """Decide the task, the prediction kind and the target encoding, with reasons.

    ``task`` and ``kind`` override the rules; a contradiction between them and
    the data is an input error that names the file, the column and the row.
    ``pos_label`` names the value of binary targets that is the positive class;
    ``loss`` the ``--loss`` chosen, which must serve the task, and ``params`` the names
    of the loss parameters given, which must be its own (or the default loss's), and which
    ``compat`` must have.
    """
    reasons: list[str] = []
    n_pred, n_target = len(pred_names), len(targets.columns)
    if loss == "kl" and task == "auto" and n_target > 1:
        task = "multiclass"
        reasons.append("task multiclass: --loss kl compares distributions")
    chosen = _detect_task(pred, targets, n_pred, n_target, task, reasons, pos_label, target_side)
    _check_shape(chosen, n_pred, n_target, pred_side, targets)
    if pos_label is not None and chosen != "binary":
        raise ConflictingOptions(
            f"--pos-label names the positive class of binary targets, but the task is {chosen} "
            f"({n_pred} prediction and {n_target} target columns)",
            hint="Leave --pos-label out, or pick one prediction and one target column",
        )
    _check_loss(loss, chosen, task)
    check_task_params(loss, chosen, params, compat)
    if loss is not None:
        reasons.append(f"loss {loss} set by --loss")
    prediction_kind = _detect_kind(chosen, pred, kind, pred_names, pred_side, reasons)
    if chosen == "binary":
        if loss == "hinge" and task == "binary" and pos_label is None:
            pos_label = _plus_one(targets.columns[0])
        encoding, positive = binary_targets(targets.columns[0], pos_label, target_side, reasons)
        return Detection(
            chosen, prediction_kind, encoding, tuple(reasons), pos_label=positive, loss_choice=loss
        )
    encoding, names = _check_targets(chosen, targets, pred_names, target_side, reasons)
    if encoding == "probabilities":
        _check_soft(loss, params)
    return Detection(
        chosen, prediction_kind, encoding, tuple(reasons), class_names=names, loss_choice=loss
    )


def _plus_one(column: TargetColumnProfile) -> str | None:
    """Hinge targets of -1 and +1: the value that is the positive class, "1"."""
    if not two_values(column):
        return None
    numbers = {as_number(str(v)) for v in column.values}
    return "1" if numbers == {-1.0, 1.0} else None


def _check_loss(loss: str | None, chosen: Task, task: str) -> None:
    """``--loss`` must serve the task (given or detected)."""
    if loss is None or loss_for(loss, chosen) is not None:
        return
    tasks = LOSS_NAMES[loss].tasks
    how = "given by --task" if task != "auto" else "detected"
    hint = (
        f"Choose a {chosen} loss such as --loss {loss_for(None, chosen).option}"  # type: ignore[union-attr]
        if task != "auto"
        else f"If the targets are {' or '.join(tasks)} targets, add --task {tasks[0]}"
    )
    raise LossNotForTask(
        f"--loss {loss} is a {' and '.join(tasks)} loss, but the task {how} is {chosen}",
        hint=hint,
    )


def _detect_task(
    pred: PredictionProfile,
    targets: TargetProfile,
    n_pred: int,
    n_target: int,
    task: str,
    reasons: list[str],
    pos_label: str | None,
    side: Side,
) -> Task:
    if task != "auto":
        if task not in TASK_LOSS:
            raise UnknownTask(
                f"unknown task {task!r}",
                hint="Use --task auto, binary, multiclass, multilabel or regression",
            )
        reasons.append(f"task {task} set by --task")
        return task  # type: ignore[return-value]
    if n_target > 1:
        one_hot = targets.not_one_hot.n == 0
        rows_are_distributions = not pred.in_unit_interval or pred.not_summing.n == 0
        if one_hot and rows_are_distributions and n_pred == n_target:
            reasons.append(
                f"{n_target} target columns are one-hot and the {n_pred} prediction columns "
                + ("hold logits" if not pred.in_unit_interval else "are rows summing to 1")
            )
            return "multiclass"
        if targets.all_binary:
            why = "" if not one_hot else " (one-hot, but prediction rows do not sum to 1)"
            reasons.append(f"{n_target} target columns hold only 0/1{why}")
            return "multilabel"
        soft = targets.not_distribution.n == 0 and n_pred == n_target
        hint = " (their rows are distributions: --task multiclass reads them as such)"
        reasons.append(
            f"{n_target} target columns hold values other than 0/1{hint if soft else ''}"
        )
        return "regression"
    if n_pred > 1:
        reasons.append(f"one target column and {n_pred} prediction columns")
        return "multiclass"
    (column,) = targets.columns
    if pos_label is not None:
        reasons.append(
            f"one target column {column.name!r} and one prediction column, with --pos-label"
        )
        return "binary"
    if column.non_binary.n == 0:
        reasons.append(f"one target column {column.name!r} holding only 0/1")
        return "binary"
    if two_values(column) and is_truth_pair(column.values):
        reasons.append(f"one target column {column.name!r} holding only true/false")
        return "binary"
    if two_values(column) and any(as_number(v) is None for v in column.values):
        raise pos_label_needed(column, side)
    reasons.append(f"one target column {column.name!r} holding values other than 0/1")
    return "regression"


def _check_shape(
    task: Task, n_pred: int, n_target: int, pred_side: Side, targets: TargetProfile
) -> None:
    if task == "binary" and (n_pred != 1 or n_target != 1):
        raise WrongColumnCount(
            f"binary needs one prediction and one target column, got {n_pred} and {n_target}",
            file=pred_side.file,
            hint="Pick the columns with --pred-col and --target-col",
        )
    if task == "multiclass" and n_pred < 2:
        raise WrongColumnCount(
            "multiclass needs one prediction column per class, got 1",
            file=pred_side.file,
            hint="Use --task binary for a single probability or logit",
        )
    if task == "multiclass" and n_target not in (1, n_pred):
        raise WrongColumnCount(
            f"multiclass needs one target column (class) or {n_pred} one-hot target columns, "
            f"got {n_target}",
            hint="Pick the target with --target-col",
        )
    if task in ("multilabel", "regression") and n_target != n_pred:
        raise WrongColumnCount(
            f"{task} needs one target column per prediction column, "
            f"got {n_target} target and {n_pred} prediction columns",
            hint="Pick matching columns with --pred-col and --target-col",
        )


def _detect_kind(
    task: Task,
    pred: PredictionProfile,
    kind: PredictionKind | None,
    pred_names: Sequence[str],
    side: Side,
    reasons: list[str],
) -> PredictionKind:
    if task == "regression":
        if kind == "logits" or kind == "probabilities":
            raise ConflictingOptions(
                f"--from-{'logits' if kind == 'logits' else 'probs'} does not apply to "
                "regression, whose predictions are plain values",
                hint="Leave it out, or choose another --task",
            )
        return "values"
    span = f"[{_fmt(pred.min)}, {_fmt(pred.max)}]"
    if kind == "probabilities":
        if not pred.in_unit_interval:
            raise bad_value(
                ProbabilityOutOfRange,
                pred.outside,
                "is outside [0, 1], but --from-probs was given",
                side,
                pred_names[pred.first_outside_column or 0],
                hint="Drop --from-probs if these are logits",
            )
        reasons.append("probabilities, set by --from-probs")
        return "probabilities"
    if kind == "logits":
        reasons.append("logits, set by --from-logits")
        return "logits"
    if pred.in_unit_interval:
        reasons.append(f"every prediction lies in [0, 1] ({span}), so probabilities")
        return "probabilities"
    reasons.append(f"predictions span {span}, outside [0, 1], so logits")
    return "logits"


def _nearest_affix(
    column: TargetColumnProfile, pred_names: Sequence[str]
) -> tuple[Affix, Count] | None:
    """For text targets, the prefix or suffix of the prediction columns whose removal
    leaves the fewest targets that are not a column name, and those targets."""
    pairs = list(zip(affixes(tuple(pred_names)), column.unnamed_affix, strict=True))
    if not column.non_numeric.n or not pairs:
        return None
    return min(pairs, key=lambda pair: pair[1].n)


def _class_targets(
    column: TargetColumnProfile, pred_names: Sequence[str], side: Side, reasons: list[str]
) -> tuple[TargetEncoding, tuple[str, ...] | None]:
    """One multiclass target column: class names (the prediction columns' names, or those
    names without a common prefix or suffix) or class indices 0..K-1."""
    k = len(pred_names)
    names = ", ".join(pred_names)
    if column.unnamed.n == 0:
        reasons.append("every target is a prediction column name, so class names")
        return "class name", None
    if column.non_numeric.n:  # text: the names without a common prefix or suffix?
        for affix, unnamed in zip(affixes(tuple(pred_names)), column.unnamed_affix, strict=True):
            if unnamed.n == 0:
                reasons.append(
                    f"class names are the prediction columns without their common "
                    f"{affix.kind} {affix.text!r}"
                )
                return "class name", affix.names
    if column.non_index.n == 0 and column.too_large.n:
        raise bad_value(
            ClassIndexOutOfRange,
            column.too_large,
            f"is out of range for {k} classes (indices 0..{k - 1})",
            side,
            column.name,
            hint=f"Check --pred-col: the prediction columns are {names}",
        )
    if column.unusable.n:
        unusable, hint = column.unusable, f"The classes are the prediction columns: {names}"
        nearest = _nearest_affix(column, pred_names)
        if nearest is not None and nearest[1].n < unusable.n:
            affix, unusable = nearest
            hint = (
                f"The classes are the prediction columns without their common "
                f"{affix.kind} {affix.text!r}: {', '.join(affix.names)}"
            )
        raise bad_value(
            UnknownClass,
            unusable,
            f"is neither a class name nor a class index 0..{k - 1}",
            side,
            column.name,
            hint=hint,
        )
    if column.non_index.n:
        raise bad_value(
            MixedClassTargets,
            column.unnamed,
            "is a class index, but other targets are class names",
            side,
            column.name,
            hint=f"Use either the names ({names}) or indices 0..{k - 1}, not both",
        )
    reasons.append(f"targets are class indices 0..{k - 1}")
    return "class index", None


def _check_targets(
    task: Task,
    targets: TargetProfile,
    pred_names: Sequence[str],
    side: Side,
    reasons: list[str],
) -> tuple[TargetEncoding, tuple[str, ...] | None]:
    """Check that every target suits the task; return how they are encoded, and the class
    names when they are not the prediction column names."""
    if task == "multiclass" and len(targets.columns) == 1:
        return _class_targets(targets.columns[0], pred_names, side, reasons)
    for column in targets.columns:
        if column.non_numeric.n:
            raise bad_value(
                NonNumeric,
                column.non_numeric,
                "is not a number",
                side,
                column.name,
                hint=f"{task} targets must be numeric",
            )
    if task == "multiclass":
        if targets.not_one_hot.n and targets.not_distribution.n == 0:
            _soft_names(targets, pred_names, side)
            reasons.append(
                f"{len(targets.columns)} target columns named as the prediction columns, every "
                "row a distribution: class probabilities (soft targets)"
            )
            return "probabilities", None
        if targets.not_one_hot.n:
            raise bad_value(
                NotOneHot,
                targets.not_one_hot,
                "of targets is not one-hot (exactly one 1, the rest 0)",
                side,
                None,
                hint="Give one class column, or one-hot rows",
            )
        return "one-hot", None
    if task in ("binary", "multilabel"):
        for column in targets.columns:
            if column.non_binary.n:
                raise not_binary(
                    column,
                    side,
                    f"{task} targets must be 0/1 or true/false; "
                    "use --task regression for other values",
                )
        return "0/1" if task == "binary" else "0/1 per label", None
    return "numeric", None


def _check_soft(loss: str | None, params: tuple[str, ...]) -> None:
    """Class probabilities as targets serve ce and kl, and have no class to weigh."""
    if loss not in (None, "ce", "kl"):
        raise LossNotForTask(
            f"--loss {loss} needs a class per sample, and the targets are class probabilities",
            hint="Use --loss ce or --loss kl with soft targets",
        )
    if "class_weight" in params:
        raise ConflictingOptions(
            "--class-weight weighs each sample by its class, and the targets are class "
            "probabilities",
            hint="Leave out --class-weight, or give one class per sample",
        )


def _soft_names(targets: TargetProfile, pred_names: Sequence[str], side: Side) -> None:
    """Soft targets: one target column per prediction column, of the same names."""
    names = [c.name for c in targets.columns]
    if sorted(names) != sorted(pred_names):
        raise WrongColumnCount(
            f"class probabilities as targets need the prediction columns' names "
            f"({', '.join(pred_names)}), and the target columns are {', '.join(names)}",
            file=side.file,
            hint="Name each target column as its class's prediction column",
        )


def encode_targets(
    detection: Detection,
    columns: Sequence[TargetColumn],
    pred_names: Sequence[str],
) -> FloatArray | IntArray:
    """The target array the loss expects, from validated target columns."""
    if detection.task == "multiclass":
        if detection.target_encoding == "class name":
            return columns[0].name_index(detection.class_names or pred_names)
        if detection.target_encoding == "class index":
            return columns[0].values.astype(np.intp)
        if detection.target_encoding == "probabilities":
            by_name = {c.name: c.values for c in columns}
            return stack_columns([by_name[name] for name in pred_names])
        one_hot: IntArray = np.argmax(stack_columns([c.values for c in columns]), axis=1)
        return one_hot
    if detection.task == "binary" and detection.pos_label is not None:
        return columns[0].positive(detection.pos_label)
    if len(columns) == 1 and detection.task != "multilabel":
        return columns[0].values
    return stack_columns([c.values for c in columns])
