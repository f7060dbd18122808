"""The reliability table and the expected calibration error, from mergeable bin sums.

As torchmetrics' ``BinaryCalibrationError`` / ``MulticlassCalibrationError``
(``norm="l1"``): ``bins`` equal-width bins of the confidence over [0, 1], a
confidence in ``[edge_i, edge_i+1)`` in bin ``i``, and
``ECE = sum_b (w_b / W) * |frequency_b - confidence_b|``. Three differences,
all on purpose: every sum is in float64 (torchmetrics' multiclass routine
casts to float32); a confidence of exactly 1 falls in the last bin
(torchmetrics gives it a bin of its own, one past the last); and the edges
are ``i / bins`` rounded to float64, so a confidence written as an edge
(0.6 of 5 bins, 11/15) goes in the bin above it. torchmetrics' edges are
``torch.linspace``'s, a few of them one unit in the last place off ``i / bins``
(which ones depends on the CPU's vector width), so it can put such a
confidence one bin lower. Weights enter the bins as they enter every other
metric. ``tests/fixtures/reference_calibration.json`` holds torchmetrics'
own numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lossctl.core.activations import FloatArray


class ReliabilityBins:
    """Per column (the label of a multilabel input; one column otherwise) and per bin:
    the count, the weight, and the weighted sums of confidence and of hits."""

    def __init__(self, bins: int, columns: int = 1) -> None:
        self.edges = np.arange(bins + 1) / bins  # each i / bins, correctly rounded
        self.bins = bins
        self.columns = columns
        self.sums = np.zeros((4, columns, bins))  # count, weight, w * conf, w * hit

    def update(self, conf: FloatArray, hit: FloatArray, w: FloatArray | None) -> None:
        """conf, hit : (n, columns) confidences in [0, 1] and 1.0 where right."""
        b, c = self.bins, self.columns
        index = np.minimum(np.searchsorted(self.edges, conf, side="right") - 1, b - 1)
        index = np.maximum(index, 0) + b * np.arange(c)
        flat = index.ravel()
        size = b * c
        ww = np.ones(conf.shape) if w is None else np.broadcast_to(w[:, None], conf.shape)
        self.sums[0] += np.bincount(flat, minlength=size).reshape(c, b)
        self.sums[1] += np.bincount(flat, weights=ww.ravel(), minlength=size).reshape(c, b)
        wc = (ww * conf).ravel()
        self.sums[2] += np.bincount(flat, weights=wc, minlength=size).reshape(c, b)
        wh = (ww * hit).ravel()
        self.sums[3] += np.bincount(flat, weights=wh, minlength=size).reshape(c, b)

    def merge(self, other: ReliabilityBins) -> None:
        self.sums += other.sums

    def ece(self, column: int = 0) -> float | None:
        """The expected calibration error of one column (None without weight)."""
        _, w, wc, wh = self.sums[:, column]
        total = float(w.sum())
        if total <= 0.0:
            return None
        return float(np.sum(np.abs(wh - wc))) / total

    def table(self, column: int = 0) -> list[dict[str, Any]]:
        """Every bin: its edges, count, mean confidence and observed frequency (None
        for a bin without weight)."""
        n, w, wc, wh = self.sums[:, column]
        rows = []
        for i in range(self.bins):
            held = w[i] > 0.0
            rows.append(
                {
                    "lower": float(self.edges[i]),
                    "upper": float(self.edges[i + 1]),
                    "count": int(n[i]),
                    "confidence": float(wc[i] / w[i]) if held else None,
                    "frequency": float(wh[i] / w[i]) if held else None,
                }
            )
        return rows
