"""What one evaluation is asked to do, parsed and validated once: :class:`EvalOptions`.

The command line builds it from its options, :func:`lossctl.evaluate` from its
keyword arguments (``EvalOptions.build(**options)``); the engine reads it and
nothing else. Its column part, :class:`ColumnSpec`, is all that
:func:`lossctl.detect` needs besides the task and the prediction kind.
Importable without NumPy.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from lossctl.core.catalogue import COMPAT_EPS, check_compat, check_loss, loss_params
from lossctl.core.defaults import DEFAULT_CHUNK_ROWS, DEFAULT_EPS, TASK_CHOICES
from lossctl.errors import (
    BothStdin,
    ConflictingOptions,
    InvalidOption,
    MissingBaseline,
    UnknownEncoding,
    UnknownTask,
)

#: A column option as given: one name, names separated by commas, a list of them, or None.
Columns = str | Sequence[str] | None


def split_names(value: Columns) -> tuple[str, ...] | None:
    """``"a,b"`` or ``["a,b", "c"]`` -> ``("a", "b", "c")``; the parts keep their spaces
    (the plan strips them when no column has the name as written)."""
    if value is None:
        return None
    items = [value] if isinstance(value, str) else list(value)
    parts = tuple(part for item in items for part in str(item).split(",") if part.strip())
    return parts or None


@dataclass(frozen=True)
class ColumnSpec:
    """Which columns play which part, as the user named them (None: the SPEC's defaults).

    pred_cols, target_cols : ``--pred-col`` / ``--target-col``
    weight_col, id_col, by : ``--weight-col``, ``--id``, ``--by``
    no_id : ``--no-id``, align by row order even when both files have an id column
    """

    pred_cols: tuple[str, ...] | None = None
    target_cols: tuple[str, ...] | None = None
    weight_col: str | None = None
    id_col: str | None = None
    no_id: bool = False
    by: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "pred_cols", split_names(self.pred_cols))
        object.__setattr__(self, "target_cols", split_names(self.target_cols))
        if self.id_col is not None and self.no_id:
            raise ConflictingOptions(
                "--id and --no-id contradict each other", hint="Give one of them"
            )


#: The gates on how far a metric falls below the baseline's.
DROP_GATES = ("max_accuracy_drop", "max_auc_drop")


@dataclass(frozen=True)
class Gates:
    """The CI gates (None: not asked for). See :class:`lossctl.report.model.Gate`.

    max_accuracy_drop, max_auc_drop : the most that the accuracy (multilabel: subset
        accuracy) and the macro ROC AUC may fall below the baseline's, in the metric's
        own units (0.01: one point of accuracy), ``baseline - predictions <= X``
    """

    max_loss: float | None = None
    max_increase: float | None = None
    max_increase_pct: float | None = None
    min_d2: float | None = None
    min_accuracy: float | None = None
    min_auc: float | None = None
    max_ece: float | None = None
    max_brier: float | None = None
    max_accuracy_drop: float | None = None
    max_auc_drop: float | None = None

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            option = "--" + item.name.replace("_", "-")
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value)
            ):
                raise InvalidOption(
                    f"{option} is not a number", hint="Give a threshold such as 0.35"
                )
            if item.name in DROP_GATES and value is not None and not 0 <= value < math.inf:
                raise InvalidOption(
                    f"{option} {value:g} is not a finite number of 0 or more",
                    hint="Give the largest drop below the baseline to allow, such as 0.01",
                )

    @property
    def against_baseline(self) -> tuple[str, ...]:
        """The gates that compare with a baseline that were asked for, by name."""
        names = ("max_increase", "max_increase_pct", *DROP_GATES)
        return tuple(name for name in names if getattr(self, name) is not None)

    @property
    def on_metrics(self) -> tuple[str, ...]:
        """The gates on metrics that were asked for, by name."""
        names = ("min_accuracy", "min_auc", "max_ece", "max_brier", *DROP_GATES)
        return tuple(name for name in names if getattr(self, name) is not None)


@dataclass(frozen=True)
class EvalOptions:
    """Every option of an evaluation, with the command line's names and meaning.

    task : ``"auto"`` or a task name; from_logits : True, False, or None to detect
    pos_label : the target value that is the positive class of binary targets (text; a
        number or a bool is taken as its text: ``1`` -> ``"1"``, ``True`` -> ``"True"``)
    eps : probabilities are clipped to ``[eps, 1 - eps]``
    label_reduction : multilabel, ``"sum"`` or ``"mean"`` over labels (None: "sum", or
        "mean" under ``compat`` torch, keras or kaggle)
    compat : whose convention to follow with probabilities: ``"sklearn"`` (the default),
        ``"torch"``, ``"keras"`` or ``"kaggle"`` (see :mod:`lossctl.core.compat`)
    drop_missing : drop rows with a missing value instead of failing
    baseline : another model's predictions, compared with a paired bootstrap of
        ``n_bootstrap`` resamples from ``seed``
    head, worst : sample rows kept for the report; chunk_rows : rows per chunk
    metrics : compute the metrics beside the loss (accuracy, ROC AUC, ECE, ...):
        ``threshold`` (binary and multilabel: predicted positive when ``p > threshold``),
        ``top_k`` (multiclass top-k accuracy; None: 5, given when K > 5), ``bins`` (ECE)
    encoding : of CSV inputs; no_header : CSV inputs have no header line (their columns
        are named by position, ``"0"``, ``"1"``, ...)
    loss : the ``--loss`` name (None: the task's default); delta, beta, quantile, power,
        gamma, label_smoothing : its parameters (None: their defaults); alpha, pos_weight :
        one number, one per prediction column, or ``NAME=W,...`` (None: none); class_weight :
        ``"balanced"``, ``NAME=W,...`` or a CSV file ``class,weight`` (None: none); see
        :mod:`lossctl.core.catalogue`
    engine : ``"local"`` (this process) or ``"dask"`` (a Dask cluster: the one at
        ``scheduler``, or ``$DASK_SCHEDULER_ADDRESS``, else a ``LocalCluster`` for the run)
    """

    task: str = "auto"
    from_logits: bool | None = None
    pos_label: Any = None
    columns: ColumnSpec = field(default_factory=ColumnSpec)
    eps: float = DEFAULT_EPS
    label_reduction: str | None = None
    drop_missing: bool = False
    encoding: str = "utf-8"
    no_header: bool = False
    baseline: Any = None
    n_bootstrap: int = 1000
    seed: int = 0
    gates: Gates = field(default_factory=Gates)
    head: int = 10
    worst: int = 5
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    loss: str | None = None
    delta: float | None = None
    beta: float | None = None
    quantile: float | None = None
    power: float | None = None
    gamma: float | None = None
    alpha: Any = None
    pos_weight: Any = None
    label_smoothing: float | None = None
    class_weight: Any = None
    compat: str = "sklearn"
    engine: str = "local"
    scheduler: str | None = None
    metrics: bool = True
    threshold: float = 0.5
    top_k: int | None = None
    bins: int = 15

    def __post_init__(self) -> None:
        if self.task not in TASK_CHOICES:
            raise UnknownTask(
                f"unknown task {self.task!r}", hint=f"Use one of: {', '.join(TASK_CHOICES)}"
            )
        own_eps = self.compat != "sklearn" and self.eps == COMPAT_EPS.get(self.compat)
        if not 0.0 < self.eps < 0.5 and not own_eps:
            raise InvalidOption(
                f"--eps {self.eps} is not in (0, 0.5)", hint="The default is 2.22e-16"
            )
        if self.label_reduction not in ("sum", "mean", None):
            raise InvalidOption(
                f"unknown --label-reduction {self.label_reduction!r}", hint="Use sum or mean"
            )
        if self.chunk_rows < 1 or self.head < 0 or self.worst < 0:
            raise InvalidOption("--chunk-rows must be >= 1, --head and --worst >= 0")
        if self.n_bootstrap < 1:
            raise InvalidOption("--bootstrap must be at least 1", hint="The default is 1000")
        if self.seed < 0:
            raise InvalidOption(f"--seed {self.seed} is negative", hint="Give a seed of 0 or more")
        if self.baseline is None and self.gates.against_baseline:
            option = "--" + self.gates.against_baseline[0].replace("_", "-")
            raise MissingBaseline(
                f"{option} compares with a baseline",
                hint="Give the baseline's predictions with --baseline",
            )
        _check_encoding(self.encoding)
        object.__setattr__(self, "class_weight", _class_weights(self.class_weight))
        check_loss(self.loss, self._params(), self.gates.min_d2)
        self._apply_compat()
        self._check_metrics()
        object.__setattr__(self, "pos_label", _pos_label(self.pos_label, self.task))
        if self.engine not in ("local", "dask"):
            raise InvalidOption(f"unknown engine {self.engine!r}", hint="Use local or dask")
        if self.scheduler is not None and self.engine != "dask":
            raise ConflictingOptions(
                "--scheduler names a Dask scheduler, for --engine dask",
                hint="Give --engine dask, or leave out --scheduler",
            )

    def _check_metrics(self) -> None:
        if not 0.0 < self.threshold < 1.0:  # also NaN
            raise InvalidOption(
                f"--threshold {self.threshold} is not in the open interval (0, 1)",
                hint="The default is 0.5",
            )
        if self.top_k is not None and self.top_k < 1:
            raise InvalidOption(
                f"--top-k {self.top_k} is not a number of classes", hint="Give 1 or more"
            )
        if self.bins < 1:
            raise InvalidOption(
                f"--bins {self.bins} is not a number of bins", hint="The default is 15"
            )
        if not self.metrics and self.gates.on_metrics:
            option = "--" + self.gates.on_metrics[0].replace("_", "-")
            raise ConflictingOptions(
                f"{option} gates a metric, and --no-metrics turns the metrics off",
                hint="Leave out one of them",
            )

    @classmethod
    def build(cls, **options: Any) -> EvalOptions:
        """From the flat keyword arguments of :func:`lossctl.evaluate`: ``pred_cols=``,
        ``max_loss=`` and the others go to their part. An unknown name is a TypeError
        that suggests the closest one, as Python's own."""
        parts: dict[str, dict[str, Any]] = {"columns": {}, "gates": {}, "": {}}
        for name, value in options.items():
            part = _PART.get(name)
            if part is None:
                import difflib

                close = difflib.get_close_matches(name, list(_PART), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise TypeError(f"unknown option {name!r}{hint}")
            parts[part][name] = value
        return cls(
            columns=ColumnSpec(**parts["columns"]), gates=Gates(**parts["gates"]), **parts[""]
        )

    def _apply_compat(self) -> None:
        """``--compat``: its eps and multilabel reduction, which --eps and --label-reduction
        may not contradict."""
        check_compat(self.compat, self.loss)
        reduction = "sum" if self.compat == "sklearn" else "mean"
        given = self.label_reduction
        if self.compat != "sklearn" and given is not None and given != reduction:
            raise ConflictingOptions(
                f"--compat {self.compat} reduces multilabel losses by their {reduction}, "
                f"and --label-reduction says {self.label_reduction}",
                hint="Give one of them",
            )
        if self.label_reduction is None:
            object.__setattr__(self, "label_reduction", reduction)
        if self.compat != "sklearn":
            if self.eps not in (DEFAULT_EPS, COMPAT_EPS[self.compat]):
                raise ConflictingOptions(
                    f"--compat {self.compat} clips probabilities its own way, and --eps says "
                    f"{self.eps:g}",
                    hint="Give one of them",
                )
            object.__setattr__(self, "eps", COMPAT_EPS[self.compat])

    def _params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in LOSS_PARAMS}

    def loss_params(self, columns: tuple[str, ...]) -> dict[str, object]:
        """The parameters of ``--loss`` as used (given, or their defaults), for these
        prediction columns."""
        return loss_params(self.loss, self._params(), columns)

    def replace(self, **changes: Any) -> EvalOptions:
        return dataclasses.replace(self, **changes)

    @property
    def kind(self) -> str | None:
        """``from_logits`` as a prediction kind: "logits", "probabilities" or None."""
        if self.from_logits is None:
            return None
        return "logits" if self.from_logits else "probabilities"


#: The options that are parameters of a loss.
LOSS_PARAMS = (
    "delta",
    "beta",
    "quantile",
    "power",
    "gamma",
    "alpha",
    "pos_weight",
    "label_smoothing",
    "class_weight",
)

#: Which part of EvalOptions each flat keyword belongs to ("" for EvalOptions itself).
_PART: dict[str, str] = {
    **{f.name: "columns" for f in fields(ColumnSpec)},
    **{f.name: "gates" for f in fields(Gates)},
    **{f.name: "" for f in fields(EvalOptions) if f.name not in ("columns", "gates")},
}


def check_inputs(*inputs: object) -> None:
    """Standard input can be read once: at most one input may be ``-``."""
    if sum(isinstance(x, str) and x == "-" for x in inputs) > 1:
        raise BothStdin("only one input can be - (standard input)", hint="Give the others as files")


def _pos_label(value: object, task: str) -> str | None:
    """``--pos-label`` as text, for binary targets only."""
    if value is None:
        return None
    if isinstance(value, bool):
        value = str(value)
    elif isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        value = str(int(value))
    elif isinstance(value, float):
        value = repr(value)
    if not isinstance(value, str) or not value.strip():
        raise InvalidOption(
            f"--pos-label {value!r} is not a target value",
            hint="Give the value of the positive class as the targets hold it, e.g. yes",
        )
    if task not in ("auto", "binary"):
        raise ConflictingOptions(
            f"--pos-label names the positive class of binary targets; it does not apply to "
            f"--task {task}",
            hint="Leave --pos-label out, or use --task binary",
        )
    return value


def _numbers(text: str) -> bool:
    """Whether ``text`` is numbers separated by commas (weights in the columns' order)."""
    try:
        [float(part) for part in text.split(",")]
    except ValueError:
        return False
    return True


def _class_weights(value: Any) -> Any:
    """``--class-weight``: a CSV file with a ``class,weight`` header becomes ``NAME=W,...``;
    ``balanced``, ``NAME=W,...``, ``W1,W2,...`` and the Python forms stay as they are."""
    if not isinstance(value, str) or value == "balanced" or "=" in value or _numbers(value):
        return value
    import csv
    import os

    if not os.path.isfile(value):
        raise InvalidOption(
            f"--class-weight {value!r} is not balanced, NAME=W,... or a CSV file",
            hint="Give balanced, cat=1,dog=2, or a file with a class,weight header",
        )
    with open(value, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if not rows or [c.strip() for c in rows[0]] != ["class", "weight"]:
        raise InvalidOption(
            f"--class-weight file {value!r} does not start with the header class,weight",
            hint="Write one class,weight line per class after that header",
        )
    return ",".join(f"{row[0]}={row[1]}" for row in rows[1:] if row)


def _check_encoding(encoding: str) -> None:
    import codecs

    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UnknownEncoding(
            f"unknown --encoding {encoding!r}", hint="Try utf-8, latin-1 or cp1252"
        ) from None
