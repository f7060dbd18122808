"""Plain renderers: the JSON document and the bare value."""

from __future__ import annotations

import json

from lossctl.report.model import Report


def render_json(report: Report) -> str:
    """One JSON document, keys in a stable order; NaN and infinity never appear."""
    return json.dumps(report.to_dict(), indent=2, allow_nan=False, ensure_ascii=False)


def render_value(report: Report) -> str:
    """The (weighted) mean loss alone, with every digit needed to read it back exactly."""
    return repr(report.mean_loss)
