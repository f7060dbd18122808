"""A kept row (:class:`~lossctl.core.state.Sample`) in words: its target and prediction
as the table and the JSON report's ``worst`` show them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lossctl.core.activations import sigmoid, softmax
from lossctl.core.chunk import Sample


@dataclass(frozen=True)
class SampleRow:
    """One sample as the table shows it: ``row`` counts data rows of PREDICTIONS from 1."""

    row: int
    id: str | None
    target: str
    prediction: str
    loss: float


def sample_row(sample: Sample, task: str, kind: str, names: Sequence[str]) -> SampleRow:
    """``names`` are the prediction columns (the classes, for multiclass)."""
    return SampleRow(
        row=sample.row,
        id=sample.id,
        target=_target(sample, task, names),
        prediction=_prediction(np.array(sample.prediction), task, kind, names, sample.predicted),
        loss=sample.loss,
    )


def _target(sample: Sample, task: str, names: Sequence[str]) -> str:
    if task == "multiclass":
        return names[int(sample.target[0])]
    return _numbers(np.array(sample.target))


def _prediction(
    values: np.ndarray,
    task: str,
    kind: str,
    names: Sequence[str],
    predicted: tuple[int, ...] | None = None,
) -> str:
    """The prediction as the table shows it: with the predicted class (binary) or the
    predicted labels (multilabel) when the metrics are on."""
    if predicted is not None and task in ("binary", "multilabel"):
        shown = _prediction(values, task, kind, names)
        if task == "binary":
            return f"{predicted[0]}: {shown}"
        labels = [name for name, bit in zip(names, predicted, strict=True) if bit]
        return f"{{{', '.join(labels)}}}: {shown}"
    if task == "multiclass":
        probs = softmax(values) if kind == "logits" else values
        top = int(np.argmax(probs))
        return f"{names[top]} ({probs[top]:.3f})"
    if task == "binary" and kind == "logits":
        return f"{values[0]:.4g} (p={sigmoid(values)[0]:.3f})"
    return _numbers(values)


def _numbers(values: np.ndarray, limit: int = 4) -> str:
    text = " ".join(f"{v:.4g}" for v in values[:limit])
    return text + (" …" if values.size > limit else "")
