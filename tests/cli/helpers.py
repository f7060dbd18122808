"""Helpers shared by the CLI and IO tests: run the app in-process, check error output.

``CliRunner`` in this Typer version always keeps stdout and stderr apart
(``result.stdout`` / ``result.stderr``), and the app's own group turns every
exception into an exit code, so ``result.exception`` is only ever SystemExit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from lossctl.cli import app

ERROR_PREFIX = "lossctl: error: "


def run(
    *args: str, input: str | bytes | None = None, env: Mapping[str, str] | None = None
) -> Result:
    """``lossctl ARGS...`` in-process; stdin is ``input`` (a non-terminal stream)."""
    return CliRunner().invoke(app, list(args), input=input, env=env)


def run_eval(
    *args: str, input: str | bytes | None = None, env: Mapping[str, str] | None = None
) -> Result:
    """``lossctl eval ARGS...`` in-process."""
    return run("eval", *args, input=input, env=env)


def eval_json(*args: str, input: str | None = None) -> dict[str, Any]:
    """``lossctl eval ARGS... --format json``, checked to succeed, parsed."""
    result = run_eval(*args, "--format", "json", input=input)
    assert result.exit_code == 0, (result.exit_code, result.stderr)
    assert result.stderr == ""
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def eval_value(*args: str) -> float:
    """``lossctl eval ARGS... --format value``, checked to succeed, as a float."""
    result = run_eval(*args, "--format", "value")
    assert result.exit_code == 0, (result.exit_code, result.stderr)
    return float(result.stdout)


def assert_one_error_line(stderr: str, *fragments: str, prefix: str = ERROR_PREFIX) -> str:
    """stderr is exactly one line, starting with ``prefix``, holding every fragment."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one stderr line, got {len(lines)}:\n{stderr}"
    line = lines[0]
    assert stderr.endswith("\n"), repr(stderr)
    assert line.startswith(prefix), line
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"
    return line


def assert_input_error(result: Result, *fragments: str) -> str:
    """Exit 2, nothing on stdout, one ``lossctl: error:`` line naming every fragment."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == "", result.stdout
    return assert_one_error_line(result.stderr, *fragments)


def csv_text(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A small CSV document from a header and rows (values written with ``str``)."""
    lines = [",".join(header), *(",".join(str(v) for v in row) for row in rows)]
    return "\n".join(lines) + "\n"


SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"


def sample_path(name: str) -> str:
    """The path of a bundled sample file (for parametrised module-level tables)."""
    found = SAMPLE_DATA / name
    assert found.exists(), found
    return str(found)
