"""One evaluation, from inputs to report: the engine behind the CLI and the Python API.

Steps: open both inputs -> choose the columns -> read only those -> align the
rows (by id or by order) -> check for missing values -> profile the whole
input and detect the task -> compute the per-sample losses chunk by chunk ->
build the report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from lossctl._version import __version__
from lossctl.core.accumulate import LossAccumulator, LossSummary
from lossctl.core.activations import FloatArray, sigmoid, softmax
from lossctl.core.compare import BaselineComparison, compare_to_baseline, null_loss
from lossctl.core.defaults import CHUNK_VALUES, DEFAULT_CHUNK_ROWS, DEFAULT_EPS, TASK_CHOICES
from lossctl.core.losses import (
    IntArray,
    LabelReduction,
    PredictionKind,
    sample_losses,
)
from lossctl.core.tasks import (
    Count,
    Detection,
    PredictionProfile,
    Side,
    TargetColumn,
    TargetProfile,
    decide,
    encode_targets,
)
from lossctl.errors import (
    AllRowsMissing,
    AmbiguousPairing,
    BaselineTaskMismatch,
    BothStdin,
    ConflictingOptions,
    DuplicateColumn,
    HeaderOnly,
    InvalidOption,
    LengthMismatch,
    LossOverflow,
    MissingBaseline,
    MissingValue,
    NegativeWeight,
    NoColumnsLeft,
    NoSuchColumn,
    NoTargets,
    OverlappingColumns,
    UnknownEncoding,
    UnknownTask,
    UnpairedBaseline,
    ZeroWeights,
)
from lossctl.io.columns import (
    align_ids,
    from_numpy,
    to_float,
    to_float_blocks,
    to_groups,
    to_target,
)
from lossctl.io.readers import InputTable, open_table
from lossctl.report.model import DetectionReport, Gate, Inputs, Report, SampleRow

Columns = str | Sequence[str] | None


@dataclass(frozen=True)
class ColumnPlan:
    """Which columns of which input play which part."""

    pred: tuple[str, ...]
    target: tuple[str, ...]
    pred_id: str | None
    target_id: str | None
    weight: str | None
    weight_in_targets: bool
    join: bool
    alignment: str
    by: str | None = None
    by_in_targets: bool = False
    notes: tuple[str, ...] = ()


def _names(value: Columns, available: Sequence[str]) -> list[str] | None:
    """``--pred-col a,b --pred-col c`` -> ['a', 'b', 'c'].

    A name is taken as written when a column has it (`` p``), else without the
    spaces around it (``a, b``).
    """
    if value is None:
        return None
    items = [value] if isinstance(value, str) else list(value)
    parts = [part for item in items for part in str(item).split(",") if part.strip()]
    names = [part if part in available else part.strip() for part in parts]
    return names or None


def _require(
    names: Sequence[str], available: Sequence[str], table: InputTable, option: str
) -> None:
    for i, name in enumerate(names):
        if name in names[:i]:
            raise DuplicateColumn(
                f"is named more than once by {option}",
                file=table.label,
                column=name,
                hint="Name each column once",
            )
    for name in names:
        if name not in available:
            import difflib

            close = difflib.get_close_matches(name, available, n=1)
            hint = f"Did you mean {close[0]!r}?" if close else ""
            shown = ", ".join(repr(a) for a in available[:20])
            raise NoSuchColumn(
                f"no such column (named by {option}); the columns are {shown}",
                file=table.label,
                column=name,
                hint=hint,
            )


def _id_like(names: Sequence[str]) -> str | None:
    return next((n for n in names if n.lower() == "id"), None)


def plan_columns(
    preds: InputTable,
    targets: InputTable | None,
    *,
    pred_cols: Columns = None,
    target_cols: Columns = None,
    weight_col: str | None = None,
    id_col: str | None = None,
    no_id: bool = False,
    by: str | None = None,
) -> ColumnPlan:
    """Apply the SPEC's column rules (see README, "How detection works")."""
    if id_col is not None and no_id:
        raise ConflictingOptions("--id and --no-id contradict each other", hint="Give one of them")
    p_names = preds.names
    t_names = targets.names if targets is not None else []
    chosen_pred = _names(pred_cols, p_names)
    chosen_target = _names(target_cols, t_names if targets is not None else p_names)

    pred_id = target_id = None
    if id_col is not None:
        _require([id_col], p_names, preds, "--id")
        if targets is not None:
            _require([id_col], t_names, targets, "--id")
            target_id = id_col
        pred_id = id_col
    elif not no_id:
        pred_id = _id_like(p_names)
        target_id = _id_like(t_names) if targets is not None else None
        if targets is not None and (pred_id is None or target_id is None):
            pred_id = target_id = None
    join = targets is not None and pred_id is not None
    excluded = {n for n in (*p_names, *t_names) if n.lower() == "id"}
    excluded |= {name for name in (pred_id, target_id) if name is not None}
    defaults = chosen_pred is None or chosen_target is None
    notes = [
        f"column {name!r} of {table.label} is a saved index, not data: set aside"
        for table in (preds, targets)
        if table is not None and defaults
        for name in table.index_columns
        if name not in excluded
    ]
    excluded |= {n for table in (preds, targets) if table is not None for n in table.index_columns}

    weight_in_targets = False
    if weight_col is not None:
        if weight_col in t_names:
            weight_in_targets = True
        else:
            _require([weight_col], list(dict.fromkeys([*p_names, *t_names])), preds, "--weight-col")
        excluded.add(weight_col)
    by_in_targets = False
    if by is not None:
        by_in_targets = by in t_names
        if not by_in_targets:
            _require([by], list(dict.fromkeys([*p_names, *t_names])), preds, "--by")
        excluded.add(by)

    if targets is None:
        if chosen_target is None:
            raise NoTargets(
                "no TARGETS file and no --target-col",
                hint="Give a TARGETS file, or name the target column(s) in PREDICTIONS "
                "with --target-col",
            )
        _require(chosen_target, p_names, preds, "--target-col")
        target = chosen_target
    elif chosen_target is not None:
        _require(chosen_target, t_names, targets, "--target-col")
        target = chosen_target
    else:
        target = [n for n in t_names if n not in excluded]
        if not target and by_in_targets and by is not None:
            target = [by]  # grouping by the label itself: it stays the target
    if chosen_pred is not None:
        _require(chosen_pred, p_names, preds, "--pred-col")
        pred = chosen_pred
    else:
        taken = excluded | (set(target) if targets is None else set())
        pred = [n for n in p_names if n not in taken]
    for names, table, what, option in (
        (pred, preds, "prediction", "--pred-col"),
        (target, targets or preds, "target", "--target-col"),
    ):
        if not names:
            raise NoColumnsLeft(
                f"has no {what} columns left once ids and weights are set aside",
                file=table.label,
                hint=f"Name the {what} columns with {option}",
            )
    overlap = set(pred) & set(target) if targets is None else set()
    if overlap:
        raise OverlappingColumns(
            f"column {sorted(overlap)[0]!r} is both a prediction and a target column",
            file=preds.label,
            hint="Give different columns to --pred-col and --target-col",
        )
    # A column of a file is read once, as numbers or as it is: the weights (numbers) and
    # the groups (as they are) cannot share a column with another part of that file.
    groups = [by] if by is not None else []
    by_in_preds = bool(groups) and not by_in_targets
    in_targets_file = [*target, *(groups if by_in_targets else [])]
    in_preds_file = [*pred, *(target if targets is None else []), *(groups if by_in_preds else [])]
    clashes: list[tuple[str, str | None, list[str]]] = [
        ("--weight-col", weight_col, in_targets_file if weight_in_targets else in_preds_file),
        ("--by", by, pred if by_in_preds else []),
    ]
    for option, name, others in clashes:
        if name is not None and name in others:
            raise OverlappingColumns(
                f"{option} names {name!r}, which already plays another part",
                hint=f"Give {option} a column of its own",
            )
    if len(target) == len(pred) > 1:
        if set(target) == set(pred):
            target = list(pred)  # several columns: matched by name when the names agree
            notes.append("target and prediction columns paired by name")
        elif set(target) & set(pred) and chosen_pred is None and chosen_target is None:
            raise AmbiguousPairing(
                f"the target columns ({', '.join(target)}) share some names with the prediction "
                f"columns ({', '.join(pred)}) but not all, so pairing them is a guess",
                file=(targets or preds).label,
                hint="Give both in matching order with --pred-col and --target-col",
            )
        else:
            pairs = ", ".join(f"{t}->{p}" for t, p in zip(target, pred, strict=True))
            notes.append(f"target and prediction columns paired by position: {pairs}")
    if targets is None:
        alignment = f"single file: the targets are columns of {preds.label}"
    elif join:
        how = "set by --id" if id_col is not None else "found in both files"
        alignment = f"rows matched by the id column {pred_id!r} ({how})"
    else:
        why = "--no-id" if no_id else "no id column in both files"
        alignment = f"rows matched by position ({why})"
    return ColumnPlan(
        tuple(pred),
        tuple(target),
        pred_id,
        target_id,
        weight_col,
        weight_in_targets,
        join,
        alignment,
        by,
        by_in_targets,
        tuple(notes),
    )


class Blocks:
    """The prediction columns in row blocks, as NumPy views of the Arrow data.

    blocks : one list of K arrays (one per prediction column) per block of rows
    """

    def __init__(self, blocks: list[list[FloatArray]]) -> None:
        self.blocks = blocks
        self.starts = np.cumsum([0] + [b[0].size for b in blocks])
        self.n = int(self.starts[-1])

    def __iter__(self) -> Iterator[tuple[int, FloatArray]]:
        """(first row, predictions): (n,) for one column, else (n, K)."""
        for start, columns in zip(self.starts, self.blocks, strict=False):
            yield int(start), columns[0] if len(columns) == 1 else np.column_stack(columns)

    def missing(self) -> list[np.ndarray]:
        """Per column, which rows are empty, NaN or infinite."""
        k = len(self.blocks[0])
        return [np.concatenate([~np.isfinite(b[j]) for b in self.blocks]) for j in range(k)]

    def row(self, i: int) -> FloatArray:
        block = int(np.searchsorted(self.starts, i, side="right")) - 1
        return np.array([c[i - self.starts[block]] for c in self.blocks[block]])

    def keep(self, mask: np.ndarray) -> Blocks:
        """Only the rows where ``mask`` is True (a copy)."""
        kept = []
        for start, columns in zip(self.starts, self.blocks, strict=False):
            m = mask[start : start + columns[0].size]
            if m.any():
                kept.append([c[m] for c in columns])
        return Blocks(kept)


class _Background:
    """Run ``function(**kwargs)`` in a thread; ``result()`` returns or raises what it did."""

    def __init__(self, function: Callable[..., Any], **kwargs: Any) -> None:
        import threading

        self._value: Any = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._value = function(**kwargs)
            except BaseException as error:  # handed over to the caller in result()
                self._error = error

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def wait(self) -> None:
        self._thread.join()

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


@dataclass
class _Aligned:
    """The inputs row-aligned in PREDICTIONS order."""

    pred: Blocks
    targets: list[TargetColumn]
    weights: FloatArray | None
    ids: Any  # pa.ChunkedArray | None, in PREDICTIONS order
    pred_side: Side
    target_side: Side
    n_dropped: int
    by_codes: IntArray | None = None
    by_names: tuple[str, ...] = ()


def _unique(*names: str | None) -> list[str]:
    """The names given, once each, in order (a --by column may also be a target)."""
    return [name for name in dict.fromkeys(names) if name is not None]


def _read_aligned(
    preds: InputTable,
    targets: InputTable | None,
    plan: ColumnPlan,
    *,
    drop_missing: bool,
    chunk_rows: int,
) -> _Aligned:
    weight_numeric = [plan.weight] if plan.weight is not None else []
    single = targets is None
    t_read = None
    if targets is not None:
        # pyarrow parses without the GIL: read the targets while the predictions stream.
        t_read = _Background(
            targets.read,
            numeric=weight_numeric if plan.weight_in_targets else [],
            other=_unique(
                *plan.target,
                plan.target_id,
                plan.by if plan.by_in_targets else None,
            ),
            text=_unique(plan.target_id),
        )
    try:
        p_data = preds.read(
            numeric=[*plan.pred, *([] if plan.weight_in_targets else weight_numeric)],
            other=_unique(
                plan.pred_id,
                *(plan.target if single else []),
                plan.by if not plan.by_in_targets else None,
            ),
            text=_unique(plan.pred_id),
        )
    finally:
        if t_read is not None:
            t_read.wait()  # never leave pyarrow working in a thread while the process exits
    t_data = t_read.result() if t_read is not None else p_data
    target_table = targets if targets is not None else preds
    n_pred = len(p_data[plan.pred[0]])
    n_target = len(t_data[plan.target[0]])
    for n, table in ((n_pred, preds), (n_target, target_table)):
        if n == 0:
            raise HeaderOnly(
                "has a header but no data rows", file=table.label, hint="Give at least one row"
            )

    take: IntArray | None = None
    if plan.join:
        assert plan.pred_id is not None and plan.target_id is not None
        take = align_ids(
            p_data[plan.pred_id],
            t_data[plan.target_id],
            column=plan.pred_id,
            pred_label=preds.label,
            target_label=target_table.label,
        )
    elif n_pred != n_target:
        raise LengthMismatch(
            f"{preds.label} has {n_pred} rows but {target_table.label} has {n_target}",
            hint="Aligned by row order, both files need the same rows; or align them by an "
            "id column with --id",
        )

    def aligned(values: np.ndarray) -> np.ndarray:
        return values if take is None else values[take]

    # Blocks of at most chunk_rows rows and CHUNK_VALUES values, so that the temporaries
    # of a thousand-class file stay as small as those of a binary one.
    rows = max(1, min(chunk_rows, CHUNK_VALUES // len(plan.pred)))
    pred = Blocks(to_float_blocks([p_data.pop(name) for name in plan.pred], rows))
    target_columns, missing_masks = [], []
    for name in plan.target:
        column, missing = to_target(name, t_data[name], target_table.label)
        target_columns.append(column if take is None else column.take(take))
        missing_masks.append(aligned(missing))
    weights = None
    if plan.weight is not None:
        weights = to_float((t_data if plan.weight_in_targets else p_data)[plan.weight])
        weights = aligned(weights) if plan.weight_in_targets else weights
    by_codes: IntArray | None = None
    by_names: tuple[str, ...] = ()
    if plan.by is not None:
        by_table = target_table if plan.by_in_targets else preds
        by_codes, by_names = to_groups(
            (t_data if plan.by_in_targets else p_data)[plan.by], plan.by, by_table.label
        )
        by_codes = aligned(by_codes) if plan.by_in_targets else by_codes
    ids = p_data.get(plan.pred_id) if plan.pred_id else None
    pred_side = Side(preds.label)
    target_side = Side(target_table.label, None if take is None else take + 1)

    checks: list[tuple[str, np.ndarray, Side]] = [
        (name, mask, pred_side) for name, mask in zip(plan.pred, pred.missing(), strict=True)
    ]
    checks += [
        (name, mask, target_side) for name, mask in zip(plan.target, missing_masks, strict=True)
    ]
    if weights is not None:
        side = target_side if plan.weight_in_targets else pred_side
        checks.append((plan.weight or "", ~np.isfinite(weights), side))
    missing_any = np.zeros(n_pred, dtype=bool)
    for name, mask, side in checks:
        if not drop_missing and mask.any():
            first = int(np.argmax(mask))
            raise MissingValue(
                "this value is missing (empty, NaN or infinite)",
                file=side.file,
                column=name,
                row=side.row(first),
                count=int(np.count_nonzero(mask)),
                hint="Fill or remove those rows, or pass --drop-missing to skip them",
            )
        missing_any |= mask
    n_dropped = int(np.count_nonzero(missing_any))
    if n_dropped:
        if n_dropped == n_pred:
            raise AllRowsMissing(
                "every row has a missing value, so none is left to evaluate",
                file=preds.label,
                hint="Check the columns chosen",
            )
        keep = np.flatnonzero(~missing_any)
        pred = pred.keep(~missing_any)
        target_columns = [c.take(keep) for c in target_columns]
        weights = weights[keep] if weights is not None else None
        if by_codes is not None:
            used, by_codes = np.unique(by_codes[keep], return_inverse=True)
            by_names = tuple(by_names[i] for i in used)  # groups all dropped are gone
        if ids is not None:
            ids = ids.take(from_numpy(keep))
        pred_side = Side(preds.label, keep + 1)
        target_side = Side(target_table.label, keep + 1 if take is None else take[keep] + 1)
    if weights is not None:
        side = target_side if plan.weight_in_targets else pred_side
        negative = weights < 0
        if negative.any():
            raise NegativeWeight(
                "this weight is negative",
                file=side.file,
                column=plan.weight,
                row=side.row(int(np.argmax(negative))),
                count=int(np.count_nonzero(negative)),
                hint="Weights must be >= 0",
            )
        if not np.any(weights > 0):
            raise ZeroWeights(
                "every weight is zero",
                file=side.file,
                column=plan.weight,
                hint="Check --weight-col",
            )
    return _Aligned(
        pred, target_columns, weights, ids, pred_side, target_side, n_dropped, by_codes, by_names
    )


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
    target_table = open_table(targets, "targets", encoding) if targets is not None else None
    report = _evaluate_tables(
        open_table(predictions, "predictions", encoding), target_table, options
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
    plan, data, detection, _ = _read_and_decide(pred_table, target_table, options)
    return DetectionReport(
        task=detection.task,
        activation=detection.activation,
        prediction_kind=detection.prediction_kind,
        loss=detection.loss,
        target_encoding=detection.target_encoding,
        reasons=(plan.alignment, *plan.notes, *detection.reasons),
        inputs=_inputs(pred_table, target_table, plan),
        n_samples=data.pred.n,
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


def _read_and_decide(
    pred_table: InputTable, target_table: InputTable | None, o: _Options
) -> tuple[ColumnPlan, _Aligned, Detection, Count]:
    """Choose the columns, read and align them, and detect: what evaluate and detect share."""
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
    data = _read_aligned(
        pred_table, target_table, plan, drop_missing=o.drop_missing, chunk_rows=o.chunk_rows
    )
    detection, not_summing = _detect(data, plan.pred, o.task, o.kind)
    return plan, data, detection, not_summing


def _evaluate_tables(
    pred_table: InputTable, target_table: InputTable | None, o: _Options
) -> Report:
    """One prediction file against the targets: everything but baseline and gates."""
    plan, data, detection, not_summing = _read_and_decide(pred_table, target_table, o)
    y = encode_targets(detection, data.targets, plan.pred)
    losses, summary = _losses(data, detection, y, o, plan.pred)
    null = null_loss(
        detection.task,
        y,
        data.weights,
        n_classes=len(plan.pred),
        label_reduction=o.label_reduction,
    )

    def row(i: int) -> SampleRow:
        return SampleRow(
            row=data.pred_side.row(i),
            id=None if data.ids is None else str(data.ids[i].as_py()),
            target=_describe_target(detection, y, i, plan.pred),
            prediction=_describe_prediction(detection, data.pred.row(i), plan.pred),
            loss=float(losses[i]),
        )

    return Report(
        version=__version__,
        task=detection.task,
        activation=detection.activation,
        prediction_kind=detection.prediction_kind,
        loss=detection.loss,
        target_encoding=detection.target_encoding,
        reasons=(plan.alignment, *plan.notes, *detection.reasons),
        inputs=_inputs(pred_table, target_table, plan),
        summary=summary,
        null_loss=null,
        eps=o.eps,
        label_reduction=o.label_reduction if detection.task == "multilabel" else None,
        weighted=data.weights is not None,
        n_dropped=data.n_dropped,
        n_not_summing=not_summing.n,
        first_not_summing=(
            None if not_summing.first is None else data.pred_side.row(not_summing.first)
        ),
        head=tuple(row(i) for i in range(min(o.head, data.pred.n))),
        worst=tuple(row(i) for i, _ in summary.worst),
        losses=losses,
        ids=data.ids,
        weights=data.weights,
        target_rows=(
            data.target_side.rows
            if data.target_side.rows is not None
            else np.arange(1, data.pred.n + 1)
        ),
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


def _detect(
    data: _Aligned, names: Sequence[str], task: str, kind: PredictionKind | None
) -> tuple[Detection, Count]:
    """Profile every row, then decide; also the probability rows not summing to 1, when
    that deserves a warning (multiclass probabilities)."""
    pred_profile = PredictionProfile()
    target_profile = TargetProfile.of([c.slice(0, 0) for c in data.targets], names)
    for start, block in data.pred:
        stop = start + block.shape[0]
        pred_profile = pred_profile.merge(PredictionProfile.of(block, start))
        target_profile = target_profile.merge(
            TargetProfile.of([c.slice(start, stop) for c in data.targets], names, start)
        )
    detection = decide(
        pred_profile,
        target_profile,
        pred_names=names,
        pred_side=data.pred_side,
        target_side=data.target_side,
        task=task,
        kind=kind,
    )
    warn = detection.task == "multiclass" and detection.prediction_kind == "probabilities"
    return detection, pred_profile.not_summing if warn else Count()


def _losses(
    data: _Aligned,
    detection: Detection,
    y: FloatArray | IntArray,
    o: _Options,
    names: Sequence[str],
) -> tuple[FloatArray, LossSummary]:
    """Per-sample losses, block by block, and the running totals over them."""
    groups = tuple(names) if detection.task in ("multiclass", "multilabel") else ()
    accumulator = LossAccumulator(groups, worst_k=o.worst, by=data.by_names)
    losses = np.empty(data.pred.n)
    for start, block in data.pred:
        stop = start + block.shape[0]
        y_chunk = y[start:stop]
        chunk = sample_losses(
            detection.task,
            detection.prediction_kind,
            y_chunk,
            block,
            eps=o.eps,
            label_reduction=o.label_reduction,
        )
        if not np.all(np.isfinite(chunk.loss)):
            first = start + int(np.argmax(~np.isfinite(chunk.loss)))
            raise LossOverflow(
                "the squared error of this row overflows float64",
                file=data.pred_side.file,
                row=data.pred_side.row(first),
            )
        losses[start:stop] = chunk.loss
        accumulator.update(
            chunk.loss,
            offset=start,
            weights=None if data.weights is None else data.weights[start:stop],
            clipped=chunk.clipped,
            y_index=y_chunk if detection.task == "multiclass" else None,  # type: ignore[arg-type]
            per_label=chunk.per_label,
            by_codes=None if data.by_codes is None else data.by_codes[start:stop],
        )
    return losses, accumulator.result()


def _describe_target(
    detection: Detection, y: FloatArray | IntArray, i: int, names: Sequence[str]
) -> str:
    if detection.task == "multiclass":
        return names[int(y[i])]
    value = y[i]
    return _numbers(np.atleast_1d(value))
