"""One evaluation, from inputs to report: the engine behind the CLI and the Python API.

Steps: open both inputs -> choose the columns -> read only those -> align the
rows (by id or by order) -> check for missing values -> profile the whole
input and detect the task -> compute the per-sample losses chunk by chunk ->
build the report.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO, Protocol, TypeGuard

import numpy as np
import pyarrow as pa

from lossctl._version import __version__
from lossctl.align import Aligner, Chunk, OutOfStep
from lossctl.core.accumulate import LossAccumulator, LossSummary
from lossctl.core.activations import FloatArray, sigmoid, softmax, stack_columns
from lossctl.core.compare import BaselineComparison, NullState, compare_to_baseline
from lossctl.core.defaults import CHUNK_VALUES, DEFAULT_CHUNK_ROWS, DEFAULT_EPS, TASK_CHOICES
from lossctl.core.losses import BoolArray, IntArray, LabelReduction, PredictionKind, sample_losses
from lossctl.core.tasks import (
    Count,
    Detection,
    PredictionProfile,
    Rows,
    TargetColumn,
    TargetProfile,
    decide,
    encode_targets,
    row_of,
)
from lossctl.errors import (
    AllRowsMissing,
    BaselineTaskMismatch,
    BothStdin,
    InvalidOption,
    LossctlError,
    LossOverflow,
    MissingBaseline,
    MissingValue,
    NegativeWeight,
    UnknownEncoding,
    UnknownTask,
    UnpairedBaseline,
    ZeroWeights,
)
from lossctl.io.columns import GroupCodes, to_float, to_target
from lossctl.io.readers import InputTable, open_table
from lossctl.io.writers import LossWriter, check_output
from lossctl.plan import ColumnPlan, Columns, plan_columns
from lossctl.report.model import DetectionReport, Gate, Inputs, Report, SampleRow


class Progress(Protocol):
    """Told how far an evaluation has got: by the command line, to draw a progress bar."""

    def start(self, total: int | None, unit: str, description: str) -> None: ...

    def update(self, done: int) -> None: ...

    def stop(self) -> None: ...


@dataclass
class _Check:
    """Rows with a missing (or negative) value in one column, over one pass."""

    column: str
    side: str  # "pred" or "target": which file the column was read from
    count: Count = field(default_factory=Count)


@np.errstate(over="ignore", invalid="ignore")
def _non_finite(values: FloatArray) -> BoolArray | None:
    """The rows that are NaN or infinite; None if there are none, which a finite sum
    proves in one cheap pass (NaN and infinity carry through it; an overflow does too,
    and costs only the full check)."""
    if np.isfinite(np.sum(values)):
        return None
    mask: BoolArray = ~np.isfinite(values)
    return mask if mask.any() else None


class _Pass:
    """One pass over the aligned chunks: checks, profiles, and (once the reading is known,
    or guessed) the losses, all as running states.

    The first pass profiles every row for detection. It guesses the reading from
    the rows seen so far and computes the losses under that guess while every
    later chunk agrees with it; if the decision over the whole input is the
    guess, that pass was enough. Otherwise a second pass, told the decision,
    computes the losses (``detection``).
    """

    def __init__(
        self,
        plan: ColumnPlan,
        o: _Options,
        aligner: Aligner,
        *,
        detection: Detection | None = None,
        losses: bool = True,
        keep: bool = False,
        writers: Sequence[LossWriter] = (),
    ) -> None:
        self.plan, self.o, self.aligner = plan, o, aligner
        self.names = plan.pred
        self.detection = detection
        self.guess: tuple[str, str, str] | None = None
        self.guessing = losses and detection is None  # still computing under a guess
        self.losses = losses
        self.keep, self.writers = keep, writers
        self.failed = False  # an input error is certain: only count it to the end
        self.checks = [_Check(name, "pred") for name in plan.pred]
        self.checks += [_Check(name, "target") for name in plan.target]
        weight_side = "target" if plan.weight_in_targets else "pred"
        if plan.weight is not None:
            self.checks.append(_Check(plan.weight, weight_side))
        self.negative = _Check(plan.weight or "", weight_side)
        self.positive_weight = False
        self.pred_profile = PredictionProfile()
        self.target_profile: TargetProfile | None = None
        self.n = 0
        self.n_dropped = 0
        self.groups = GroupCodes(plan.by) if plan.by is not None else None
        self.accumulator: LossAccumulator | None = None
        self.null: NullState | None = None
        self.overflow = Count()
        self.head: list[tuple[int, SampleRow]] = []
        self.worst: dict[int, tuple[int, SampleRow]] = {}
        self.kept: dict[str, list[Any]] = {"loss": [], "ids": [], "weights": [], "rows": []}

    def run(self, progress: Progress | None) -> _Pass:
        preds = self.aligner.pred.table
        total = preds.size()
        if progress is not None:
            what = "scoring" if self.detection is not None or self.losses else "reading"
            size, unit = total or (None, "rows")
            progress.start(size, unit, what)
        for chunk in self.aligner.chunks():
            self._chunk(chunk)
            if progress is not None:
                progress.update(preds.done() if total is not None else self.aligner.pred.n)
        return self

    def _chunk(self, chunk: Chunk) -> None:
        plan, o = self.plan, self.o
        target_label = self.aligner.target.table.label
        pred = [to_float(chunk.pred[name]) for name in plan.pred]
        targets, masks = [], [_non_finite(column) for column in pred]
        for name in plan.target:
            column, missing = to_target(name, chunk.target[name], target_label)
            targets.append(column)
            masks.append(missing if missing.any() else None)
        weights = None
        if plan.weight is not None:
            weights = to_float(
                (chunk.target if plan.weight_in_targets else chunk.pred)[plan.weight]
            )
            masks.append(_non_finite(weights))
        pred_rows: Rows = chunk.pred_rows
        target_rows: Rows = chunk.target_rows
        for check, mask in zip(self.checks, masks, strict=True):
            if mask is not None:
                rows = pred_rows if check.side == "pred" else target_rows
                check.count = check.count.merge(Count.of(mask, rows))
        found = [mask for mask in masks if mask is not None]
        ids = chunk.pred.get(plan.pred_id) if plan.pred_id is not None else None
        by = None
        if plan.by is not None:
            by = (chunk.target if plan.by_in_targets else chunk.pred)[plan.by]
        if found:
            if not o.drop_missing:
                self.failed = True
            if self.failed:
                return
            missing = np.logical_or.reduce(found)
            keep = np.flatnonzero(~missing)
            self.n_dropped += int(missing.size - keep.size)
            pred = [column[keep] for column in pred]
            targets = [column.take(keep) for column in targets]
            weights = weights[keep] if weights is not None else None
            kept = pa.array(keep)
            ids = ids.take(kept) if ids is not None else None
            by = by.take(kept) if by is not None else None
            pred_rows = keep + chunk.pred_rows
            target_rows = keep + target_rows if isinstance(target_rows, int) else target_rows[keep]
        if self.failed:
            return
        if weights is not None:
            w_rows = target_rows if plan.weight_in_targets else pred_rows
            self.negative.count = self.negative.count.merge(Count.of(weights < 0, w_rows))
            if self.negative.count.n:
                self.failed = True
                return
            self.positive_weight = self.positive_weight or bool(np.any(weights > 0))
        matrix = pred[0] if len(pred) == 1 else stack_columns(pred)
        n = matrix.shape[0]
        if n == 0:
            return
        if self.detection is None:
            self.pred_profile = self.pred_profile.merge(PredictionProfile.of(matrix, pred_rows))
            profile = TargetProfile.of(targets, self.names, target_rows)
            self.target_profile = (
                profile if self.target_profile is None else self.target_profile.merge(profile)
            )
        codes = self.groups(by, self.aligner.pred.table.label) if self.groups and by else None
        detection = self.detection or self._guess()
        if detection is not None:
            self._losses(detection, matrix, targets, weights, ids, codes, pred_rows, target_rows)
        self.n += n

    def _guess(self) -> Detection | None:
        """The reading that the rows seen so far point to, while it stays the same."""
        if not self.guessing:
            return None
        assert self.target_profile is not None
        try:
            detection = self.decide()
        except LossctlError:
            detection = None
        key = None if detection is None else _key(detection)
        if self.guess is None and key is not None:
            self.guess = key
        if key is None or key != self.guess:
            self.guessing = False  # a second pass will do it
            return None
        return detection

    def decide(self) -> Detection:
        """The decision over every row seen (raises the input errors it finds)."""
        assert self.target_profile is not None
        return decide(
            self.pred_profile,
            self.target_profile,
            pred_names=self.names,
            pred_side=self.aligner.pred.side(),
            target_side=self.aligner.target.side(),
            task=self.o.task,
            kind=self.o.kind,
        )

    def _losses(
        self,
        detection: Detection,
        matrix: FloatArray,
        targets: list[TargetColumn],
        weights: FloatArray | None,
        ids: pa.Array | None,
        codes: IntArray | None,
        pred_rows: Rows,
        target_rows: Rows,
    ) -> None:
        o = self.o
        if self.accumulator is None:
            multi = detection.task in ("multiclass", "multilabel")
            self.accumulator = LossAccumulator(self.names if multi else (), worst_k=o.worst)
            self.null = NullState(
                detection.task, n_classes=len(self.names), label_reduction=o.label_reduction
            )
        y = encode_targets(detection, targets, self.names)
        chunk = sample_losses(
            detection.task,
            detection.prediction_kind,
            y,
            matrix,
            eps=o.eps,
            label_reduction=o.label_reduction,
        )
        self.overflow = self.overflow.merge(Count.of(~np.isfinite(chunk.loss), pred_rows))
        start = self.n
        self.accumulator.update(
            chunk.loss,
            offset=start,
            weights=weights,
            clipped=chunk.clipped,
            y_index=y if detection.task == "multiclass" else None,  # type: ignore[arg-type]
            per_label=chunk.per_label,
            by_codes=codes,
        )
        assert self.null is not None
        self.null.update(y, weights)

        def sample(i: int) -> tuple[int, SampleRow]:
            return row_of(pred_rows, i), SampleRow(
                row=0,
                id=None if ids is None else str(ids[i].as_py()),
                target=_describe_target(detection, y, i, self.names),
                prediction=_describe_prediction(detection, np.atleast_1d(matrix[i]), self.names),
                loss=float(chunk.loss[i]),
            )

        self.head += [sample(i) for i in range(min(o.head - len(self.head), matrix.shape[0]))]
        worst = [int(i) for i in self.accumulator.worst_index]
        self.worst = {i: self.worst[i] if i in self.worst else sample(i - start) for i in worst}
        for writer in self.writers:
            writer.write(chunk.loss, ids)
        if self.keep:
            self.kept["loss"].append(chunk.loss)
            self.kept["ids"].append(ids)
            self.kept["weights"].append(weights)
            rows = target_rows
            self.kept["rows"].append(
                np.arange(rows, rows + matrix.shape[0]) if isinstance(rows, int) else rows
            )

    def check(self) -> None:
        """Raise the input errors found, in the order the README gives."""
        sides = {"pred": self.aligner.pred.side(), "target": self.aligner.target.side()}
        if not self.o.drop_missing:
            for check in self.checks:
                if check.count.n:
                    side, first = sides[check.side], check.count.first or 0
                    raise MissingValue(
                        "this value is missing (empty, NaN or infinite)",
                        file=side.file_at(first),
                        column=check.column,
                        row=side.row(first),
                        count=check.count.n,
                        hint="Fill or remove those rows, or pass --drop-missing to skip them",
                    )
        if self.n == 0 and self.n_dropped:
            raise AllRowsMissing(
                "every row has a missing value, so none is left to evaluate",
                file=self.aligner.pred.table.label,
                hint="Check the columns chosen",
            )
        weight_side = sides[self.negative.side]
        if self.negative.count.n:
            first = self.negative.count.first or 0
            raise NegativeWeight(
                "this weight is negative",
                file=weight_side.file_at(first),
                column=self.plan.weight,
                row=weight_side.row(first),
                count=self.negative.count.n,
                hint="Weights must be >= 0",
            )
        if self.plan.weight is not None and not self.positive_weight:
            raise ZeroWeights(
                "every weight is zero",
                file=weight_side.file,
                column=self.plan.weight,
                hint="Check --weight-col",
            )

    def result(self) -> _Result:
        if self.overflow.n:
            side, first = self.aligner.pred.side(), self.overflow.first or 0
            raise LossOverflow(
                "the squared error of this row overflows float64",
                file=side.file_at(first),
                row=side.row(first),
            )
        assert self.accumulator is not None and self.null is not None
        side = self.aligner.pred.side()
        if self.groups is not None:
            names, order = self.groups.names()
            self.accumulator.by = self.accumulator.by.named(names, order)

        def placed(item: tuple[int, SampleRow]) -> SampleRow:
            return replace(item[1], row=side.row(item[0]))

        summary = self.accumulator.result()
        kept = None
        if self.keep:
            ids = [i for i in self.kept["ids"] if i is not None]
            weights = [w for w in self.kept["weights"] if w is not None]
            kept = (
                np.concatenate(self.kept["loss"]),
                pa.chunked_array(ids) if ids else None,
                np.concatenate(weights) if weights else None,
                np.concatenate(self.kept["rows"]) + 1,
            )
        return _Result(
            summary=summary,
            null_loss=self.null.result(),
            head=tuple(placed(item) for item in self.head),
            worst=tuple(placed(self.worst[i]) for i, _ in summary.worst),
            kept=kept,
        )


@dataclass
class _Result:
    summary: LossSummary
    null_loss: float
    head: tuple[SampleRow, ...]
    worst: tuple[SampleRow, ...]
    kept: tuple[FloatArray, pa.ChunkedArray | None, FloatArray | None, IntArray] | None


def _is_path(data: object) -> TypeGuard[str | os.PathLike[str]]:
    return isinstance(data, (str, os.PathLike))


def _one(output: object) -> bool:
    return _is_path(output) or hasattr(output, "write")


def _key(detection: Detection) -> tuple[str, str, str]:
    return detection.task, detection.prediction_kind, detection.target_encoding


def _describe_prediction(detection: Detection, values: FloatArray, names: Sequence[str]) -> str:
    """A short text for one sample's prediction, as the table shows it."""
    if detection.task == "multiclass":
        probs = softmax(values) if detection.prediction_kind == "logits" else values
        top = int(np.argmax(probs))
        return f"{names[top]} ({probs[top]:.3f})"
    if detection.task == "binary" and detection.prediction_kind == "logits":
        return f"{values[0]:.4g} (p={sigmoid(values)[0]:.3f})"
    return _numbers(np.atleast_1d(values))


def _numbers(values: np.ndarray, limit: int = 4) -> str:
    text = " ".join(f"{v:.4g}" for v in values[:limit])
    return text + (" …" if values.size > limit else "")


@dataclass(frozen=True)
class _Options:
    """What one evaluation of one prediction file needs besides its inputs."""

    task: str = "auto"
    kind: PredictionKind | None = None
    pred_cols: Columns = None
    target_cols: Columns = None
    weight_col: str | None = None
    id_col: str | None = None
    no_id: bool = False
    by: str | None = None
    eps: float = DEFAULT_EPS
    label_reduction: LabelReduction = "sum"
    drop_missing: bool = False
    head: int = 0
    worst: int = 0
    chunk_rows: int = DEFAULT_CHUNK_ROWS


def evaluate(
    predictions: object,
    targets: object = None,
    *,
    task: str = "auto",
    from_logits: bool | None = None,
    pred_cols: Columns = None,
    target_cols: Columns = None,
    weight_col: str | None = None,
    id_col: str | None = None,
    no_id: bool = False,
    by: str | None = None,
    eps: float = DEFAULT_EPS,
    label_reduction: LabelReduction = "sum",
    drop_missing: bool = False,
    baseline: object = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
    max_loss: float | None = None,
    max_increase: float | None = None,
    max_increase_pct: float | None = None,
    min_d2: float | None = None,
    head: int = 10,
    worst: int = 5,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    encoding: str = "utf-8",
    output: str | BinaryIO | Sequence[str | BinaryIO] | None = None,
    keep_losses: bool = True,
    progress: Progress | None = None,
) -> Report:
    """Evaluate predictions against targets and return the :class:`Report`.

    predictions, targets : a path (CSV, TSV, Parquet, compressed CSV), ``"-"``
        for CSV on stdin, a pandas DataFrame or Series, a pyarrow Table, or a
        NumPy array (1-D: one column; 2-D: one column per class or label,
        named ``"0"``, ``"1"``, ...). ``targets`` may be None when
        ``target_cols`` names the target columns inside ``predictions``.
    task : ``"auto"`` (detect), ``"binary"``, ``"multiclass"``, ``"multilabel"``
        or ``"regression"``.
    from_logits : True for logits, False for probabilities, None to detect.
    baseline : predictions of another model for the same targets (same forms
        as ``predictions``), evaluated by the same rules and compared row by
        row with a paired bootstrap of ``n_bootstrap`` resamples from ``seed``.
    max_loss, max_increase, max_increase_pct, min_d2 : gates; the report's
        ``gates`` says which passed, and ``exit_code`` is 1 if any failed.

    output : where to write the per-sample losses as they are computed: a path
        (``.csv``, ``.tsv``, ``.csv.gz``, ``.parquet``), which appears only once the
        evaluation is complete, or a seekable binary file object (CSV).
    keep_losses : keep the per-sample losses in ``Report.losses`` (8 bytes a
        sample, plus the ids); False keeps memory flat for inputs of any size.
    progress : told how far the reading has got (see :class:`Progress`).

    The other options are the command line's, with the same names and meaning.
    Errors are :class:`lossctl.errors.LossctlError` subclasses.

    >>> import numpy as np
    >>> report = evaluate(np.array([0.9, 0.2]), np.array([1, 0]))
    >>> report.task, report.prediction_kind, round(report.mean_loss, 6)
    ('binary', 'probabilities', 0.164252)
    """
    _check_options(
        predictions, targets, task, eps, label_reduction, chunk_rows, head, worst, baseline
    )
    _check_encoding(encoding)
    if n_bootstrap < 1:
        raise InvalidOption("--bootstrap must be at least 1", hint="The default is 1000")
    if seed < 0:
        raise InvalidOption(f"--seed {seed} is negative", hint="Give a seed of 0 or more")
    for option, threshold in (
        ("--max-loss", max_loss),
        ("--max-increase", max_increase),
        ("--max-increase-pct", max_increase_pct),
        ("--min-d2", min_d2),
    ):
        if threshold is not None and (
            not isinstance(threshold, (int, float)) or threshold != threshold
        ):
            raise InvalidOption(f"{option} is not a number", hint="Give a threshold such as 0.35")
    if baseline is None and (max_increase is not None or max_increase_pct is not None):
        raise MissingBaseline(
            "--max-increase and --max-increase-pct compare with a baseline",
            hint="Give the baseline's predictions with --baseline",
        )
    options = _Options(
        task=task,
        kind=_kind(from_logits),
        pred_cols=pred_cols,
        target_cols=target_cols,
        weight_col=weight_col,
        id_col=id_col,
        no_id=no_id,
        by=by,
        eps=eps,
        label_reduction=label_reduction,
        drop_missing=drop_missing,
        head=head,
        worst=worst,
        chunk_rows=chunk_rows,
    )
    destinations: list[Any] = []
    if output is not None:
        destinations = [output] if _one(output) else list(output)
    paths = [os.fspath(d) for d in (predictions, targets, baseline) if _is_path(d)]
    for destination in destinations:
        if _is_path(destination):
            check_output(os.fspath(destination), paths)
    target_table = open_table(targets, "targets", encoding) if targets is not None else None
    pred_table = open_table(predictions, "predictions", encoding)
    with contextlib.ExitStack() as stack:
        writers = [stack.enter_context(LossWriter(d)) for d in destinations]
        report = _evaluate_tables(
            pred_table,
            target_table,
            options,
            keep=keep_losses or baseline is not None,
            writers=writers,
            progress=progress,
        )
        comparison = None
        if baseline is not None:
            base_table = open_table(baseline, "baseline", encoding)
            # The baseline needs neither the grouping column nor, unless the targets hold
            # them, the weights: the comparison weighs both models by the candidate's weights.
            weights_in_targets = target_table is not None and weight_col in target_table.names
            base_options = replace(
                options,
                head=0,
                worst=0,
                by=None,
                weight_col=weight_col if weights_in_targets else None,
            )
            base = _evaluate_tables(base_table, target_table, base_options)
            comparison = _compare(
                report, base, n_bootstrap=n_bootstrap, seed=seed, drop_missing=drop_missing
            )
            report = replace(report, inputs=replace(report.inputs, baseline=base_table.label))
    gates = _gates(report, comparison, max_loss, max_increase, max_increase_pct, min_d2)
    if not keep_losses:
        report = replace(report, losses=None, ids=None, weights=None, target_rows=None)
    return replace(report, baseline=comparison, gates=gates)


def detect(
    predictions: object,
    targets: object = None,
    *,
    task: str = "auto",
    from_logits: bool | None = None,
    pred_cols: Columns = None,
    target_cols: Columns = None,
    weight_col: str | None = None,
    id_col: str | None = None,
    no_id: bool = False,
    drop_missing: bool = False,
    encoding: str = "utf-8",
) -> DetectionReport:
    """What :func:`evaluate` would decide for these inputs, and why, without the losses.

    >>> import numpy as np
    >>> detect(np.array([-2.0, 3.5]), np.array([0, 1])).prediction_kind
    'logits'
    """
    _check_options(predictions, targets, task, DEFAULT_EPS, "sum", DEFAULT_CHUNK_ROWS, 0, 0)
    _check_encoding(encoding)
    pred_table = open_table(predictions, "predictions", encoding)
    target_table = open_table(targets, "targets", encoding) if targets is not None else None
    options = _Options(
        task=task,
        kind=_kind(from_logits),
        pred_cols=pred_cols,
        target_cols=target_cols,
        weight_col=weight_col,
        id_col=id_col,
        no_id=no_id,
        drop_missing=drop_missing,
    )
    plan, done, detection, _ = _run(pred_table, target_table, options, losses=False)
    return DetectionReport(
        task=detection.task,
        activation=detection.activation,
        prediction_kind=detection.prediction_kind,
        loss=detection.loss,
        target_encoding=detection.target_encoding,
        reasons=(plan.alignment, *plan.notes, *detection.reasons),
        inputs=_inputs(pred_table, target_table, plan),
        n_samples=done.n,
    )


def _inputs(pred_table: InputTable, target_table: InputTable | None, plan: ColumnPlan) -> Inputs:
    return Inputs(
        predictions=pred_table.label,
        targets=target_table.label if target_table is not None else None,
        pred_columns=plan.pred,
        target_columns=plan.target,
        id_column=plan.pred_id,
        weight_column=plan.weight,
        alignment=plan.alignment,
        by_column=plan.by,
    )


def _run(
    pred_table: InputTable,
    target_table: InputTable | None,
    o: _Options,
    *,
    losses: bool = True,
    keep: bool = False,
    writers: Sequence[LossWriter] = (),
    progress: Progress | None = None,
) -> tuple[ColumnPlan, _Pass, Detection, Count]:
    """Choose the columns, then pass over the rows once, or twice when the first pass's
    guess of the reading was not the decision over the whole input.

    Returns the plan, the pass with the losses (the first, unless ``losses`` is
    False), the detection, and the probability rows not summing to 1 (when that
    deserves a warning: multiclass probabilities).
    """
    plan = plan_columns(
        pred_table,
        target_table,
        pred_cols=o.pred_cols,
        target_cols=o.target_cols,
        weight_col=o.weight_col,
        id_col=o.id_col,
        no_id=o.no_id,
        by=o.by,
    )
    # Chunks of at most chunk_rows rows and CHUNK_VALUES values, so that the temporaries
    # of a thousand-class file stay as small as those of a binary one.
    rows = max(1, min(o.chunk_rows, CHUNK_VALUES // len(plan.pred)))
    hashed = False

    def one_pass(detection: Detection | None = None) -> _Pass:
        nonlocal hashed
        while True:
            aligner = Aligner(pred_table, target_table, plan, rows=rows, hashed=hashed)
            for writer in writers:
                writer.restart(plan.pred_id)
            try:
                step = _Pass(
                    plan, o, aligner, detection=detection, losses=losses, keep=keep, writers=writers
                )
                return step.run(progress)
            except OutOfStep:
                hashed = True

    try:
        first = one_pass()
        first.check()
        detection = first.decide()
        final = first
        if losses and not (first.guessing and first.guess == _key(detection)):
            final = one_pass(detection)
    finally:
        if progress is not None:
            progress.stop()
    warn = detection.task == "multiclass" and detection.prediction_kind == "probabilities"
    return plan, final, detection, first.pred_profile.not_summing if warn else Count()


def _evaluate_tables(
    pred_table: InputTable,
    target_table: InputTable | None,
    o: _Options,
    *,
    keep: bool = True,
    writers: Sequence[LossWriter] = (),
    progress: Progress | None = None,
) -> Report:
    """One prediction file against the targets: everything but baseline and gates."""
    plan, done, detection, not_summing = _run(
        pred_table, target_table, o, keep=keep, writers=writers, progress=progress
    )
    result = done.result()
    side = done.aligner.pred.side()
    losses, ids, weights, target_rows = result.kept or (None, None, None, None)
    return Report(
        version=__version__,
        task=detection.task,
        activation=detection.activation,
        prediction_kind=detection.prediction_kind,
        loss=detection.loss,
        target_encoding=detection.target_encoding,
        reasons=(plan.alignment, *plan.notes, *detection.reasons),
        inputs=_inputs(pred_table, target_table, plan),
        summary=result.summary,
        null_loss=result.null_loss,
        eps=o.eps,
        label_reduction=o.label_reduction if detection.task == "multilabel" else None,
        weighted=plan.weight is not None,
        n_dropped=done.n_dropped,
        n_not_summing=not_summing.n,
        first_not_summing=None if not_summing.first is None else side.row(not_summing.first),
        head=result.head,
        worst=result.worst,
        losses=losses,
        ids=ids,
        weights=weights,
        target_rows=target_rows,
    )


def _compare(
    report: Report, base: Report, *, n_bootstrap: int, seed: int, drop_missing: bool
) -> BaselineComparison:
    """Pair each sample with the baseline's sample of the same target row, and compare.

    Both files were matched with the targets by the same rules (by id, or by
    position), so the target row is what pairs them, whatever their own order.
    With ``drop_missing`` the two may have dropped different rows: the
    comparison is then over the rows both kept.
    """
    if base.task != report.task:
        raise BaselineTaskMismatch(
            f"the baseline is detected as {base.task} but the predictions as {report.task}",
            file=base.inputs.predictions,
            hint="Set the task with --task",
        )
    assert report.losses is not None and base.losses is not None
    assert report.target_rows is not None and base.target_rows is not None
    order = np.argsort(base.target_rows, kind="stable")
    sorted_rows = base.target_rows[order]
    found = np.minimum(np.searchsorted(sorted_rows, report.target_rows), sorted_rows.size - 1)
    paired = sorted_rows[found] == report.target_rows
    n_paired = int(np.count_nonzero(paired))
    if not drop_missing and (n_paired < report.n_samples or base.n_samples > n_paired):
        if n_paired < report.n_samples:
            first = int(report.target_rows[np.argmin(paired)])
            what = (
                f"{report.n_samples - n_paired} of the {report.n_samples} samples have no "
                f"baseline prediction (first: target row {first})"
            )
        else:
            what = f"the baseline has {base.n_samples - n_paired} samples the predictions lack"
        raise UnpairedBaseline(
            what,
            file=base.inputs.predictions,
            hint="The baseline needs predictions for the same target rows (or ids)",
        )
    if n_paired == 0:
        raise UnpairedBaseline(
            "no sample is left that both the predictions and the baseline kept",
            file=base.inputs.predictions,
            hint="Check the missing values of both files",
        )
    weights = None if report.weights is None else report.weights[paired]
    return compare_to_baseline(
        report.losses[paired],
        base.losses[order[found[paired]]],
        weights,
        n_bootstrap=n_bootstrap,
        seed=seed,
    )


def _gates(
    report: Report,
    comparison: BaselineComparison | None,
    max_loss: float | None,
    max_increase: float | None,
    max_increase_pct: float | None,
    min_d2: float | None,
) -> tuple[Gate, ...]:
    """Every gate asked for, in a fixed order, each with what it observed."""
    gates = []
    if max_loss is not None:
        gates.append(Gate.at_most("max_loss", max_loss, report.mean_loss))
    if comparison is not None and max_increase is not None:
        gates.append(Gate.at_most("max_increase", max_increase, comparison.difference))
    if comparison is not None and max_increase_pct is not None:
        gates.append(Gate.at_most("max_increase_pct", max_increase_pct, comparison.difference_pct))
    if min_d2 is not None:
        gates.append(Gate.at_least("min_d2", min_d2, report.d2))
    return tuple(gates)


def _check_options(
    predictions: object,
    targets: object,
    task: str,
    eps: float,
    label_reduction: str,
    chunk_rows: int,
    head: int,
    worst: int,
    baseline: object = None,
) -> None:
    """Refuse option values that make no sense, before reading anything."""
    if task not in TASK_CHOICES:
        raise UnknownTask(f"unknown task {task!r}", hint=f"Use one of: {', '.join(TASK_CHOICES)}")
    if not 0.0 < eps < 0.5:
        raise InvalidOption(f"--eps {eps} is not in (0, 0.5)", hint="The default is 2.22e-16")
    if label_reduction not in ("sum", "mean"):
        raise InvalidOption(
            f"unknown --label-reduction {label_reduction!r}", hint="Use sum or mean"
        )
    if chunk_rows < 1 or head < 0 or worst < 0:
        raise InvalidOption("--chunk-rows must be >= 1, --head and --worst >= 0")
    if sum(isinstance(x, str) and x == "-" for x in (predictions, targets, baseline)) > 1:
        raise BothStdin("only one input can be - (standard input)", hint="Give the others as files")


def _kind(from_logits: bool | None) -> PredictionKind | None:
    return None if from_logits is None else "logits" if from_logits else "probabilities"


def _check_encoding(encoding: str) -> None:
    import codecs

    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UnknownEncoding(
            f"unknown --encoding {encoding!r}", hint="Try utf-8, latin-1 or cp1252"
        ) from None


def _describe_target(
    detection: Detection, y: FloatArray | IntArray, i: int, names: Sequence[str]
) -> str:
    if detection.task == "multiclass":
        return names[int(y[i])]
    value = y[i]
    return _numbers(np.atleast_1d(value))
