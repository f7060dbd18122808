"""What the format tests compare reports with."""

from __future__ import annotations

from typing import Any

import pytest


def same(a: Any, b: Any) -> bool:
    """Equal, but for floats, which may differ in their last bits: the sums of batches of
    other sizes add in another order."""
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-13, abs=1e-300)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)
