"""``--compat torch`` and ``--compat keras`` against the libraries' own numbers.

``tests/fixtures/reference_losses.json`` holds per-sample losses that PyTorch and
Keras computed (``tests/fixtures/make_reference.py`` made it, once, in an environment
of its own: neither library is a dependency). Each entry names the library, its
version and the function; lossctl evaluates the same inputs under the library's
``--compat`` and must give the same per-sample losses.

Tolerance: ``rtol = 1e-9`` with ``atol = 1e-12`` where the library computed in float64;
``rtol = 2.5e-7`` where an entry's ``precision`` says float32: Keras' ``ops.mean`` computes
in float32 whatever the dtype (``result_type(x.dtype, "float32")``), so every Keras loss that
averages over the last axis (all but ``categorical_crossentropy``) is rounded to float32
even with ``floatx`` float64 and ``jax_enable_x64``. In float64 both sides compute, but
not in the same order (PyTorch's ``cross_entropy`` of a confident row gives
``-0.0`` or ``-1e-17`` where lossctl gives ``0.0``; Keras' stable binary
cross-entropy from logits is ``relu(z) - z y + log1p(exp(-|z|))``, lossctl's
``softplus(+-z)``). In float32, which is what the libraries use by default, the
numbers differ more than this: ``1 - 1e-12`` is 1.0 in float32, so a probability
a hair below 1 meets PyTorch's clamp (loss 100) or Keras' clip at ``1 - 1e-7``
(loss 16.118) instead of its float64 loss of 27.631; compare with a model's
float32 numbers at about ``rtol = 1e-6`` and away from the edges.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import lossctl
from lossctl.core.catalogue import DEFAULT_LOSS

FIXTURE = Path(__file__).parent / "fixtures" / "reference_losses.json"
ENTRIES: list[dict[str, Any]] = json.loads(FIXTURE.read_text(encoding="utf-8"))["entries"]
RTOL, ATOL = 1e-9, 1e-12
FLOAT32_RTOL = 2.5e-7  # float32's epsilon is 1.19e-7: a rounding or two


def _rtol(entry: dict[str, Any]) -> float:
    return RTOL if entry["precision"] == "float64" else FLOAT32_RTOL


def _id(entry: dict[str, Any]) -> str:
    params = ",".join(f"{k}={v}" for k, v in entry["params"].items())
    return f"{entry['library']}-{entry['loss']}-{entry['task']}-{entry['kind']}-{params}"


def _evaluate(entry: dict[str, Any]) -> lossctl.Report:
    options: dict[str, Any] = {"task": entry["task"], "compat": entry["compat"]}
    if entry["loss"] != DEFAULT_LOSS[entry["task"]]:
        options["loss"] = entry["loss"]
    if entry["kind"] in ("probabilities", "logits"):
        options["from_logits"] = entry["kind"] == "logits"
    for name, value in entry["params"].items():
        options[name] = ",".join(map(str, value)) if isinstance(value, list) else value
    pred = np.asarray(entry["predictions"], dtype=np.float64)
    target = np.asarray(entry["targets"])
    return lossctl.evaluate(pred, target, **options)


def test_every_entry_says_which_library_version_made_it() -> None:
    assert {e["library"] for e in ENTRIES} == {"torch", "keras"}
    assert {e["precision"] for e in ENTRIES if e["library"] == "torch"} == {"float64"}
    for entry in ENTRIES:
        assert entry["version"] and entry["function"] and entry["precision"]
        assert entry["compat"] == entry["library"]
        assert len(entry["per_sample"]) == len(entry["predictions"])


@pytest.mark.parametrize("entry", ENTRIES, ids=_id)
def test_lossctl_gives_the_librarys_numbers(entry: dict[str, Any]) -> None:
    report = _evaluate(entry)
    assert report.compat == entry["compat"]
    assert report.losses is not None
    rtol = _rtol(entry)
    np.testing.assert_allclose(report.losses, entry["per_sample"], rtol=rtol, atol=ATOL)
    assert np.all(np.isfinite(report.losses))
    assert report.mean_loss == pytest.approx(np.mean(entry["per_sample"]), rel=rtol, abs=ATOL)


def test_the_default_convention_differs_where_the_libraries_do() -> None:
    """The fixture's edges are where the conventions part: sklearn's clip at 2.2e-16 gives
    36.04 for a probability of exactly 0 or 1, PyTorch's clamp 100, Keras' clip 16.12."""
    (entry,) = [
        e
        for e in ENTRIES
        if e["library"] == "torch" and e["task"] == "binary" and e["kind"] == "probabilities"
    ]
    torch = _evaluate(entry)
    sklearn = _evaluate({**entry, "compat": "sklearn"})
    keras = _evaluate({**entry, "compat": "keras"})
    assert torch.losses is not None and sklearn.losses is not None and keras.losses is not None
    assert torch.losses[0] == 100.0
    assert sklearn.losses[0] == pytest.approx(36.04365338911715)
    assert keras.losses[0] == pytest.approx(-np.log(1e-7))
