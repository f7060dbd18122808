"""The README shows real commands with their real output: run them and compare.

Every ``$ lossctl ...`` command in a ``console`` block is run from the
repository root (through bash, so pipes and redirections work) and its output
must equal the lines shown under it. A block whose output is abridged with a
line ``...`` is checked up to that line and then for its last lines.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
WIDTH = "90"


def _examples() -> list[tuple[str, list[str]]]:
    text = README.read_text(encoding="utf-8")
    examples: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.DOTALL):
        command: str | None = None
        output: list[str] = []
        pending = ""
        for line in block.splitlines():
            if pending or line.startswith("$ "):
                part = line[2:] if not pending else line.strip()
                if part.endswith("\\"):
                    pending += part[:-1] + " "
                    continue
                if command is not None:
                    examples.append((command, output))
                command, output, pending = pending + part, [], ""
            elif command is not None:
                output.append(line.rstrip())
        if command is not None:
            examples.append((command, output))
    return [(c, o) for c, o in examples if c.startswith(("lossctl", "cat "))]


@pytest.mark.parametrize(("command", "expected"), _examples(), ids=lambda v: str(v)[:60])
def test_readme_example(command: str, expected: list[str], tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shim = bindir / "lossctl"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m lossctl "$@"\n')
    shim.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
        "COLUMNS": WIDTH,
        "NO_COLOR": "1",
        "TERM": "dumb",
    }
    env.pop("FORCE_COLOR", None)
    done = subprocess.run(
        ["bash", "-c", command.replace("> report.json", "> /dev/null")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    shown = [line.rstrip() for line in (done.stdout + done.stderr).rstrip().splitlines()]
    expected = "\n".join(expected).rstrip().splitlines()
    if "..." in expected:
        cut = expected.index("...")
        head, tail = expected[:cut], expected[cut + 1 :]
        assert shown[: len(head)] == head
        assert shown[len(shown) - len(tail) :] == tail
    else:
        assert shown == expected
