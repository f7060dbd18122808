"""The JSON Schema of the report (schema/report.schema.json) and the reports it describes.

Every report any test turns into a dict is checked against the schema already (see
tests/report_schema.py); here: the schema itself, what it requires, and reports of every
kind, from the command line run as a process too.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import lossctl
from lossctl.report.model import SCHEMA_VERSION
from tests.cli.helpers import eval_json, run, sample_path
from tests.report_schema import SCHEMA_PATH, assert_valid, schema

#: The keys the SPEC requires of the JSON report.
SPEC_KEYS = ["task", "activation", "prediction_kind", "loss", "n_samples", "mean_loss", "detection"]
ROOT = Path(__file__).resolve().parent.parent.parent

RUNS = {
    "binary": ["binary_logits.csv", "binary_labels.csv"],
    "binary-weighted": ["binary_single.csv", "--target-col", "churned", "--weight-col", "weight"],
    "multiclass": ["multiclass_probs.csv", "multiclass_labels.csv", "--max-loss", "9"],
    "multiclass-baseline": [
        "multiclass_probs.csv",
        "multiclass_labels.csv",
        "--baseline",
        "multiclass_baseline.csv",
        "--max-increase-pct",
        "1",
        "--min-d2",
        "0.9",
    ],
    "multilabel-by": ["multilabel_logits.csv", "multilabel_labels.csv", "--by", "action"],
    "regression": ["regression_preds.csv.gz", "regression_targets.csv"],
}


def _args(run: list[str]) -> list[str]:
    return [sample_path(a) if a.endswith((".csv", ".gz")) else a for a in run]


def test_the_schema_is_json_schema_2020_12_and_requires_the_spec_keys() -> None:
    doc = schema()
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(doc)
    assert set(SPEC_KEYS) | {"schema_version"} <= set(doc["required"])
    assert doc["properties"]["schema_version"] == {"$ref": "#/$defs/schema_version"}
    assert doc["$defs"]["schema_version"]["const"] == SCHEMA_VERSION == 1


@pytest.mark.parametrize("name", list(RUNS))
def test_every_kind_of_report_is_valid(name: str) -> None:
    result = run("eval", *_args(RUNS[name]), "--format", "json")
    assert result.exit_code in (0, 1), result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1 and type(doc["schema_version"]) is int
    assert_valid(doc)


def test_the_detection_report_is_valid() -> None:
    result = run("detect", *_args(RUNS["multilabel-by"][:2]), "--format", "json")
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1
    assert_valid(doc, "detection_report")
    assert_valid(lossctl.detect(*_args(RUNS["binary"])).to_dict(), "detection_report")


def test_the_report_of_a_separate_process_is_valid() -> None:
    args = ["eval", *_args(RUNS["multiclass-baseline"]), "--format", "json"]
    done = subprocess.run(
        [sys.executable, "-m", "lossctl", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert_valid(json.loads(done.stdout))


def _broken(change: dict[str, Any], drop: str | None = None) -> dict[str, Any]:
    doc = eval_json(*_args(RUNS["binary"]))
    doc.update(change)
    if drop is not None:
        del doc[drop]
    return doc


@pytest.mark.parametrize(
    ("change", "drop"),
    [
        ({}, "mean_loss"),
        ({}, "detection"),
        ({"schema_version": "1"}, None),
        ({"task": "ranking"}, None),
        ({"mean_loss": "0.5"}, None),
        ({"n_samples": -1}, None),
        ({"detection": {"task": "binary"}}, None),
    ],
)
def test_the_schema_refuses_a_broken_report(change: dict[str, Any], drop: str | None) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(_broken(change, drop), schema())


def test_the_schema_lets_readers_ignore_new_keys_but_the_tests_do_not() -> None:
    doc = _broken({"a_new_key": 1})
    jsonschema.validate(doc, schema())  # a reader of this schema accepts a newer report
    with pytest.raises(jsonschema.ValidationError, match="a_new_key"):
        assert_valid(doc)  # but a key the schema does not describe fails the tests


def test_the_readme_names_every_key_of_the_schema() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("The JSON report (`--format json`)") :]
    section = section[: section.index("\n## ")]
    named = set(re.findall(r"`([a-z_0-9]+)`", section))
    assert set(schema()["properties"]) <= named, set(schema()["properties"]) - named
    assert SCHEMA_PATH.relative_to(ROOT).as_posix() in section
