"""The error catalogue: every named error, its exact message, and the README's table of them.

Each entry of ``lossctl.errors.CATALOGUE`` has one case (in ``catalogue_usage.py``
and ``catalogue_inputs.py``, gathered here as ``CASES``): a small input
that provokes it through the command line (through the Python API where the
command line cannot reach it), and the exact line it prints. The cases run in
a fresh directory, with files named as a user would, so the messages read as
they do at a shell. The README's "Errors" table must list every entry, with
the same example message, and the class's docstring and ``fix``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import lossctl
import lossctl.engine
import lossctl.io.sources
from lossctl.errors import CATALOGUE, InternalError, LossctlError
from tests.cli.helpers import assert_one_error_line, run_eval
from tests.robust.catalogue_helpers import README, Case
from tests.robust.catalogue_inputs import INPUTS
from tests.robust.catalogue_usage import USAGE_AND_SOURCES

CASES: dict[str, Case] = {**USAGE_AND_SOURCES, **INPUTS}


def printed(error: type[LossctlError]) -> str:
    """What the case of ``error`` prints: the stderr line, or for the Python API ``str()``."""
    case = CASES[error.__name__]
    if case.call is not None:
        return case.message
    prefix = "lossctl: internal error: " if error is InternalError else "lossctl: error: "
    return prefix + case.message


def _matches(line: str, expected: str) -> bool:
    """``line`` is ``expected``, where ``{...}`` in it stands for any words."""
    parts = re.split(r"\{[a-z]+\}", expected)
    return re.fullmatch(".+".join(re.escape(p) for p in parts), line) is not None


@pytest.mark.parametrize("error", CATALOGUE, ids=lambda c: c.__name__)
def test_message(
    error: type[LossctlError], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The exact line the error prints, provoked by a small input (one case per entry)."""
    case = CASES[error.__name__]
    for name, content in case.files.items():
        data = content.encode() if isinstance(content, str) else content
        (tmp_path / name).write_bytes(data)
    monkeypatch.chdir(tmp_path)
    if case.setup is not None:
        case.setup(tmp_path, monkeypatch)
    if case.call is not None:
        with pytest.raises(error) as info:
            case.call()
        assert type(info.value) is error
        assert _matches(str(info.value), case.message), str(info.value)
        return
    result = run_eval(*case.args, input=case.stdin)
    assert result.exit_code == error.exit_code, (result.exit_code, result.stderr)
    assert result.stdout == ""
    line = assert_one_error_line(result.stderr, prefix="lossctl: ")
    assert _matches(line, printed(error)), line


# --------------------------------------------------------------------------- README


def _readme_table() -> dict[str, tuple[str, str, str]]:
    """The README's "Errors" table: error name -> (example message, cause, fix)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Errors\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if line.startswith("| `") and len(cells) == 4:
            name, message, cause, fix = (c.strip("`") for c in cells)
            rows[name] = (message, cause, fix)
    return rows


def cause(error: type[LossctlError]) -> str:
    return " ".join((error.__doc__ or "").split("\n\n")[0].split())


def test_readme_lists_every_error_as_the_catalogue_says() -> None:
    """One row per catalogue entry: the example is the line its case prints; cause and fix
    are the class's docstring and ``fix``."""
    table = _readme_table()
    assert list(table) == [error.__name__ for error in CATALOGUE]
    for error in CATALOGUE:
        message, why, fix = table[error.__name__]
        assert _matches(message, printed(error)), error.__name__
        assert (why, fix) == (cause(error), error.fix), error.__name__


def test_every_error_has_a_case_and_no_case_is_stale() -> None:
    assert sorted(CASES) == sorted(error.__name__ for error in CATALOGUE)


def test_lossctl_raises_named_errors_only() -> None:
    """Every error lossctl makes is a catalogue entry, never a bare family class."""
    import ast

    from lossctl.errors import FAMILIES

    families = {c.__name__ for c in (*FAMILIES, LossctlError)}
    package = Path(lossctl.__file__).parent
    found = []
    for path in sorted(package.rglob("*.py")):
        if path.parent.name == "errors":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name in families:
                    found.append(f"{path.relative_to(package)}:{node.lineno} {name}")
    assert found == [], (
        "use (or add) a named error of lossctl/errors/, with a case in "
        f"tests/robust/catalogue_usage.py or catalogue_inputs.py and a row in the README: {found}"
    )
