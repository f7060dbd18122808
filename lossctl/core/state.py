"""One evaluation's running state: ``update(chunk)``, ``merge(other)``, ``result()``.

:class:`EvalState` holds everything a report needs, as totals that chunks add
to: the checks (missing values, negative weights), the detection profiles, the
loss sums and histogram, the per-class, per-label and ``--by`` totals (groups
keyed by their value), the first and the worst rows (keyed by their row
number in PREDICTIONS), the null model and the baseline comparison's buckets.
Two states of disjoint rows merge into the state of their union, in any order,
so a file read in chunks, or partitions evaluated by workers, give the report
of one pass over the whole input.

The losses need the detection, which needs every row. A state that is not
given one guesses it from the rows seen so far, and computes the losses under
that guess for as long as the guess holds; when the decision over the whole
input is that guess (almost always), the one pass was enough
(:meth:`EvalState.computed`), otherwise the engine makes a second pass with the
detection given.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from lossctl.core.accumulate import LossAccumulator
from lossctl.core.activations import FloatArray, stack_columns
from lossctl.core.bootstrap import PairedBuckets
from lossctl.core.catalogue import LOSS_PARAMETERS
from lossctl.core.chunk import (
    Chunk,
    EvalResult,
    Groups,
    Labels,
    Predicted,
    Sample,
    Scored,
    Setup,
    non_finite,
    non_finite_columns,
)
from lossctl.core.compare import NullState
from lossctl.core.losses import IntArray, SampleLosses
from lossctl.core.metric_results import metrics_of
from lossctl.core.metrics import MetricsState
from lossctl.core.profiles import Count, PredictionProfile, TargetProfile
from lossctl.core.sides import Side
from lossctl.core.tasks import Detection, decide, encode_targets
from lossctl.errors import (
    AllRowsMissing,
    LossctlError,
    LossOverflow,
    MissingValue,
    NegativeWeight,
    OutsideLossDomain,
    ZeroWeights,
)

__all__ = ["Chunk", "EvalResult", "EvalState", "Groups", "Labels", "Sample", "Scored", "Setup"]


def _key(detection: Detection) -> tuple[object, ...]:
    return (
        detection.task,
        detection.prediction_kind,
        detection.target_encoding,
        detection.class_names,
    )


def _matrix(chunk: Chunk) -> FloatArray:
    """The chunk's predictions as one ``(n, K)`` matrix (its one column if K is 1)."""
    return chunk.pred[0] if len(chunk.pred) == 1 else stack_columns(list(chunk.pred))


def _classes(y: FloatArray | IntArray) -> IntArray:
    """The class of each row: its index, or the most probable class of a target distribution."""
    classes: IntArray = (y if y.ndim == 1 else np.argmax(y, axis=1)).astype(np.intp)
    return classes


def _class_weighted(chunk: Chunk, y: FloatArray | IntArray, class_weight: object) -> Chunk:
    """``--class-weight``: each row's weight times its class's (PyTorch's class-weighted
    mean, ``sum(w c[y] loss) / sum(w c[y])``); the per-sample losses stay unweighted."""
    if class_weight is None:
        return chunk
    per_row: FloatArray = np.asarray(class_weight, dtype=np.float64)[y.astype(np.intp)]
    weights = per_row if chunk.weights is None else chunk.weights * per_row
    return dataclasses.replace(chunk, weights=weights)


class EvalState:
    """The running state of one evaluation of one prediction input (see the module)."""

    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        self.checks = [Count() for _ in setup.checked]
        self.negative = Count()
        self.positive_weight = False
        self.failed = False  # an input error is certain: only count, to the end
        self.n = 0
        self.n_dropped = 0
        self.dropped: list[IntArray] = []  # target rows dropped (in a comparison)
        self.pred_profile = PredictionProfile()
        self.target_profile: TargetProfile | None = None
        self.key = None if setup.detection is None else _key(setup.detection)
        self.valid = True  # every loss so far was computed under self.key
        self.totals: LossAccumulator | None = None
        self.null: NullState | None = None
        self.metrics: MetricsState | None = None
        self.overflow = Count()
        self.outside = (Count(), Count())  # rows outside the loss's domain: targets, predictions
        self.head: list[Sample] = []
        self.worst: dict[int, Sample] = {}
        self.buckets = PairedBuckets(setup.seed) if setup.compare else None
        self._predicted: Predicted | None = None  # of the last chunk

    # ------------------------------------------------------------------ update

    def update(self, chunk: Chunk) -> Scored | None:
        """Add one chunk; return its losses when they were computed."""
        matrix = _matrix(chunk)
        checked = self._checked(chunk, matrix)
        if checked is None or self.failed:
            return None
        if checked is not chunk:  # (rows with missing values dropped)
            chunk, matrix = checked, _matrix(checked)
        n = matrix.shape[0]
        if n == 0:
            return Scored(np.empty(0), chunk)
        if self.setup.detection is None:
            rows = chunk.pred_rows
            self.pred_profile = self.pred_profile.merge(PredictionProfile.of(matrix, rows))
            profile = chunk.target_profile(self.setup.pred_names)
            self.target_profile = (
                profile if self.target_profile is None else self.target_profile.merge(profile)
            )
        self.n += n
        detection = self.setup.detection or self._guess()
        if detection is None:
            return None
        self._predicted = None
        loss = self._losses(detection, matrix, chunk)
        return Scored(loss, chunk, self._predicted)

    def _checked(self, chunk: Chunk, matrix: FloatArray) -> Chunk | None:
        """Count the missing values and negative weights, over every row of every chunk
        (so that the counts do not depend on the chunks); drop those rows if asked.
        ``matrix``: the chunk's predictions side by side."""
        masks = non_finite_columns(chunk.pred, matrix)
        masks += [m if m.any() else None for m in chunk.target_missing]
        if chunk.weights is not None:
            masks.append(non_finite(chunk.weights))
        sides = {"pred": chunk.pred_rows, "target": chunk.target_rows}
        for i, ((_, side), mask) in enumerate(zip(self.setup.checked, masks, strict=True)):
            if mask is not None:
                self.checks[i] = self.checks[i].merge(Count.of(mask, sides[side]))
        found = [mask for mask in masks if mask is not None]
        missing = np.logical_or.reduce(found) if found else None
        if chunk.weights is not None:
            w = chunk.weights if missing is None else np.where(missing, 0.0, chunk.weights)
            w_rows = sides[self.setup.weight_side]
            self.negative = self.negative.merge(Count.of(w < 0, w_rows))
            self.positive_weight = self.positive_weight or bool(np.any(w > 0))
        self.failed = self.failed or bool(self.negative.n)
        if missing is not None:
            self.failed = self.failed or not self.setup.drop_missing
            keep = np.flatnonzero(~missing)
            self.n_dropped += int(missing.size - keep.size)
            if self.setup.compare:
                rows = chunk.target_rows
                self.dropped.append(
                    np.flatnonzero(missing) + rows if isinstance(rows, int) else rows[missing]
                )
            chunk = chunk.take(keep) if not self.failed else chunk
        return None if self.failed else chunk

    def _guess(self) -> Detection | None:
        """The reading that the rows seen so far point to, while it stays the first guess."""
        if not self.valid:
            return None
        try:
            detection = self.decide(Side(""), Side(""))
        except LossctlError:
            detection = None
        key = None if detection is None else _key(detection)
        if self.key is None and self.totals is None:
            self.key = key
        if key is None or key != self.key:
            self.valid = False  # a second pass will do it
            return None
        return detection

    def _losses(self, detection: Detection, matrix: FloatArray, chunk: Chunk) -> FloatArray:
        setup = self.setup
        names = setup.pred_names
        spec = detection.spec
        if self.totals is None:
            multi = detection.task in ("multiclass", "multilabel")
            self.totals = LossAccumulator(names if multi else (), worst_k=setup.worst)
            n_classes = len(names) if detection.task == "multiclass" else None
            self.null = NullState(n_classes, spec.term(**setup.loss_options))
            if setup.metrics is not None:
                self.metrics = MetricsState(detection.task, names, setup.metrics)
        y = encode_targets(detection, chunk.targets, names)
        if setup.row_weights is not None:  # a baseline weighed by the candidate's weights
            chunk = chunk.weighed(setup.row_weights)
        predicted = None
        if self.metrics is not None:  # weighed without the class weights
            predicted = self._metrics(detection, chunk, matrix, y)
        chunk = _class_weighted(chunk, y, setup.loss_options.get("class_weight"))
        scored = spec(y, matrix, kind=detection.prediction_kind, **setup.loss_options)
        loss = scored.loss
        self.overflow = self.overflow.merge(Count.of(~np.isfinite(loss), chunk.pred_rows))
        if scored.outside is not None:
            bad_y, bad_pred = scored.outside
            self.outside = (
                self.outside[0]
                if bad_y is None
                else self.outside[0].merge(Count.of(bad_y, chunk.target_rows)),
                self.outside[1]
                if bad_pred is None
                else self.outside[1].merge(Count.of(bad_pred, chunk.pred_rows)),
            )
        if setup.summary:
            self._summary(detection, chunk, matrix, y, scored, predicted)
        if self.buckets is not None and setup.compare is not None:
            self._compare(chunk, loss)
        return loss

    def _summary(
        self,
        detection: Detection,
        chunk: Chunk,
        matrix: FloatArray,
        y: FloatArray | IntArray,
        scored: SampleLosses,
        predicted: IntArray | None = None,
    ) -> None:
        """The report's totals, the null model and the sample rows, for one chunk."""
        assert self.totals is not None and self.null is not None
        loss, groups = scored.loss, chunk.groups
        self.totals.update(
            loss,
            rows=chunk.pred_rows,
            weights=chunk.weights,
            clipped=scored.clipped,
            y_index=_classes(y) if detection.task == "multiclass" else None,
            per_label=scored.per_label,
            by=None if groups is None else (groups.codes, groups.values),
        )
        self.null.update(y, chunk.weights)
        self._samples(chunk, matrix, y, loss, predicted)

    def _metrics(
        self, detection: Detection, chunk: Chunk, matrix: FloatArray, y: FloatArray | IntArray
    ) -> IntArray | None:
        """The metrics' sums of one chunk (soft targets by their most probable class); each
        row's predicted class or labels."""
        assert self.metrics is not None
        keep = chunk.kept(self.setup.exclude)
        if keep is not None:  # rows out of the comparison are out of a baseline's metrics
            chunk, matrix, y = chunk.take(keep), matrix[keep], y[keep]
        groups, w = chunk.groups, chunk.weights
        by = None if groups is None else (groups.codes, groups.values)
        classes = _classes(y) if detection.task == "multiclass" else y
        predicted = self.metrics.update(matrix, classes, detection.prediction_kind, w, by)
        names, task = self.setup.pred_names, detection.task
        if predicted is not None and task == "multilabel":
            self._predicted = Predicted(predicted, (), names)
        elif predicted is not None:
            self._predicted = Predicted(predicted, ("0", "1") if task == "binary" else names)
        return predicted

    def _compare(self, chunk: Chunk, loss: FloatArray) -> None:
        """This model's losses into the comparison's buckets, by target row (weighed by the
        chunk's weights: the candidate's, and the class weights, for a baseline)."""
        setup = self.setup
        assert self.buckets is not None and setup.compare is not None
        t_rows = chunk.target_row_numbers()
        w = np.ones_like(loss) if chunk.weights is None else chunk.weights
        keep = chunk.kept(setup.exclude)
        if keep is not None:
            t_rows, loss, w = t_rows[keep], loss[keep], w[keep]
        self.buckets.add(setup.compare, t_rows, loss, w)

    def _samples(
        self,
        chunk: Chunk,
        matrix: FloatArray,
        y: FloatArray | IntArray,
        loss: FloatArray,
        predicted: IntArray | None = None,
    ) -> None:
        """Keep the first rows and the worst rows (those the totals now hold)."""
        rows = chunk.pred_rows

        def sample(i: int) -> Sample:
            return Sample(
                row=rows + i if isinstance(rows, int) else int(rows[i]),
                id=None if chunk.labels is None else chunk.labels.text(i),
                target=tuple(float(v) for v in np.atleast_1d(y[i])),
                prediction=tuple(float(v) for v in np.atleast_1d(matrix[i])),
                loss=float(loss[i]),
                predicted=None
                if predicted is None
                else tuple(int(v) for v in np.atleast_1d(predicted[i])),
            )

        wanted = min(self.setup.head - len(self.head), loss.size)
        self.head += [sample(i) for i in range(max(0, wanted))]
        assert self.totals is not None
        worst = [int(r) for r in self.totals.worst_index]
        if not worst:
            return

        def position(r: int) -> int:  # the rows of a chunk increase
            return r - rows if isinstance(rows, int) else int(np.searchsorted(rows, r))

        self.worst = {r: self.worst[r] if r in self.worst else sample(position(r)) for r in worst}

    # ------------------------------------------------------------------- merge

    def merge(self, other: EvalState) -> EvalState:
        """Fold in the state of other rows of the same input (any rows, any order)."""
        self.checks = [a.merge(b) for a, b in zip(self.checks, other.checks, strict=True)]
        self.negative = self.negative.merge(other.negative)
        self.positive_weight = self.positive_weight or other.positive_weight
        self.failed = self.failed or other.failed
        self.n += other.n
        self.n_dropped += other.n_dropped
        self.dropped += other.dropped
        self.pred_profile = self.pred_profile.merge(other.pred_profile)
        if other.target_profile is not None:
            self.target_profile = (
                other.target_profile
                if self.target_profile is None
                else self.target_profile.merge(other.target_profile)
            )
        self._merge_losses(other)
        return self

    def _merge_losses(self, other: EvalState) -> None:
        if other.totals is None:
            self.valid = self.valid and other.valid
            return
        if self.totals is None and self.valid and self.setup.detection is None:
            self.key = other.key
        if not (self.valid and other.valid and self.key == other.key):
            self.valid = False
            return
        if self.totals is None:
            self.totals, self.null = (
                LossAccumulator(other.totals.groups.names, self.setup.worst),
                NullState(other.null.n_classes, other.null.term) if other.null else NullState(),
            )
            if other.metrics is not None:
                m = other.metrics
                self.metrics = MetricsState(m.task, m.names, m.options)
        assert self.null is not None and other.null is not None
        self.totals.merge(other.totals)
        self.null.merge(other.null)
        if self.metrics is not None and other.metrics is not None:
            self.metrics.merge(other.metrics)
        self.overflow = self.overflow.merge(other.overflow)
        self.outside = (
            self.outside[0].merge(other.outside[0]),
            self.outside[1].merge(other.outside[1]),
        )
        self.head = sorted([*self.head, *other.head], key=lambda s: s.row)[: self.setup.head]
        samples = {**self.worst, **other.worst}
        self.worst = {int(r): samples[int(r)] for r in self.totals.worst_index}
        if self.buckets is not None and other.buckets is not None:
            self.buckets.merge(other.buckets)

    # ------------------------------------------------------------------ result

    def decide(self, pred_side: Side, target_side: Side) -> Detection:
        """The decision over every row seen (raises the input errors it finds)."""
        assert self.target_profile is not None
        return decide(
            self.pred_profile,
            self.target_profile,
            pred_names=self.setup.pred_names,
            pred_side=pred_side,
            target_side=target_side,
            task=self.setup.task,
            kind=self.setup.kind,
            pos_label=self.setup.pos_label,
            loss=self.setup.loss,
            params=tuple(name for name in self.setup.loss_options if name in LOSS_PARAMETERS),
            compat=str(self.setup.loss_options.get("compat", "sklearn")),
        )

    def check(self, pred_side: Side, target_side: Side) -> None:
        """Raise the input errors found, in the order the README gives."""
        sides = {"pred": pred_side, "target": target_side}
        setup = self.setup
        if not setup.drop_missing:
            for (column, side_name), count in zip(setup.checked, self.checks, strict=True):
                if count.n:
                    side, first = sides[side_name], count.first or 0
                    raise MissingValue(
                        "this value is missing (empty, NaN or infinite)",
                        file=side.file_at(first),
                        column=column,
                        row=side.row(first),
                        count=count.n,
                        hint="Fill or remove those rows, or pass --drop-missing to skip them",
                    )
        weight_side = sides[setup.weight_side]
        if self.negative.n:
            first = self.negative.first or 0
            raise NegativeWeight(
                "this weight is negative",
                file=weight_side.file_at(first),
                column=setup.weight,
                row=weight_side.row(first),
                count=self.negative.n,
                hint="Weights must be >= 0",
            )
        if self.n == 0 and self.n_dropped:
            raise AllRowsMissing(
                "every row has a missing value, so none is left to evaluate",
                file=pred_side.file,
                hint="Check the columns chosen",
            )
        if setup.weight is not None and not self.positive_weight:
            raise ZeroWeights(
                "every weight is zero",
                file=weight_side.file,
                column=setup.weight,
                hint="Check --weight-col",
            )

    def computed(self, detection: Detection) -> bool:
        """Whether this state's losses were all computed under ``detection``."""
        return self.valid and self.totals is not None and self.key == _key(detection)

    def result(
        self, detection: Detection, pred_side: Side, target_side: Side | None = None
    ) -> EvalResult:
        self.check_domain(detection, pred_side, target_side or pred_side)
        if self.overflow.n:
            first = self.overflow.first or 0
            loss = detection.loss
            what = "squared error" if loss == "squared_error" else f"{loss} loss"
            raise LossOverflow(
                f"the {what} of this row overflows float64",
                file=pred_side.file_at(first),
                row=pred_side.row(first),
            )
        assert self.totals is not None and self.null is not None
        summary = self.totals.result()
        warn = detection.task == "multiclass" and detection.prediction_kind == "probabilities"
        return EvalResult(
            summary=summary,
            null_loss=detection.spec.null_loss(self.null, **self.setup.loss_options),
            n_dropped=self.n_dropped,
            not_summing=self.pred_profile.not_summing if warn else Count(),
            head=tuple(self.head),
            worst=tuple(self.worst[r] for r, _ in summary.worst),
            metrics=None if self.metrics is None else metrics_of(self.metrics),
        )

    def check_domain(self, detection: Detection, pred_side: Side, target_side: Side) -> None:
        """Targets (first) and predictions outside the loss's domain, as scikit-learn checks
        (the engine asks it of a baseline's state, whose result it does not take)."""
        option = detection.spec.option
        for count, side, what, column in zip(
            self.outside,
            (target_side, pred_side),
            ("target", "prediction"),
            (self.setup.target_names, self.setup.pred_names),
            strict=True,
        ):
            if count.n:
                first = count.first or 0
                rule = detection.spec.domain_of(what, **self.setup.loss_options)
                raise OutsideLossDomain(
                    f"this {what} is outside the domain of --loss {option} ({what}s {rule})",
                    file=side.file_at(first),
                    column=column[0] if len(column) == 1 else None,
                    row=side.row(first),
                    count=count.n,
                    hint="Choose a loss whose domain holds these values, such as mse",
                )

    def dropped_rows(self) -> IntArray:
        """The target rows this state dropped, sorted (kept in a comparison only)."""
        if not self.dropped:
            return np.empty(0, dtype=np.intp)
        return np.unique(np.concatenate(self.dropped)).astype(np.intp)
