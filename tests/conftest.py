"""Shared fixtures: the sample data, small files written on the fly, and the check of every
report against its JSON Schema."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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


@pytest.fixture(autouse=True, scope="session")
def _reports_match_their_schema() -> Iterator[None]:
    """Every report a test turns into a dict (``to_dict()``, ``--format json`` in-process)
    is checked against schema/report.schema.json: see tests/report_schema.py."""
    from lossctl.report.model import DetectionReport, Report
    from tests.report_schema import assert_valid

    def checked(to_dict: Callable[[Any], dict[str, Any]], kind: str) -> Callable[[Any], Any]:
        def to_checked_dict(self: Any) -> dict[str, Any]:
            doc = to_dict(self)
            assert_valid(json.loads(json.dumps(doc)), kind)
            return doc

        return to_checked_dict

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Report, "to_dict", checked(Report.to_dict, "report"))
        patch.setattr(
            DetectionReport, "to_dict", checked(DetectionReport.to_dict, "detection_report")
        )
        yield
