"""How the merge tests compare two results: floats within REL of each other (or of a
scale, for values that can sit at 0), and the head and worst rows against an oracle."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from lossctl.core.compare import d2_score
from lossctl.core.state import EvalResult, EvalState, Setup
from lossctl.core.tasks import Detection
from lossctl.errors import LossctlError
from tests.core.state_data import Input

REL = 1e-12  # "the same": floats of one pass and of merged chunks


def outcome(call: Any) -> tuple[Any, ...]:
    """What ``call()`` returns, or the error it raises with everything it says."""
    try:
        return ("ok", call())
    except LossctlError as e:
        return (type(e).__name__, str(e), e.file, e.column, e.row, e.count)


def close(a: float, b: float, scale: float = 0.0) -> bool:
    """Within REL of the larger, or of ``scale`` (NaN matches NaN)."""
    if np.isnan(a) or np.isnan(b):
        return bool(np.isnan(a) and np.isnan(b))
    return abs(a - b) <= REL * max(abs(a), abs(b), scale)


def assert_close(a: float, b: float, what: str, scale: float = 0.0) -> None:
    assert close(a, b, scale), f"{what}: {a!r} != {b!r}"


def assert_same_result(got: EvalResult, want: EvalResult, null_scale: float) -> None:
    g, w = got.summary, want.summary
    assert g.n_samples == w.n_samples
    for name in ("sum_weights", "mean_loss", "unweighted_mean_loss"):
        assert_close(getattr(g, name), getattr(w, name), name)
    assert (g.min_loss, g.max_loss, g.n_clipped) == (w.min_loss, w.max_loss, w.n_clipped)
    assert (g.histogram_edges, g.histogram_counts) == (w.histogram_edges, w.histogram_counts)
    assert g.worst == w.worst
    for mine, theirs in ((g.groups, w.groups), (g.by_groups, w.by_groups)):
        assert [(x.name, x.n_samples) for x in mine] == [(x.name, x.n_samples) for x in theirs]
        for x, y in zip(mine, theirs, strict=True):
            assert_close(x.sum_weights, y.sum_weights, f"weight of {x.name}")
            assert_close(x.mean_loss, y.mean_loss, f"mean loss of {x.name}")
    assert_close(got.null_loss, want.null_loss, "null loss", null_scale)
    ratio = abs(w.mean_loss / want.null_loss) if want.null_loss > 0 else 0.0
    d2 = d2_score(g.mean_loss, got.null_loss), d2_score(w.mean_loss, want.null_loss)
    assert_close(*d2, "D^2", max(1.0, ratio))
    assert got.n_dropped == want.n_dropped
    assert got.not_summing == want.not_summing
    assert got.head == want.head
    assert got.worst == want.worst
    assert (got.metrics is None) == (want.metrics is None)
    if got.metrics is not None and want.metrics is not None:
        assert_same_values(got.metrics.__dict__, want.metrics.__dict__, "metrics")


def assert_same_values(got: Any, want: Any, where: str) -> None:
    """The metrics, every number within REL of the larger of the two and 1, alike."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), where
        for key in want:
            assert_same_values(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), where
        for i, (a, b) in enumerate(zip(got, want, strict=True)):
            assert_same_values(a, b, f"{where}[{i}]")
    elif isinstance(want, float) and isinstance(got, float):
        assert_close(got, want, where, 1.0)
    else:
        assert got == want, f"{where}: {got!r} != {want!r}"


def assert_oracle_samples(setup: Setup, data: Input, detection: Detection, res: EvalResult) -> None:
    """The head is the first rows kept; the worst are the largest losses, ties by earliest
    row: from the per-row losses of the whole input."""
    told = replace(setup, detection=detection, compare=None)
    scored = EvalState(told).update(data.chunk(0, data.n, np.random.default_rng(1)))
    assert scored is not None
    loss, rows = scored.loss, scored.rows.pred_rows
    rows = np.arange(loss.size) + rows if isinstance(rows, int) else rows
    worst = np.lexsort((rows, -loss))[: setup.worst]
    assert [(s.row, s.loss) for s in res.worst] == [(int(rows[i]), loss[i]) for i in worst]
    assert res.summary.worst == tuple((int(rows[i]), float(loss[i])) for i in worst)
    assert [(s.row, s.loss) for s in res.head] == list(
        zip(rows[: setup.head].tolist(), loss[: setup.head].tolist(), strict=True)
    )
    assert all(s.id == f"id{s.row}" for s in (*res.head, *res.worst))


def null_scale(data: Input) -> float:
    """The size of a null loss: 1 for the cross-entropies, E[y^2] for squared errors."""
    values = [t[np.isfinite(t)] for t in data.targets if t.dtype != object]
    return max([1.0, *(float(np.mean(np.square(v))) for v in values if v.size)])
