"""What an :class:`~lossctl.core.state.EvalState` is given and gives back.

A :class:`Chunk` is rows of the inputs that belong together, as NumPy arrays
(what ``io`` hands over); a :class:`Setup` is what a state knows besides its
chunks; :class:`Sample`, :class:`Scored` and :class:`EvalResult` are what it
returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

import numpy as np

from lossctl.core.accumulate import LossSummary
from lossctl.core.activations import FloatArray
from lossctl.core.losses import BoolArray, IntArray, PredictionKind
from lossctl.core.metrics import MetricOptions, Metrics
from lossctl.core.profiles import Count, Rows, TargetColumn, TargetProfile
from lossctl.core.tasks import Detection

FileSide = Literal["pred", "target"]


class Labels(Protocol):
    """The ids of a chunk's rows, as ``io`` holds them: read one, or keep some."""

    def text(self, i: int) -> str: ...

    def take(self, index: IntArray) -> Labels: ...


@dataclass(frozen=True)
class Groups:
    """The ``--by`` value of each row: ``values[codes[i]]`` (None for an empty cell)."""

    codes: IntArray
    values: tuple[str | None, ...]


@dataclass(frozen=True)
class Chunk:
    """Rows of the inputs that belong together, as NumPy arrays (what ``io`` hands over).

    pred : one float64 array per prediction column, NaN where a value is missing
    targets, target_missing : each target column and where its value is missing
    weights : per-row weights (NaN where missing), or None
    pred_rows, target_rows : each row's number in PREDICTIONS and in TARGETS, from 0
        over the whole input (across its parts), as :data:`Rows` says
    other : another model's predictions of the same rows (a baseline read beside them)
    """

    pred: tuple[FloatArray, ...]
    targets: tuple[TargetColumn, ...]
    target_missing: tuple[BoolArray, ...]
    weights: FloatArray | None = None
    groups: Groups | None = None
    labels: Labels | None = None
    pred_rows: Rows = 0
    target_rows: Rows = 0
    other: tuple[FloatArray, ...] | None = None
    # What the targets' profile is against given prediction names: the same for the
    # models read beside each other, whose chunks share it (see beside()).
    _profiles: dict[tuple[str, ...], TargetProfile] = field(
        default_factory=dict, repr=False, compare=False
    )

    def target_profile(self, pred_names: tuple[str, ...]) -> TargetProfile:
        """What detection learns from these targets, against these prediction columns."""
        if pred_names not in self._profiles:
            self._profiles[pred_names] = TargetProfile.of(
                self.targets, pred_names, self.target_rows
            )
        return self._profiles[pred_names]

    @property
    def n(self) -> int:
        return int(self.pred[0].shape[0])

    def take(self, keep: IntArray) -> Chunk:
        """The rows ``keep`` (positions in the chunk, increasing)."""

        def rows(r: Rows) -> Rows:
            return keep + r if isinstance(r, int) else r[keep]

        groups = self.groups
        return Chunk(
            pred=tuple(c[keep] for c in self.pred),
            targets=tuple(t.take(keep) for t in self.targets),
            target_missing=tuple(m[keep] for m in self.target_missing),
            weights=None if self.weights is None else self.weights[keep],
            groups=None if groups is None else replace(groups, codes=groups.codes[keep]),
            labels=None if self.labels is None else self.labels.take(keep),
            pred_rows=rows(self.pred_rows),
            target_rows=rows(self.target_rows),
            other=None if self.other is None else tuple(c[keep] for c in self.other),
            _profiles={},
        )

    def target_row_numbers(self) -> IntArray:
        """Each row's number in TARGETS, as an array."""
        t = self.target_rows
        return np.arange(t, t + self.n) if isinstance(t, int) else t

    def kept(self, exclude: IntArray | None) -> IntArray | None:
        """The positions of the rows whose target row is not in ``exclude`` (sorted); None
        when no row is excluded."""
        if exclude is None or not exclude.size:
            return None
        return np.flatnonzero(~np.isin(self.target_row_numbers(), exclude))

    def weighed(self, row_weights: tuple[IntArray, FloatArray]) -> Chunk:
        """These rows with the weights that ``row_weights`` (target rows, sorted, and their
        weights) gives their target rows; 0 for a row that it does not hold."""
        held, weights = row_weights
        rows = self.target_row_numbers()
        if not held.size:
            return replace(self, weights=np.zeros(rows.size))
        found = np.minimum(np.searchsorted(held, rows), held.size - 1)
        return replace(self, weights=np.where(held[found] == rows, weights[found], 0.0))

    def beside(self) -> Chunk:
        """The other model's chunk: its predictions of these rows, with their targets and
        weights (its rows are numbered as these, which they follow one for one)."""
        assert self.other is not None
        return replace(self, pred=self.other, groups=None, labels=None, other=None)


@dataclass(frozen=True)
class Setup:
    """What a state needs to know besides its chunks (the same for every part).

    weight_side : which file the weights come from ("pred" or "target")
    detection : known (a second pass, or a worker told it): losses under it, no profiling
    compare : which model of a baseline comparison this state is, if any
    exclude : target rows (sorted) left out of the comparison and of the metrics (those
        the other model dropped; for a state whose predicted classes no one reads)
    row_weights : the baseline's weights (in the comparison and its metrics), when they
        are not in its chunks: the candidate's target rows (sorted) and their weights
    summary : keep the totals of the report (off for a baseline, which is compared and
        has its metrics, and for a pass that only compares)
    loss : the ``--loss`` name (None: the task's default); loss_options : its parameters,
        ``eps`` and ``label_reduction``
    metrics : the metrics beside the loss, with their options (None: none)
    """

    pred_names: tuple[str, ...]
    target_names: tuple[str, ...]
    weight: str | None = None
    weight_side: FileSide = "target"
    task: str = "auto"
    kind: PredictionKind | None = None
    pos_label: str | None = None
    loss: str | None = None
    loss_options: dict[str, object] = field(default_factory=dict)
    drop_missing: bool = False
    head: int = 0
    worst: int = 0
    detection: Detection | None = None
    compare: Literal["candidate", "baseline"] | None = None
    seed: int = 0
    exclude: IntArray | None = None
    row_weights: tuple[IntArray, FloatArray] | None = None
    summary: bool = True
    metrics: MetricOptions | None = None

    @property
    def checked(self) -> tuple[tuple[str, FileSide], ...]:
        """The columns checked for missing values, in the order errors are raised."""
        columns: list[tuple[str, FileSide]] = [(name, "pred") for name in self.pred_names]
        columns += [(name, "target") for name in self.target_names]
        return (*columns, *([(self.weight, self.weight_side)] if self.weight is not None else []))


@dataclass(frozen=True)
class Sample:
    """One row kept for the report, as numbers: ``row`` counts PREDICTIONS' rows from 0.

    target : the encoded target (a class index for multiclass); prediction : the row
    predicted : the predicted class (binary, multiclass) or labels (multilabel), if known
    """

    row: int
    id: str | None
    target: tuple[float, ...]
    prediction: tuple[float, ...]
    loss: float
    predicted: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Predicted:
    """The predicted class of each row (``classes`` names the codes: binary ``("0", "1")``,
    multiclass the classes), or for multilabel the 0/1 prediction of each label."""

    codes: IntArray
    classes: tuple[str, ...]
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scored:
    """The losses of one chunk's ``rows`` (those left once missing values are dropped),
    and their predicted classes when the metrics are on."""

    loss: FloatArray
    rows: Chunk
    predicted: Predicted | None = None


@dataclass(frozen=True)
class EvalResult:
    """What the report is made of."""

    summary: LossSummary
    null_loss: float
    n_dropped: int
    not_summing: Count
    head: tuple[Sample, ...]
    worst: tuple[Sample, ...]
    metrics: Metrics | None = None


@np.errstate(over="ignore", invalid="ignore")
def non_finite(values: FloatArray) -> BoolArray | None:
    """The rows that are NaN or infinite; None if there are none, which a finite sum
    proves in one cheap pass (NaN and infinity carry through it; an overflow does too,
    and costs only the full check)."""
    if np.isfinite(np.sum(values)):
        return None
    mask: BoolArray = ~np.isfinite(values)
    return mask if mask.any() else None


@np.errstate(over="ignore", invalid="ignore")
def non_finite_columns(columns: Sequence[FloatArray], matrix: FloatArray) -> list[BoolArray | None]:
    """:func:`non_finite` of each column; one finite sum over ``matrix`` (the columns side
    by side, which the losses are computed on anyway) proves at once that none has a
    missing value (a 5,000-class chunk: one sum, not 5,000)."""
    if np.isfinite(np.sum(matrix)):
        return [None] * len(columns)
    return [non_finite(column) for column in columns]
