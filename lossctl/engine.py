"""One evaluation, from inputs to report: the engine behind the command line and the API.

Steps: open the inputs -> choose the columns (:mod:`lossctl.plan`) -> drive
passes of :class:`~lossctl.core.state.EvalState` over the aligned NumPy chunks
that ``io`` hands over -> decide -> build the :class:`~lossctl.report.model.Report`.
One pass is enough when the state's guess of the reading was the decision over
the whole input; otherwise a second pass, told the decision, computes the
losses. A baseline is a second prediction input evaluated by the same rules
against the same targets; the two states' comparison buckets are added.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, BinaryIO, TypeGuard

import numpy as np

from lossctl._version import __version__
from lossctl.core.bootstrap import PairedBuckets
from lossctl.core.compare import BaselineComparison
from lossctl.core.defaults import CHUNK_VALUES
from lossctl.core.losses import IntArray
from lossctl.core.metric_results import metrics_of
from lossctl.core.metrics import MetricOptions
from lossctl.core.state import EvalResult, EvalState, Setup
from lossctl.core.tasks import Detection
from lossctl.errors import (
    BaselineTaskMismatch,
    NoHeaderNotCsv,
    NoSampleOfClass,
    UnpairedBaseline,
    redacted,
)
from lossctl.gates import check_metric_options, gates
from lossctl.io.align import Apart, Companion
from lossctl.io.chunks import labels_to_numpy
from lossctl.io.readers import InputTable, open_table
from lossctl.io.writers import LossWriter, check_output
from lossctl.options import EvalOptions, check_inputs
from lossctl.passes import BaselineSource, Beside, Kept, Progress, Source, concat, told
from lossctl.plan import plan_columns, target_named
from lossctl.report.model import DetectionReport, Inputs, Report


def _options(options: EvalOptions | None, kwargs: dict[str, Any]) -> EvalOptions:
    if options is None:
        return EvalOptions.build(**kwargs)
    if kwargs:
        raise TypeError("give either options= or the options as keyword arguments, not both")
    return options


def _open(data: object, label: str, options: EvalOptions) -> InputTable:
    return open_table(data, label, options.encoding, options.no_header)


def _input(
    pred: InputTable, target: InputTable | None, options: EvalOptions, cluster: Any = None
) -> Source:
    if options.no_header and all(t.has_header is None for t in (pred, target) if t):
        raise NoHeaderNotCsv(
            "--no-header applies to CSV and TSV inputs, and this one is not",
            file=pred.label,
        )
    plan = plan_columns(pred, target, options.columns)
    # Chunks of at most chunk_rows rows and CHUNK_VALUES values, so that the temporaries
    # of a thousand-class file stay as small as those of a binary one.
    rows = max(1, min(options.chunk_rows, CHUNK_VALUES // len(plan.pred)))
    source = Source(pred, target, plan, rows)
    if cluster is None:
        return source
    from lossctl.cluster.source import dask_source

    distributed, note = dask_source(source, cluster, options.encoding, options.no_header)
    if note is not None:
        distributed.plan = replace(plan, notes=(*plan.notes, note))
    return distributed


def _setup(source: Source, options: EvalOptions, **changes: Any) -> Setup:
    plan = source.plan
    setup = Setup(
        pred_names=plan.pred,
        target_names=plan.target,
        weight=plan.weight,
        weight_side="target" if plan.weight_in_targets else "pred",
        task=options.task,
        kind=options.kind,  # type: ignore[arg-type]
        pos_label=options.pos_label,
        loss=options.loss,
        loss_options={
            "eps": options.eps,
            "label_reduction": options.label_reduction,
            "compat": options.compat,
            **options.loss_params(plan.pred),
        },
        drop_missing=options.drop_missing,
        head=options.head,
        worst=options.worst,
        seed=options.seed,
        metrics=MetricOptions(options.threshold, options.top_k, options.bins)
        if options.metrics
        else None,
    )
    return replace(setup, **changes)


def _inputs(source: Source, baseline: str | None = None) -> Inputs:
    plan = source.plan
    return Inputs(
        predictions=source.pred.label,
        targets=source.target.label if source.target is not None else None,
        pred_columns=plan.pred,
        target_columns=plan.target,
        id_column=plan.pred_id,
        weight_column=plan.weight,
        alignment=plan.alignment,
        by_column=plan.by,
        baseline=baseline,
    )


def _decided(source: Source, detection: Detection) -> dict[str, Any]:
    """What both reports say of the decision, and why."""
    plan = source.plan
    return {
        "task": detection.task,
        "activation": detection.activation,
        "prediction_kind": detection.prediction_kind,
        "loss": detection.loss,
        "target_encoding": detection.target_encoding,
        "reasons": (plan.alignment, *plan.notes, *detection.reasons),
    }


def _is_path(data: object) -> TypeGuard[str | os.PathLike[str]]:
    return isinstance(data, (str, os.PathLike))


Output = str | BinaryIO | Sequence[str | BinaryIO] | None


def evaluate(
    predictions: object,
    targets: object = None,
    *,
    output: Output = None,
    keep_losses: bool = True,
    progress: Progress | None = None,
    options: EvalOptions | None = None,
    **kwargs: Any,
) -> Report:
    """Evaluate predictions against targets and return the :class:`Report`.

    predictions, targets : a path (CSV, TSV, Parquet, compressed CSV), ``"-"``
        for CSV on stdin, a pandas DataFrame or Series, a pyarrow Table, or a
        NumPy array (1-D: one column; 2-D: one column per class or label,
        named ``"0"``, ``"1"``, ...). ``targets`` may be None when
        ``target_cols`` names the target columns inside ``predictions``.
    output : where to write the per-sample losses as they are computed: a path
        (``.csv``, ``.tsv``, ``.csv.gz``, ``.parquet``), which appears only once the
        evaluation is complete, or a seekable binary file object (CSV).
    keep_losses : keep the per-sample losses in ``Report.losses`` (8 bytes a
        sample, plus the ids); False keeps memory flat for inputs of any size.
    progress : told how far the reading has got (see :class:`Progress`).
    options : an :class:`~lossctl.options.EvalOptions`; or, as keyword arguments,
        the command line's options with their names: ``task``, ``from_logits``,
        ``pos_label``, ``pred_cols``, ``target_cols``, ``weight_col``, ``id_col``, ``no_id``,
        ``by``, ``eps``, ``label_reduction``, ``drop_missing``, ``encoding``,
        ``baseline`` (another model's predictions, compared by a paired bootstrap
        of ``n_bootstrap`` resamples from ``seed``), the gates ``max_loss``,
        ``max_increase``, ``max_increase_pct``, ``min_d2``, ``min_accuracy``, ``min_auc``,
        ``max_ece``, ``max_brier``, ``max_accuracy_drop``, ``max_auc_drop`` (the report's
        ``exit_code`` is 1 if any failed),
        ``head``, ``worst``, ``chunk_rows``; ``metrics`` (False: the loss alone),
        ``threshold``, ``top_k``, ``bins``; the loss: ``loss`` (a ``--loss`` name) and its
        parameters ``delta``, ``beta``, ``quantile``, ``power``, ``gamma``, ``alpha``,
        ``pos_weight``, ``label_smoothing``, ``class_weight``; ``compat`` (``"sklearn"``,
        ``"torch"``, ``"keras"``, ``"kaggle"``).

    Errors are :class:`lossctl.errors.LossctlError` subclasses.

    >>> import numpy as np
    >>> report = evaluate(np.array([0.9, 0.2]), np.array([1, 0]))
    >>> report.task, report.prediction_kind, round(report.mean_loss, 6)
    ('binary', 'probabilities', 0.164252)
    """
    o = _options(options, kwargs)
    check_inputs(predictions, targets, o.baseline)
    destinations: list[Any] = []
    if output is not None:
        destinations = [output] if _is_path(output) or hasattr(output, "write") else list(output)
    paths = [os.fspath(d) for d in (predictions, targets, o.baseline) if _is_path(d)]
    for destination in destinations:
        if _is_path(destination):
            check_output(os.fspath(destination), paths)
    comparison = None
    with contextlib.ExitStack() as stack:
        cluster = _cluster(o, stack)
        target_table = _open(targets, "targets", o) if targets is not None else None
        source = _input(_open(predictions, "predictions", o), target_table, o, cluster)
        stack.enter_context(target_named(source.plan, source.target))
        if o.class_weight == "balanced":
            o = _balanced(source, o)
        writers = _writers(source, destinations, stack)
        kept = Kept() if keep_losses else None
        if o.baseline is None:
            state, detection = source.evaluate(_setup(source, o), writers, kept, progress)
        else:
            state, detection, comparison = _with_baseline(
                source, o, writers, kept, progress, cluster
            )
    if not keep_losses:
        kept = None
    check_metric_options(detection, source.plan.pred, o)
    result = state.result(detection, *source.sides)
    report = _report(source, detection, result, o, kept, comparison)
    return report.with_gates(gates(report, comparison, o))


def _cluster(o: EvalOptions, stack: contextlib.ExitStack) -> Any:
    """The Dask cluster of ``--engine dask`` (closed with ``stack``), or None."""
    if o.engine != "dask":
        return None
    from lossctl.cluster.client import Cluster, check_installed

    check_installed()
    cluster = Cluster(o.scheduler)
    stack.callback(cluster.close)
    cluster.client()  # an unreachable scheduler is an error before any work
    return cluster


def _writers(
    source: Source, destinations: Sequence[Any], stack: contextlib.ExitStack
) -> list[LossWriter]:
    """A writer for each destination; on the dask engine, a path is a directory of parts
    that the workers write (one per partition)."""
    writers = []
    for destination in destinations:
        if _is_path(destination) and getattr(source, "partitions", None):
            from lossctl.io.parts_output import PartsOutput

            output = PartsOutput.written(os.fspath(destination))
            source.output = stack.enter_context(output)  # type: ignore[attr-defined]
        else:
            writers.append(stack.enter_context(LossWriter(destination)))
    return writers


def _report(
    source: Source,
    detection: Detection,
    result: EvalResult,
    o: EvalOptions,
    kept: Kept | None,
    comparison: BaselineComparison | None,
) -> Report:
    plan, side = source.plan, source.sides[0]
    not_summing = result.not_summing
    return Report(
        version=__version__,
        **_decided(source, detection),
        inputs=_inputs(source, None if comparison is None else _label(o.baseline)),
        summary=result.summary,
        null_loss=result.null_loss,
        loss_params=o.loss_params(plan.pred),
        compat=o.compat,
        null_reason=detection.spec.no_null or None,
        eps=o.eps,
        label_reduction=o.label_reduction if detection.task == "multilabel" else None,
        weighted=plan.weight is not None or o.class_weight is not None,
        n_dropped=result.n_dropped,
        n_not_summing=not_summing.n,
        first_not_summing=None if not_summing.first is None else side.row(not_summing.first),
        samples=tuple(
            tuple(replace(s, row=side.row(s.row)) for s in rows)
            for rows in (result.head, result.worst)
        ),  # type: ignore[arg-type]
        baseline=comparison,
        losses=None if kept is None else concat(kept.loss, np.float64),
        ids=None if kept is None or not kept.labels else labels_to_numpy(kept.labels),
        weights=None if kept is None or not kept.weights else np.concatenate(kept.weights),
        target_rows=None if kept is None else concat(kept.rows, np.int64) + 1,
        metrics=result.metrics,
        threshold=o.threshold if o.metrics else None,
    )


def _balanced(source: Source, o: EvalOptions) -> EvalOptions:
    """``--class-weight balanced``: scikit-learn's ``n / (K * count of the class)``, from the
    class counts of a first pass over the input."""
    state, detection = source.evaluate(_setup(source, o.replace(class_weight=None)))
    if detection.task != "multiclass":
        return o  # the evaluation says that --class-weight is not for this task
    groups = state.result(detection, *source.sides).summary.groups
    counts = [group.n_samples for group in groups]
    empty = [group.name for group in groups if group.n_samples == 0]
    if empty:
        raise NoSampleOfClass(
            f"--class-weight balanced needs a sample of every class, and {empty[0]!r} has none",
            file=source.sides[1].file or source.sides[0].file,
            hint="Give the class weights with NAME=W,..., or leave out the empty class's column",
        )
    n = sum(counts)
    weights = ",".join(f"{n / (len(counts) * c)!r}" for c in counts)
    return o.replace(class_weight=weights)


def _label(data: object) -> str:
    return redacted(os.fspath(data)) if _is_path(data) else "baseline"


def _baseline_input(
    source: Source,
    target_table: InputTable | None,
    o: EvalOptions,
    exclude: IntArray | None = None,
    row_weights: tuple[IntArray, np.ndarray] | None = None,
    cluster: Any = None,
) -> BaselineSource:
    """The baseline, to be evaluated by the same rules against the same targets.

    It needs neither the grouping column nor, unless the targets hold them, the
    weights: it is weighed by the candidate's, from the targets or ``row_weights``.
    """
    plan = source.plan
    weight = plan.weight if plan.weight_in_targets else None
    options = o.replace(columns=replace(o.columns, by=None, weight_col=weight))
    base = _input(_open(o.baseline, "baseline", o), target_table, options, cluster)
    setup = _setup(
        base,
        options,
        head=0,
        worst=0,
        compare="baseline",
        exclude=exclude,
        row_weights=row_weights,
        summary=False,
    )
    inner = None if type(base) is Source else base
    return BaselineSource(
        base.pred, base.target, base.plan, base.rows, setup=setup, options=options, inner=inner
    )


def _with_baseline(
    source: Source,
    o: EvalOptions,
    writers: Sequence[LossWriter],
    kept: Kept | None,
    progress: Progress | None,
    cluster: Any = None,
) -> tuple[EvalState, Detection, BaselineComparison]:
    """The predictions and the baseline, evaluated by the same rules against the same
    targets, and compared.

    Where the baseline follows the predictions row for row (by position, or the same
    ids in the same order: the usual case of two models scored by the same job), it
    is read beside them in the same pass, and weighed by the same rows' weights.
    Otherwise (:class:`~lossctl.io.align.Apart`) it is evaluated in a pass of its own
    and weighed by the candidate's weights from the targets, or, when they are a
    column of the predictions, from the candidate's rows held in memory (24 bytes a
    row; read beside them, with --drop-missing, for a pass of the baseline alone that
    leaves out the rows that only the predictions dropped: see :func:`_compare`).
    """
    setup = _setup(source, o, compare="candidate")
    base = _baseline_input(source, source.target, o, cluster=cluster)
    plan = source.plan
    hold_weights = plan.weight is not None and not plan.weight_in_targets
    held = Kept() if kept is None and hold_weights else kept
    if source.target is not None:
        joint = replace(base.setup, weight=setup.weight, weight_side=setup.weight_side)
        beside = Beside(Companion(base.pred, base.plan.pred, base.plan.pred_id), joint)
        holding = held if o.drop_missing else kept
        try:
            state, detection = source.evaluate(setup, writers, holding, progress, beside)
        except Apart:
            pass
        else:
            beside.state.check_domain(beside.detection, *beside.sides)
            if hold_weights and held is not None and o.drop_missing:
                base.setup = replace(base.setup, row_weights=held.row_weights())
            comparison = _compare(source, state, detection, base, beside.state, beside.detection, o)
            return state, detection, comparison
    state, detection = source.evaluate(setup, writers, held, progress)
    weights = held.row_weights() if hold_weights and held is not None else None
    base = _baseline_input(source, source.target, o, state.dropped_rows(), weights, cluster)
    base_state, base_detection = base.evaluate(base.setup)
    base_state.check_domain(base_detection, *base.sides)
    return state, detection, _compare(source, state, detection, base, base_state, base_detection, o)


def _compare(
    source: Source,
    state: EvalState,
    detection: Detection,
    base: BaselineSource,
    base_state: EvalState,
    base_detection: Detection,
    o: EvalOptions,
) -> BaselineComparison:
    """Add the baseline's comparison buckets to the candidate's, and compare; the
    comparison carries the baseline's metrics, over the rows compared and weighed as
    they are (the predictions' own metrics are over every row they kept).

    Both inputs were matched with the targets by the same rules (by id, or by
    position), so the target row is what pairs them, whatever their own order.
    With ``drop_missing`` the two may drop different rows: the comparison is over
    the rows both kept; a row that only one of them dropped costs the other a
    second pass that leaves it out.
    """
    if base_detection.task != detection.task:
        raise BaselineTaskMismatch(
            f"the baseline is detected as {base_detection.task} but the predictions as "
            f"{detection.task}",
            file=base.pred.label,
            hint="Set the task with --task",
        )
    dropped, base_dropped = state.dropped_rows(), base_state.dropped_rows()
    excluded = base.setup.exclude if base.setup.exclude is not None else np.empty(0, np.intp)
    if np.setdiff1d(dropped, np.union1d(base_dropped, excluded)).size:
        base_state = base.run(told(replace(base.setup, exclude=dropped), base_detection))
    buckets = state.buckets
    only_base = np.setdiff1d(base_dropped, dropped)
    if only_base.size:  # the candidate counted rows the baseline dropped: count them out
        setup = _setup(source, o, compare="candidate", exclude=only_base, summary=False)
        buckets = source.run(told(replace(setup, metrics=None), detection)).buckets
    assert buckets is not None and base_state.buckets is not None
    pairs = PairedBuckets(o.seed).merge(buckets).merge(base_state.buckets)
    found = _paired(pairs, state.n, base_state.n, base.pred.label, o)
    metrics = base_state.metrics
    return replace(found, metrics=None if metrics is None else metrics_of(metrics))


def _paired(
    pairs: PairedBuckets, n: int, n_base: int, label: str, o: EvalOptions
) -> BaselineComparison:
    if not pairs.paired:
        raise UnpairedBaseline(
            f"the baseline has predictions for {n_base} target rows, the predictions "
            f"for {n}, and not the same ones",
            file=label,
            hint="The baseline needs predictions for the same target rows (or ids)",
        )
    if not pairs.n.any():
        raise UnpairedBaseline(
            "no sample is left that both the predictions and the baseline kept",
            file=label,
            hint="Check the missing values of both files",
        )
    return pairs.result(o.n_bootstrap)


def detect(
    predictions: object,
    targets: object = None,
    *,
    options: EvalOptions | None = None,
    **kwargs: Any,
) -> DetectionReport:
    """What :func:`evaluate` would decide for these inputs, and why, without the losses.

    Takes the options of :func:`evaluate` that bear on the decision: ``task``,
    ``from_logits``, ``pos_label``, the columns, ``drop_missing``, ``encoding`` and
    ``no_header``.

    >>> import numpy as np
    >>> detect(np.array([-2.0, 3.5]), np.array([0, 1])).prediction_kind
    'logits'
    """
    o = _options(options, kwargs)
    check_inputs(predictions, targets)
    pred_table = _open(predictions, "predictions", o)
    target_table = _open(targets, "targets", o) if targets is not None else None
    source = _input(pred_table, target_table, o)
    setup = _setup(source, o, head=0, worst=0)
    with target_named(source.plan, source.target):
        state = source.run(setup)
        state.check(*source.sides)
        detection = state.decide(*source.sides)
    return DetectionReport(
        **_decided(source, detection),
        inputs=_inputs(source),
        n_samples=state.n,
    )


__all__ = ["Progress", "detect", "evaluate"]
