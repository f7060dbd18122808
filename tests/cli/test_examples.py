"""Each command's ``--help`` ends with Examples that run; shell completion is on."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lossctl.cli import examples
from tests.cli.helpers import run
from tests.conftest import SAMPLE_DATA

EPILOGS = {
    (): examples.ROOT,
    ("eval",): examples.EVAL,
    ("detect",): examples.DETECT,
    ("losses",): examples.LOSSES,
}
EXAMPLES = [
    (" ".join(command) or "lossctl", what, line)
    for command, epilog in EPILOGS.items()
    for what, line in examples.commands(epilog)
]


@pytest.mark.parametrize("command", list(EPILOGS), ids=lambda c: " ".join(c) or "lossctl")
def test_the_help_ends_with_the_examples(command: tuple[str, ...]) -> None:
    result = run(*command, "--help", env={"COLUMNS": "80", "TERMINAL_WIDTH": "80"})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.rstrip().splitlines()
    start = max(i for i, line in enumerate(lines) if line.startswith("╭─ Examples "))
    assert start > max(i for i, line in enumerate(lines) if line.startswith("╭─ Options "))
    shown = [line[2:].rstrip("│ ") for line in lines[start + 1 : -1]]
    assert shown == EPILOGS[command].rstrip().splitlines()
    assert lines[-1].startswith("╰")


def test_the_examples_fit_80_columns_and_each_command_has_some() -> None:
    for epilog in EPILOGS.values():
        assert max(len(line) for line in epilog.splitlines()) <= 76  # a panel's inside
        assert len(examples.commands(epilog)) >= 2


@pytest.mark.parametrize(("command", "what", "line"), EXAMPLES, ids=lambda v: str(v)[:50])
def test_each_example_runs_with_the_exit_status_it_says(
    command: str, what: str, line: str, tmp_path: Path
) -> None:
    """Run from a directory holding a copy of sample_data/ (the outputs land there)."""
    shutil.copytree(SAMPLE_DATA, tmp_path / "sample_data")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shim = bindir / "lossctl"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m lossctl "$@"\n')
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", line],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    expected = 1 if "exit 1" in what else 0
    assert done.returncode == expected, (line, done.stderr)
    assert "error" not in done.stderr
    assert done.stdout.strip()
    for option, name in (("--output", "losses.parquet"), ("--junit", "lossctl-junit.xml")):
        if option in line:
            assert (tmp_path / name).stat().st_size > 0


def test_completion_is_offered_for_commands_options_and_choices() -> None:
    for words, cword, expected in (
        ("lossctl ev", "1", "eval"),
        ("lossctl eval --fo", "2", "--format"),
        ("lossctl eval --format ", "3", "json"),
        ("lossctl eval --task mu", "3", "multilabel"),
    ):
        env = {**os.environ, "_LOSSCTL_COMPLETE": "complete_bash", "COMP_WORDS": words}
        env["COMP_CWORD"] = cword
        done = subprocess.run(
            [sys.executable, "-m", "lossctl"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert expected in done.stdout.split(), (words, done.stdout)


def test_show_and_install_completion(tmp_path: Path) -> None:
    shown = run("--show-completion", "bash", env={"SHELL": "/bin/bash"})
    assert shown.exit_code == 0, shown.stderr
    assert "_LOSSCTL_COMPLETE=complete_bash" in shown.stdout
    installed = run("--install-completion", "bash", env={"HOME": str(tmp_path)})
    assert installed.exit_code == 0, installed.stderr
    assert "lossctl" in (tmp_path / ".bashrc").read_text()
