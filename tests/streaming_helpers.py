"""What the streaming tests share: tolerances, report comparison, and data in several shapes."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute
import pyarrow.csv as pacsv
import pytest
from scipy.special import expit, log_expit, logit
from scipy.special import softmax as scipy_softmax

import lossctl
import lossctl.io.align
import lossctl.io.ids
from lossctl.core.defaults import DEFAULT_CHUNK_ROWS
from tests.common_cases import CASES, Case

REL = 1e-12  # "the same numbers", summed in another order
ORACLE = 1e-9  # lossctl against SciPy / scikit-learn
CHUNKINGS = (1, 7, DEFAULT_CHUNK_ROWS)
N_GROUPS = 3
N_IDS = 300  # rows of the id scenarios

cases = pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])


# --------------------------------------------------------------------------- comparing


def assert_same(got: Any, want: Any, where: str = "report") -> None:
    """Equal field by field: floats within ``REL`` (or both None / NaN), the rest exactly."""
    if want is None or (isinstance(want, float) and math.isnan(want)):
        assert got is None or (isinstance(got, float) and math.isnan(got)), (where, got, want)
    elif isinstance(want, dict):
        assert isinstance(got, dict), (where, got)
        assert list(got) == list(want), (where, list(got), list(want))
        for key, value in want.items():
            assert_same(got[key], value, f"{where}.{key}")
    elif isinstance(want, (list, tuple)):
        assert type(got) is type(want) and len(got) == len(want), (where, got, want)
        for i, (a, b) in enumerate(zip(got, want, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(want, float) and not isinstance(got, bool):
        assert isinstance(got, (int, float)), (where, got)
        assert math.isclose(got, want, rel_tol=REL, abs_tol=0.0), (where, got, want)
    else:
        assert type(got) is type(want) and got == want, (where, got, want)


def assert_same_report(got: lossctl.Report, want: lossctl.Report) -> None:
    """The JSON report, the per-sample arrays and the rows shown are the same."""
    assert_same(got.to_dict(), want.to_dict())
    assert got.losses is not None and want.losses is not None
    np.testing.assert_allclose(got.losses, want.losses, rtol=REL, atol=0)
    if want.weights is None:
        assert got.weights is None
    else:
        np.testing.assert_array_equal(got.weights, want.weights)
    np.testing.assert_array_equal(got.target_rows, want.target_rows)
    assert_same(
        [dataclasses.asdict(r) for r in got.head], [dataclasses.asdict(r) for r in want.head]
    )
    assert_same(
        [dataclasses.asdict(r) for r in got.worst], [dataclasses.asdict(r) for r in want.worst]
    )


# --------------------------------------------------------------------------- data


def columns(values: np.ndarray, name: str) -> dict[str, np.ndarray]:
    """One column ``name`` for 1-D values; columns "0", "1", ... for 2-D ones."""
    if values.ndim == 1:
        return {name: values}
    return {str(j): values[:, j] for j in range(values.shape[1])}


def perturbed(case: Case, pred: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Another model's predictions, close to ``pred`` and of the same kind."""
    noise = rng.normal(0.0, 0.2, pred.shape)
    if case.kind != "probabilities":
        return pred + noise  # (the logit placed outside [0, 1] stays there)
    if case.link == "softmax":
        return scipy_softmax(np.log(pred) + noise, axis=1)
    return expit(logit(pred) + noise)


@dataclass(frozen=True)
class Frames:
    """One case's inputs: predictions with a grouping column ``g``; targets with weights ``w``."""

    preds: pd.DataFrame
    targets: pd.DataFrame
    baseline: pd.DataFrame

    @classmethod
    def of(cls, case: Case, seed: int) -> Frames:
        rng = np.random.default_rng(seed)
        pred, target = case.make(rng)
        n = len(pred)
        preds = pd.DataFrame(columns(pred, "p"))
        preds["g"] = np.array([f"g{i}" for i in range(N_GROUPS)])[rng.integers(0, N_GROUPS, n)]
        targets = pd.DataFrame(columns(target, "y"))
        targets["w"] = rng.uniform(0.1, 3.0, n)
        baseline = pd.DataFrame(columns(perturbed(case, pred, rng), "p"))
        return cls(preds, targets, baseline)

    def to_csv(self, directory: Path) -> tuple[str, str, str]:
        paths = tuple(str(directory / f"{name}.csv") for name in ("preds", "targets", "baseline"))
        for frame, path in zip((self.preds, self.targets, self.baseline), paths, strict=True):
            frame.to_csv(path, index=False)
        return paths  # type: ignore[return-value]


def write_csv(path: Path, columns: dict[str, Any]) -> str:
    """A CSV file as a user would have it: no quotes (pyarrow quotes all text by default)."""
    plain = pacsv.WriteOptions(quoting_style="none", quoting_header="none")
    pacsv.write_csv(pa.table(columns), str(path), write_options=plain)
    return str(path)


def bce_from_logits(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-sample binary cross-entropy of logits, by SciPy's log_expit."""
    return -(y * log_expit(z) + (1 - y) * log_expit(-z))
