"""Read a JUnit file as CI readers do: valid against the JUnit XSD, then through junitparser.

``tests/ci/junit.xsd`` is windyroad's JUnit.xsd as published (github.com/windyroad/
JUnit-Schema, commit cfa434d, Apache License 2.0; line ends made Unix), the schema of
Apache Ant's JUnit reports that test-report readers follow; junitparser is what common
"publish test results" actions use to read the files.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import xmlschema
from junitparser import JUnitXml, TestSuite

XSD = Path(__file__).resolve().parent / "junit.xsd"


@cache
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD))


def assert_valid_junit(text: str) -> None:
    """``text`` is valid against the JUnit XSD, and its ``<testsuites>`` has no attribute."""
    junit_schema().validate(text)
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites" and root.attrib == {}


def read_junit(path: Path | str) -> TestSuite:
    """The one test suite of a lossctl JUnit file, checked valid first."""
    assert_valid_junit(Path(path).read_text(encoding="utf-8"))
    (suite,) = JUnitXml.fromfile(str(path))
    assert isinstance(suite, TestSuite)
    return suite
