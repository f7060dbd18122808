"""``ece`` and the reliability table against torchmetrics' own numbers.

``tests/fixtures/reference_calibration.json`` holds inputs and what torchmetrics 1.9.0's
``BinaryCalibrationError`` and ``MulticlassCalibrationError`` (``norm="l1"``) gave for
them, with the bins behind each value (``tests/fixtures/make_calibration.py`` made it, once,
in an environment of its own: torch is not a dependency). lossctl evaluates the same
inputs through :func:`lossctl.evaluate` and must give the same bins and the same ECE,
except for the three differences that the README documents, each of which a case shows:

- a confidence of exactly 1 falls in lossctl's last bin, in a bin of its own in
  torchmetrics;
- a confidence on an edge ``i / bins`` (as Python writes it) goes in the bin above; where
  ``torch.linspace`` rounds the edge up by one unit in the last place, torchmetrics puts it
  in the bin below;
- lossctl computes in float64; ``MulticlassCalibrationError`` casts the confidences to
  float32. Its entries also hold ``_ce_compute`` on the float64 confidences (the routine
  without the cast), which lossctl must match to 1e-12.

Tolerances: 1e-12 between float64 computations (sums of at most 200 values no greater than
1, in another order: at most about 200 * 1.1e-16 apart). Against the float32 value,
``(m + bins + 5) * 2**-24`` with ``m`` the largest bin: rounding a confidence to float32 moves
it by at most 2^-24 (u); a float32 sum of ``m`` of them is off by at most ``(m - 1) u`` of the
sum, so a bin's mean confidence by at most ``(m + 1) u`` with the division; frequency (an
exact integer sum, then a division), proportion, difference and product add a ``u`` each,
weighted by the bin's proportion; the final sum of ``bins`` terms adds ``(bins - 1) u``. It holds
where no confidence lies within 2^-24 of an edge: the script keeps the random rows 1e-6
away, and the float32 case puts some rows 1e-9 below one, where the value moves by far more.
No weights in torchmetrics: weights are tested by the invariant that integer weights equal
repeated rows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import lossctl

FIXTURE = Path(__file__).parent / "fixtures" / "reference_calibration.json"
DOC: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
CASES: dict[str, dict[str, Any]] = {case["case"]: case for case in DOC["cases"]}
RESULTS = [(case, result) for case in DOC["cases"] for result in case["results"]]
ATOL = 1e-12
U32 = 2.0**-24


def _id(pair: tuple[dict[str, Any], dict[str, Any]]) -> str:
    return f"{pair[0]['case']}-{pair[1]['n_bins']}"


def _evaluate(case: dict[str, Any], bins: int, weights: Any = None) -> lossctl.Report:
    import pandas as pd

    pred = np.asarray(case["predictions"], dtype=np.float64)
    preds = pd.DataFrame(pred.reshape(len(pred), -1))
    preds.columns = [f"c{j}" for j in range(preds.shape[1])]
    targets = pd.DataFrame({"y": case["targets"]})
    options: dict[str, Any] = {"task": case["task"], "bins": bins, "chunk_rows": 37}
    if case["task"] == "multiclass":
        targets["y"] = [f"c{j}" for j in case["targets"]]
    if weights is not None:
        targets["w"] = weights
        options["weight_col"] = "w"
    return lossctl.evaluate(preds, targets, **options)


def _float64(result: dict[str, Any]) -> tuple[list[float], list[dict[str, Any]]]:
    """torchmetrics' float64 boundaries and bins (its multiclass routine, without the cast)."""
    if "bins_float64" in result:
        return result["boundaries_float64"], result["bins_float64"]
    return result["boundaries"], result["bins"]


def _sums(bins: list[dict[str, Any]]) -> np.ndarray:
    """Per bin: count, sum of confidences, sum of hits."""
    return np.array([[b["count"], b["count"] * b["confidence"], b["count"] * b["frequency"]]
                     for b in bins])  # fmt: skip


def _moved_rows(case: dict[str, Any], torch_edges: list[float], edges: list[float]) -> np.ndarray:
    """Per lossctl bin, the (count, confidence, hit) sums of the rows that torchmetrics puts
    one bin away: those between its edge and ``i / bins``. Only probabilities of a binary
    case are on edges (the script keeps every other confidence 1e-6 from them)."""
    n = len(edges) - 1
    moved = np.zeros((n + 1, 3))
    if case["task"] != "binary" or case["kind"] != "probabilities":
        return moved
    conf, hit = np.asarray(case["predictions"]), np.asarray(case["targets"], dtype=float)
    for i in range(1, n):
        low, high = sorted((torch_edges[i], edges[i]))
        rows = (conf >= low) & (conf < high)
        sums = np.array([rows.sum(), conf[rows].sum(), hit[rows].sum()])
        # torch's edge above ours: torchmetrics puts them in bin i - 1, lossctl in bin i
        sign = 1.0 if torch_edges[i] > edges[i] else -1.0
        moved[i] += sign * sums
        moved[i - 1] -= sign * sums
    return moved


def _expected(case: dict[str, Any], result: dict[str, Any], edges: list[float]) -> np.ndarray:
    """torchmetrics' bins with the documented differences undone: its bin of the
    confidences of 1 merged into the last, the rows on rounded edges moved."""
    torch_edges, bins = _float64(result)
    sums = _sums(bins)
    sums[-2] += sums[-1]
    return (sums + _moved_rows(case, torch_edges, edges))[:-1]


@pytest.mark.parametrize(("case", "result"), RESULTS, ids=[_id(pair) for pair in RESULTS])
def test_lossctl_bins_are_torchmetrics_bins(case: dict[str, Any], result: dict[str, Any]) -> None:
    n = result["n_bins"]
    report = _evaluate(case, n)
    assert report.metrics is not None and report.metrics.reliability is not None
    assert report.prediction_kind == case["kind"]  # logits found as torchmetrics finds them
    table = report.metrics.reliability
    edges = [row["lower"] for row in table] + [table[-1]["upper"]]
    assert edges == [i / n for i in range(n + 1)]
    expected = _expected(case, result, edges)
    assert [row["count"] for row in table] == expected[:, 0].astype(int).tolist()
    for row, (count, conf, hit) in zip(table, expected, strict=True):
        if count:
            assert row["confidence"] == pytest.approx(conf / count, abs=ATOL)
            assert row["frequency"] == pytest.approx(hit / count, abs=ATOL)
        else:
            assert row["confidence"] is None and row["frequency"] is None
    ece = float(np.sum(np.abs(expected[:, 2] - expected[:, 1]))) / len(case["targets"])
    assert report.metrics.values["ece"] == pytest.approx(ece, abs=ATOL)


def _differs(case: dict[str, Any], result: dict[str, Any]) -> bool:
    """Whether a documented difference applies: a confidence of 1, a rounded edge, or
    float32 moving a confidence to another bin."""
    torch_edges, bins = _float64(result)
    n = result["n_bins"]
    moved = _moved_rows(case, torch_edges, [i / n for i in range(n + 1)])
    float32 = [b["count"] for b in result["bins"]] != [b["count"] for b in bins]
    return bins[-1]["count"] > 0 or bool(np.any(moved[:, 0])) or float32


SAME = [pair for pair in RESULTS if not _differs(*pair)]


@pytest.mark.parametrize(("case", "result"), SAME, ids=[_id(pair) for pair in SAME])
def test_ece_is_torchmetrics_ece(case: dict[str, Any], result: dict[str, Any]) -> None:
    ece = _evaluate(case, result["n_bins"]).metrics.values["ece"]  # type: ignore[union-attr]
    assert ece is not None
    if case["task"] == "binary":
        assert ece == pytest.approx(result["ece"], abs=ATOL)
        return
    assert ece == pytest.approx(result["ece_float64"], abs=ATOL)
    largest = max(b["count"] for b in result["bins"])
    assert abs(ece - result["ece"]) <= (largest + result["n_bins"] + 5) * U32


def test_the_fixture_covers_every_case_and_says_what_made_it() -> None:
    assert DOC["library"] == "torchmetrics" and DOC["version"] and DOC["torch"]
    assert DOC["cpu_capability"]
    for case, result in RESULTS:
        assert result["function"].startswith("torchmetrics.classification.")
        assert len(result["bins"]) == result["n_bins"] + 1
        assert sum(b["count"] for b in result["bins"]) == len(case["targets"])
    covered = {(c["task"], c["kind"], r["n_bins"]) for c, r in SAME}
    for task in ("binary", "multiclass"):
        for kind in ("probabilities", "logits"):
            assert {(task, kind, n) for n in (1, 5, 15, 100)} <= covered


@pytest.mark.parametrize("name", ["binary-zero-one", "multiclass-one"])
def test_a_confidence_of_one_has_a_bin_of_its_own_in_torchmetrics_alone(name: str) -> None:
    """The README: a confidence of exactly 1 falls in the last bin; torchmetrics gives it a bin
    of its own. Splitting the last bin so is the whole difference, and here it shows."""
    case = CASES[name]
    pred = np.asarray(case["predictions"])
    y = np.asarray(case["targets"])
    binary = pred.ndim == 1  # the confidence: P(positive), "right": the target is 1
    conf = pred if binary else pred.max(axis=1)
    hits = (y == 1) if binary else (y == pred.argmax(axis=1))
    ones, n = conf == 1.0, len(conf)
    assert np.count_nonzero(ones) == (12 if binary else 20)
    assert np.count_nonzero(conf == 0.0) == (12 if binary else 0)
    for result in case["results"]:
        bins = _float64(result)[1]
        assert bins[-1]["count"] == np.count_nonzero(ones)
        report = _evaluate(case, result["n_bins"])
        assert report.metrics is not None and report.metrics.reliability is not None
        last = report.metrics.reliability[-1]
        assert last["count"] == bins[-2]["count"] + bins[-1]["count"]
        assert report.metrics.reliability[0]["count"] == bins[0]["count"]  # 0.0: bin 0 in both
        own = abs(np.sum(hits[ones]) - np.sum(conf[ones]))
        rest = abs(bins[-2]["count"] * (bins[-2]["frequency"] - bins[-2]["confidence"]))
        both = abs(last["count"] * (last["frequency"] - last["confidence"]))
        ece = report.metrics.values["ece"]
        assert ece is not None
        torch_ece = result.get("ece_float64", result["ece"])
        assert torch_ece - ece == pytest.approx((own + rest - both) / n, abs=ATOL)
        assert torch_ece - ece > 0.01


@pytest.mark.parametrize("n", [5, 10, 15, 100])
def test_an_edge_goes_in_the_bin_above(n: int) -> None:
    """``i / n`` as Python writes it is bin i's lower edge and in bin i; torch's linspace
    rounds a few edges up by one unit in the last place, and torchmetrics then puts the value
    in bin i - 1 (the fixture records where, and the ECE it gives)."""
    p = np.arange(n) / n
    report = lossctl.evaluate(p, np.zeros(n, dtype=int), task="binary", bins=n)
    assert report.metrics is not None and report.metrics.reliability is not None
    assert [row["count"] for row in report.metrics.reliability] == [1] * n
    (result,) = [r for r in CASES["binary-edges"]["results"] if r["n_bins"] == n]
    rounded = [i for i, e in enumerate(result["boundaries"]) if e != i / n]
    assert bool(rounded) == (n != 5)  # on this fixture's CPU: torch's 0.6 of 5 bins is exact


def test_rounded_edges_change_torchmetrics_ece() -> None:
    case = CASES["binary-edges"]
    apart = []
    for result in case["results"]:
        ece = _evaluate(case, result["n_bins"]).metrics.values["ece"]  # type: ignore[union-attr]
        assert ece is not None
        apart.append(abs(ece - result["ece"]))
    assert max(apart) > 1e-3


def test_float32_moves_confidences_across_an_edge() -> None:
    """MulticlassCalibrationError's float32 puts 0.6 - 1e-9 and 0.8 - 1e-9 on the edges 0.6
    and 0.8: a bin higher than in float64, where lossctl puts them."""
    case = CASES["multiclass-float32"]
    apart = []
    for result in case["results"]:
        counts32 = [b["count"] for b in result["bins"]]
        counts64 = [b["count"] for b in result["bins_float64"]]
        assert counts32 != counts64
        ece = _evaluate(case, result["n_bins"]).metrics.values["ece"]  # type: ignore[union-attr]
        assert ece == pytest.approx(result["ece_float64"], abs=ATOL)
        largest = max(counts32)
        apart.append(abs(ece - result["ece"]) / ((largest + result["n_bins"] + 5) * U32))
    assert max(apart) > 100  # far beyond float32's rounding


@pytest.mark.parametrize("name", ["binary-probabilities", "multiclass-logits", "binary-zero-one"])
def test_integer_weights_equal_repeated_rows(name: str) -> None:
    case = CASES[name]
    rng = np.random.default_rng(len(name))
    w = rng.integers(0, 4, len(case["targets"]))
    repeated = {
        **case,
        "predictions": np.repeat(np.asarray(case["predictions"]), w, axis=0),
        "targets": np.repeat(case["targets"], w),
    }
    for bins in (5, 15):
        a = _evaluate(case, bins, weights=w.astype(float)).metrics
        b = _evaluate(repeated, bins).metrics
        assert a is not None and b is not None and a.reliability and b.reliability
        assert a.values["ece"] == pytest.approx(b.values["ece"], abs=ATOL)
        for x, y in zip(a.reliability, b.reliability, strict=True):
            assert x["confidence"] == pytest.approx(y["confidence"], abs=ATOL)
            assert x["frequency"] == pytest.approx(y["frequency"], abs=ATOL)
