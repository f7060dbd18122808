"""Plain renderers: JSON documents and the bare value."""

from __future__ import annotations

import json
from typing import Any

from lossctl.report.model import Report


def render_json(document: dict[str, Any]) -> str:
    """One JSON document (a report's ``to_dict()``); NaN and infinity never appear."""
    return json.dumps(document, indent=2, allow_nan=False, ensure_ascii=False)


def render_value(report: Report) -> str:
    """The (weighted) mean loss alone, with every digit needed to read it back exactly."""
    return repr(report.mean_loss)
