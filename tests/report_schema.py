"""The JSON Schema of the report (schema/report.schema.json), as the tests apply it.

Every report a test turns into a dict, by ``to_dict()`` or ``--format json`` (in-process:
the command line renders ``to_dict()``), is checked against the schema by the autouse
fixture in ``tests/conftest.py``, and also against a strict copy of it in which an object
may hold no key that the schema does not describe: a new key must be added to the schema
(which allows unknown keys, so that readers of old reports keep working).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "report.schema.json"


def _strict(node: Any) -> Any:
    if isinstance(node, dict):
        node = {key: _strict(value) for key, value in node.items()}
        if "properties" in node:
            node.setdefault("additionalProperties", False)
    elif isinstance(node, list):
        node = [_strict(value) for value in node]
    return node


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(loaded)
    return loaded


@cache
def _validators(kind: str) -> tuple[Draft202012Validator, Draft202012Validator]:
    """(the schema as published, its strict copy) for a ``report`` or a ``detection_report``."""
    made = []
    for document in (schema(), _strict(copy.deepcopy(schema()))):
        if kind == "detection_report":
            document = {**document, "$ref": "#/$defs/detection_report"}
            for key in ("type", "required", "properties", "additionalProperties"):
                document.pop(key, None)
        made.append(Draft202012Validator(document))
    return made[0], made[1]


def assert_valid(doc: dict[str, Any], kind: str = "report") -> None:
    """``doc`` is a valid report (or ``detection_report``), and every key in it is described."""
    published, strict = _validators(kind)
    published.validate(doc)
    strict.validate(doc)
