"""The baseline comparison: paired bootstrap of the difference of mean losses.

Core checks use synthetic per-sample losses whose difference is known, put into
the comparison's buckets (``compare_to_baseline`` below); the command-line
checks use files whose losses are known (squared errors built exactly, binary
probabilities shifted by a known log-ratio). ``tests/core/test_bootstrap.py``
proves the bucket bootstrap against the plain bootstrap over rows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import log_loss, mean_squared_error

import lossctl
import lossctl.core.bootstrap as bootstrap
from lossctl.core.bootstrap import PairedBuckets, bucket_of
from lossctl.core.compare import BaselineComparison
from tests.ci.data import (
    BASE_MSE,
    CAND_MSE,
    EXACT_DIFFERENCE,
    Pair,
    exact_regression_pair,
    noisy_regression_pair,
    write_csv,
)
from tests.cli.helpers import assert_input_error, run_eval

# --------------------------------------------------------------------------- core


def compare_to_baseline(
    loss: np.ndarray,
    baseline_loss: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    n_bootstrap: int = 1000,
    seed: int = 0,
    rows: np.ndarray | None = None,
) -> BaselineComparison:
    """The comparison of two models' known losses of target ``rows`` (0..n-1 by default)."""
    rows = np.arange(loss.size) if rows is None else rows
    w = np.ones(loss.size) if weights is None else weights
    buckets = PairedBuckets(seed)
    buckets.add("candidate", rows, loss, w)
    buckets.add("baseline", rows, baseline_loss, w)
    return buckets.result(n_bootstrap)


def _losses(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).gamma(2.0, 0.5, n)


def _exactly_shifted(n: int, seed: int, shift: float) -> tuple[np.ndarray, np.ndarray]:
    """Candidate and baseline losses whose per-row differences average to -shift
    exactly over the sample (the noise comes in +- pairs) but vary from row to row."""
    rng = np.random.default_rng(seed)
    loss = rng.gamma(2.0, 0.5, n)
    half = rng.uniform(0.0, 0.5, n // 2)
    return loss, loss + shift + np.concatenate((half, -half))


def _width(c: BaselineComparison) -> float:
    return c.ci_high - c.ci_low


def test_a_constant_shift_gives_that_difference_and_a_point_interval() -> None:
    loss = _losses(500, 1)
    c = compare_to_baseline(loss, loss + 0.1)
    assert c.difference == pytest.approx(-0.1, abs=1e-12)
    assert c.ci_low == pytest.approx(-0.1, abs=1e-12)
    assert c.ci_high == pytest.approx(-0.1, abs=1e-12)
    assert c.baseline_mean_loss == pytest.approx(np.mean(loss) + 0.1, rel=1e-12)
    assert c.mean_loss == pytest.approx(np.mean(loss), rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_interval_contains_the_known_difference(seed: int) -> None:
    loss, base = _exactly_shifted(400, 10 + seed, 0.1)
    c = compare_to_baseline(loss, base, seed=seed)
    assert c.difference == pytest.approx(-0.1, abs=1e-12)
    assert c.ci_low < -0.1 < c.ci_high
    assert _width(c) > 0.01  # the noise is real: not a point interval


def test_the_interval_contains_the_population_difference_and_shrinks_with_rows() -> None:
    """Fresh noise with mean -0.1: the interval covers the population value for this
    seed, and ten times the rows make it about sqrt(10) ~ 3.2 times narrower."""
    widths = []
    for n in (1_000, 10_000):
        rng = np.random.default_rng(7)
        loss = rng.gamma(2.0, 0.5, n)
        base = loss + 0.1 + rng.normal(0.0, 0.5, n)
        c = compare_to_baseline(loss, base, n_bootstrap=1000, seed=0)
        assert c.ci_low < -0.1 < c.ci_high, (n, c)
        widths.append(_width(c))
    assert widths[1] < widths[0] / 2.5
    assert widths[1] > widths[0] / 4.0


def test_identical_losses_give_zero_and_a_zero_interval() -> None:
    loss = _losses(300, 3)
    for weights in (None, np.random.default_rng(4).uniform(0.0, 3.0, 300)):
        c = compare_to_baseline(loss, loss.copy(), weights)
        assert (c.difference, c.ci_low, c.ci_high) == (0.0, 0.0, 0.0)
        assert c.difference_pct == 0.0


def test_the_same_seed_gives_the_same_interval_and_another_seed_another() -> None:
    loss, base = _exactly_shifted(200, 5, 0.1)
    a = compare_to_baseline(loss, base, seed=11)
    b = compare_to_baseline(loss, base, seed=11)
    c = compare_to_baseline(loss, base, seed=12)
    assert a == b
    assert (a.ci_low, a.ci_high) != (c.ci_low, c.ci_high)
    assert a.difference == c.difference
    assert (a.seed, c.seed, a.n_bootstrap) == (11, 12, 1000)


def _bootstrap_oracle(
    loss: np.ndarray, base: np.ndarray, w: np.ndarray, n_bootstrap: int, seed: int
) -> tuple[float, float]:
    """The bucket bootstrap written out plainly: each row's bucket, the buckets' sums by
    a loop, then one resample of the non-empty buckets at a time with np.average."""
    buckets = bucket_of(np.arange(loss.size), seed)
    sums: dict[int, list[float]] = {}
    for b, wi, li, bi in zip(buckets.tolist(), w, loss, base, strict=True):
        total = sums.setdefault(b, [0.0, 0.0])
        total[0] += wi
        total[1] += wi * (li - bi)
    weight = np.array([sums[b][0] for b in sorted(sums)])
    diff = np.array([sums[b][1] for b in sorted(sums)])
    rng = np.random.default_rng(seed)
    index = rng.integers(0, weight.size, size=(n_bootstrap, weight.size))
    replicates = [np.sum(diff[i]) / np.sum(weight[i]) for i in index]
    low, high = np.percentile(replicates, [2.5, 97.5])
    return float(low), float(high)


def test_weights_give_the_weighted_difference_and_the_weighted_bootstrap() -> None:
    loss, base = _exactly_shifted(120, 8, 0.2)
    w = np.random.default_rng(9).uniform(0.1, 5.0, 120)
    c = compare_to_baseline(loss, base, w, n_bootstrap=400, seed=3)
    assert c.mean_loss == pytest.approx(np.average(loss, weights=w), rel=1e-12)
    assert c.baseline_mean_loss == pytest.approx(np.average(base, weights=w), rel=1e-12)
    expected = np.average(loss, weights=w) - np.average(base, weights=w)
    assert c.difference == pytest.approx(expected, rel=1e-12)
    low, high = _bootstrap_oracle(loss, base, w, 400, 3)
    assert (c.ci_low, c.ci_high) == pytest.approx((low, high), rel=1e-9, abs=1e-12)
    unweighted = compare_to_baseline(loss, base, n_bootstrap=400, seed=3)
    assert (unweighted.ci_low, unweighted.ci_high) != pytest.approx((low, high), rel=1e-6)


def test_rows_of_zero_weight_do_not_move_the_interval() -> None:
    """Half the rows have a huge difference and weight 0: the interval stays within the
    differences of the weighted rows."""
    rng = np.random.default_rng(2)
    n = 200
    loss = rng.uniform(1.0, 2.0, n)
    diff = np.where(np.arange(n) % 2 == 0, rng.uniform(-0.3, 0.3, n), 100.0)
    w = np.where(np.arange(n) % 2 == 0, 1.0, 0.0)
    c = compare_to_baseline(loss, loss - diff, w, seed=1)
    kept = diff[w > 0]
    assert kept.min() <= c.ci_low <= c.difference <= c.ci_high <= kept.max()
    assert c.difference == pytest.approx(kept.mean(), rel=1e-12)


def test_unit_weights_equal_no_weights() -> None:
    loss, base = _exactly_shifted(150, 6, 0.1)
    assert compare_to_baseline(loss, base, np.ones(150), seed=4) == compare_to_baseline(
        loss, base, seed=4
    )


class _RecordingRng:
    """A numpy Generator that records the shape of every ``integers`` draw."""

    def __init__(self, seed: int, shapes: list[tuple[int, ...]]) -> None:
        self._rng = _REAL_DEFAULT_RNG(seed)
        self._shapes = shapes

    def integers(self, low: int, high: int, size: tuple[int, ...]) -> np.ndarray:
        self._shapes.append(tuple(size))
        return self._rng.integers(low, high, size=size)


_REAL_DEFAULT_RNG = np.random.default_rng


@pytest.mark.parametrize("block", [1, 97, 7 * 101 + 3, 1 << 30])
def test_drawing_in_blocks_gives_the_same_result_as_at_once(
    monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    loss, base = _exactly_shifted(102, 13, 0.1)
    loss, base = loss[:101], base[:101]  # an odd row count
    w = np.random.default_rng(1).uniform(0.5, 2.0, 101)
    monkeypatch.setattr(bootstrap, "BOOTSTRAP_BLOCK", 1 << 40)
    whole = compare_to_baseline(loss, base, w, n_bootstrap=333, seed=21)
    monkeypatch.setattr(bootstrap, "BOOTSTRAP_BLOCK", block)
    assert compare_to_baseline(loss, base, w, n_bootstrap=333, seed=21) == whole


@pytest.mark.parametrize(("n", "block"), [(101, 1000), (101, 1), (5000, 20_000)])
def test_the_resampled_indices_held_at_once_stay_within_the_block(
    monkeypatch: pytest.MonkeyPatch, n: int, block: int
) -> None:
    loss = _losses(n, 0)
    shapes: list[tuple[int, ...]] = []
    monkeypatch.setattr(bootstrap, "BOOTSTRAP_BLOCK", block)
    monkeypatch.setattr(np.random, "default_rng", lambda seed: _RecordingRng(seed, shapes))
    c = compare_to_baseline(loss, loss + 0.5, n_bootstrap=250, seed=0)
    m = c.n_buckets  # the non-empty buckets are what is resampled
    assert m == np.unique(bucket_of(np.arange(n), 0)).size
    assert sum(s[0] for s in shapes) == 250  # every resample drawn once
    assert all(s[1] == m for s in shapes)
    assert max(s[0] * s[1] for s in shapes) <= max(block, m)
    assert len(shapes) > 1


def test_the_difference_in_percent_of_the_baseline() -> None:
    c = compare_to_baseline(np.array([3.0, 3.0]), np.array([2.0, 2.0]))
    assert c.difference_pct == pytest.approx(50.0, rel=1e-15)
    zero = compare_to_baseline(np.array([1.0, 0.0]), np.array([0.0, 0.0]))
    assert zero.difference_pct == np.inf
    assert compare_to_baseline(np.zeros(3), np.zeros(3)).difference_pct == 0.0


# --------------------------------------------------------------------------- CLI


def _baseline_json(*args: str) -> dict[str, Any]:
    result = run_eval(*args, "--format", "json")
    assert (result.exit_code, result.stderr) == (0, ""), result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


@pytest.fixture
def exact(tmp_path: Path) -> Pair:
    return exact_regression_pair(tmp_path / "exact")


def test_the_report_gains_a_baseline_block(exact: Pair) -> None:
    doc = _baseline_json(exact.preds, exact.targets, "--baseline", exact.base)
    b = doc["baseline"]
    assert set(b) >= {"mean_loss", "difference", "ci_low", "ci_high", "n_bootstrap", "seed"}
    assert doc["mean_loss"] == CAND_MSE == mean_squared_error(exact.y, exact.pred)
    assert b["mean_loss"] == BASE_MSE == mean_squared_error(exact.y, exact.base_pred)
    assert b["difference"] == EXACT_DIFFERENCE
    assert b["difference_pct"] == pytest.approx(100 * EXACT_DIFFERENCE / BASE_MSE, rel=1e-12)
    assert b["ci_low"] < EXACT_DIFFERENCE < b["ci_high"]
    assert (b["n_bootstrap"], b["seed"], b["n_samples"]) == (1000, 0, 40)
    assert b["predictions"] == exact.base


def test_the_cli_interval_is_the_core_interval_on_the_known_losses(exact: Pair) -> None:
    doc = _baseline_json(
        exact.preds, exact.targets, "--baseline", exact.base, "--bootstrap", "300", "--seed", "9"
    )
    c = compare_to_baseline(
        (exact.pred - exact.y) ** 2, (exact.base_pred - exact.y) ** 2, n_bootstrap=300, seed=9
    )  # target rows 0..n-1, as the files hold them
    b = doc["baseline"]
    assert (b["ci_low"], b["ci_high"]) == (c.ci_low, c.ci_high)
    assert (b["n_bootstrap"], b["seed"]) == (300, 9)


@pytest.mark.parametrize("n", [200, 2000])
def test_noisy_regression_pair_has_the_known_difference_in_its_interval(
    tmp_path: Path, n: int
) -> None:
    pair = noisy_regression_pair(tmp_path, n, seed=n, shift=0.1)
    b = _baseline_json(pair.preds, pair.targets, "--baseline", pair.base)["baseline"]
    expected = mean_squared_error(pair.y, pair.pred) - mean_squared_error(pair.y, pair.base_pred)
    assert expected == pytest.approx(0.1, abs=1e-9)  # the construction
    assert b["difference"] == pytest.approx(expected, rel=1e-9)
    assert b["ci_low"] < 0.1 < b["ci_high"]


def test_the_cli_interval_shrinks_with_ten_times_the_rows(tmp_path: Path) -> None:
    widths = []
    for n in (300, 3000):
        pair = noisy_regression_pair(tmp_path / str(n), n, seed=1, shift=0.1)
        b = _baseline_json(pair.preds, pair.targets, "--baseline", pair.base)["baseline"]
        widths.append(b["ci_high"] - b["ci_low"])
    assert widths[1] < widths[0] / 2.0


def test_binary_baseline_worse_by_a_known_log_ratio(tmp_path: Path) -> None:
    """q = p e^-0.1 for positives and 1 - q = (1 - p) e^-0.1 for negatives: every
    baseline loss is the candidate's plus 0.1, so the difference is -0.1 and the
    interval is that point."""
    rng = np.random.default_rng(0)
    n = 300
    y = (rng.uniform(size=n) < 0.4).astype(int)
    p = rng.uniform(0.05, 0.95, n)
    shrink = np.exp(-0.1)
    q = np.where(y == 1, p * shrink, 1.0 - (1.0 - p) * shrink)
    t = write_csv(tmp_path / "y.csv", {"label": y})
    c = write_csv(tmp_path / "c.csv", {"p": p})
    b = write_csv(tmp_path / "b.csv", {"p": q})
    doc = _baseline_json(c, t, "--baseline", b)
    assert doc["task"] == "binary"
    assert doc["mean_loss"] == pytest.approx(log_loss(y, p), rel=1e-12)
    base = doc["baseline"]
    assert base["mean_loss"] == pytest.approx(log_loss(y, q), rel=1e-12)
    assert base["difference"] == pytest.approx(-0.1, abs=1e-12)
    assert base["ci_low"] == pytest.approx(-0.1, abs=1e-12)
    assert base["ci_high"] == pytest.approx(-0.1, abs=1e-12)


def test_the_same_file_as_baseline_gives_zero_and_a_zero_interval(exact: Pair) -> None:
    b = _baseline_json(exact.preds, exact.targets, "--baseline", exact.preds)["baseline"]
    assert (b["difference"], b["ci_low"], b["ci_high"], b["difference_pct"]) == (0, 0, 0, 0)
    assert b["mean_loss"] == CAND_MSE


def _shuffled(path: str, out: Path, seed: int) -> str:
    frame = pd.read_csv(path)
    frame.sample(frac=1.0, random_state=seed).to_csv(out, index=False)
    return str(out)


def test_a_baseline_in_another_row_order_is_matched_by_id(exact: Pair, tmp_path: Path) -> None:
    aligned = _baseline_json(exact.preds, exact.targets, "--baseline", exact.base)["baseline"]
    moved = _shuffled(exact.base, tmp_path / "moved.csv", 3)
    shuffled = _baseline_json(exact.preds, exact.targets, "--baseline", moved)["baseline"]
    assert pd.read_csv(moved)["id"].tolist() != exact.ids
    assert {k: v for k, v in shuffled.items() if k != "predictions"} == {
        k: v for k, v in aligned.items() if k != "predictions"
    }
    same = _baseline_json(
        exact.preds, exact.targets, "--baseline", _shuffled(exact.preds, tmp_path / "s.csv", 4)
    )["baseline"]
    assert (same["difference"], same["ci_low"], same["ci_high"]) == (0, 0, 0)


def test_weights_are_respected_by_the_comparison(tmp_path: Path) -> None:
    pair = noisy_regression_pair(tmp_path, 200, seed=5, shift=0.3)
    w = np.random.default_rng(6).uniform(0.0, 4.0, 200)
    targets = write_csv(tmp_path / "tw.csv", {"id": pair.ids, "y": pair.y, "w": w})
    doc = _baseline_json(pair.preds, targets, "--baseline", pair.base, "--weight-col", "w")
    cand = np.average((pair.pred - pair.y) ** 2, weights=w)
    base = np.average((pair.base_pred - pair.y) ** 2, weights=w)
    b = doc["baseline"]
    assert doc["mean_loss"] == pytest.approx(cand, rel=1e-12)
    assert b["mean_loss"] == pytest.approx(base, rel=1e-12)
    assert b["difference"] == pytest.approx(cand - base, rel=1e-9)
    low, high = _bootstrap_oracle(
        (pair.pred - pair.y) ** 2, (pair.base_pred - pair.y) ** 2, w, 1000, 0
    )
    assert (b["ci_low"], b["ci_high"]) == pytest.approx((low, high), rel=1e-9)


def test_the_library_takes_a_baseline_too(exact: Pair) -> None:
    report = lossctl.evaluate(exact.preds, exact.targets, baseline=exact.base, seed=2)
    assert report.baseline is not None
    assert report.baseline.difference == EXACT_DIFFERENCE
    assert report.baseline.seed == 2
    assert report.to_dict()["baseline"]["difference"] == EXACT_DIFFERENCE
    frame = pd.read_csv(exact.base)
    from_frame = lossctl.evaluate(
        pd.read_csv(exact.preds), pd.read_csv(exact.targets), baseline=frame, seed=2
    )
    assert from_frame.baseline is not None
    assert (from_frame.baseline.ci_low, from_frame.baseline.ci_high) == (
        report.baseline.ci_low,
        report.baseline.ci_high,
    )


def test_the_table_shows_both_models_and_the_interval(exact: Pair) -> None:
    result = run_eval(exact.preds, exact.targets, "--baseline", exact.base, env={"COLUMNS": "250"})
    assert result.exit_code == 0
    out = result.stdout
    assert "Against the baseline" in out
    assert "preds.csv" in out and "base.csv" in out
    assert "2.5" in out and "1.625" in out and "+0.875" in out
    assert "95% CI [" in out


def test_a_baseline_of_another_task_is_an_input_error(tmp_path: Path) -> None:
    y = [0, 1, 1, 0, 1]
    t = write_csv(tmp_path / "y.csv", {"label": y})
    c = write_csv(tmp_path / "c.csv", {"p": [0.2, 0.7, 0.9, 0.4, 0.6]})
    b = write_csv(
        tmp_path / "b.csv", {"a": [0.8, 0.3, 0.1, 0.6, 0.4], "b": [0.2, 0.7, 0.9, 0.4, 0.6]}
    )
    assert_input_error(run_eval(c, t, "--baseline", b), b, "multiclass", "binary")


def test_a_baseline_with_other_rows_is_an_input_error(exact: Pair, tmp_path: Path) -> None:
    frame = pd.read_csv(exact.base).drop(columns="id")
    short = tmp_path / "short.csv"
    frame.iloc[:-1].to_csv(short, index=False)
    targets = tmp_path / "t.csv"
    pd.read_csv(exact.targets).drop(columns="id").to_csv(targets, index=False)
    preds = tmp_path / "p.csv"
    pd.read_csv(exact.preds).drop(columns="id").to_csv(preds, index=False)
    assert_input_error(run_eval(str(preds), str(targets), "--baseline", str(short)), "39", "40")


def test_a_baseline_missing_an_id_is_an_input_error(exact: Pair, tmp_path: Path) -> None:
    short = tmp_path / "short.csv"
    pd.read_csv(exact.base).iloc[:-1].to_csv(short, index=False)
    assert_input_error(run_eval(exact.preds, exact.targets, "--baseline", str(short)), "id")


def test_rows_dropped_differently_are_compared_over_the_rows_both_kept(tmp_path: Path) -> None:
    """With --drop-missing the models may drop different rows: compare the common ones."""
    t = write_csv(tmp_path / "t.csv", {"y": [1.5, 2.5, 3.5, 4.5, 5.5]})
    c = write_csv(tmp_path / "c.csv", {"y": ["1.0", "nan", "3.0", "4.0", "5.0"]})
    b = write_csv(tmp_path / "b.csv", {"y": ["1.0", "2.0", "nan", "4.0", "5.0"]})
    result = run_eval(c, t, "--baseline", b, "--drop-missing", "--format", "json")
    assert result.exit_code == 0, result.stderr
    baseline = json.loads(result.stdout)["baseline"]
    assert baseline["n_samples"] == 3  # rows 1, 4 and 5
    assert baseline["difference"] == pytest.approx(0.0, abs=1e-15)  # same values there
    # without --drop-missing, a row missing from one side is an input error
    assert_input_error(run_eval(c, t, "--baseline", b), c, "missing")
    same = write_csv(tmp_path / "same.csv", {"y": ["2.0", "nan", "2.0", "2.0", "2.0"]})
    result = run_eval(c, t, "--baseline", same, "--drop-missing", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["baseline"]["n_samples"] == 4


@pytest.mark.parametrize("value", ["0", "-5"])
def test_bootstrap_below_one_is_a_usage_error(exact: Pair, value: str) -> None:
    result = run_eval(exact.preds, exact.targets, "--baseline", exact.base, "--bootstrap", value)
    assert result.exit_code == 2
    assert "--bootstrap" in result.stderr
    with pytest.raises(lossctl.LossctlError, match="--bootstrap"):
        lossctl.evaluate(exact.preds, exact.targets, baseline=exact.base, n_bootstrap=0)


def test_the_cli_seed_is_reproducible_and_another_seed_moves_the_interval(
    tmp_path: Path,
) -> None:
    pair = noisy_regression_pair(tmp_path, 100, seed=3, shift=0.1)

    def interval(seed: str) -> tuple[float, float]:
        b = _baseline_json(pair.preds, pair.targets, "--baseline", pair.base, "--seed", seed)
        return b["baseline"]["ci_low"], b["baseline"]["ci_high"]

    assert interval("5") == interval("5")
    assert interval("5") != interval("6")
