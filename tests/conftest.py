"""Shared fixtures: the sample data, and small files written on the fly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

SAMPLE_DATA = Path(__file__).resolve().parent.parent / "sample_data"


@pytest.fixture
def sample() -> Callable[[str], str]:
    """``sample("binary_probs.csv")`` -> the path of a bundled sample file, as a string."""

    def path(name: str) -> str:
        found = SAMPLE_DATA / name
        assert found.exists(), found
        return str(found)

    return path


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], str]:
    """``write("p.csv", "a,b\\n1,2\\n")`` -> the path of a new file in a temporary directory."""

    def make(name: str, text: str) -> str:
        target = tmp_path / name
        target.write_text(text, encoding="utf-8")
        return str(target)

    return make
