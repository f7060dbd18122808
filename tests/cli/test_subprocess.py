"""A few runs of the real program in a child process: exit status, stdout and stderr apart.

These cost about half a second each, so there are only a handful; everything
else goes through ``CliRunner`` in-process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import lossctl
from tests.cli.helpers import assert_one_error_line, sample_path

CONSOLE_SCRIPT = Path(sys.executable).with_name("lossctl")
TIMEOUT = 120
# The child must not see a debug switch the parent may have set.
ENV = {k: v for k, v in os.environ.items() if k != "LOSSCTL_DEBUG"}


def _module(*args: str, input: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m lossctl ARGS...``; stdin is ``input`` or nothing (never a terminal)."""
    return subprocess.run(
        [sys.executable, "-m", "lossctl", *args],
        input=input.decode() if input is not None else None,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=ENV,
        check=False,
    )


BINARY = [sample_path("binary_probs.csv"), sample_path("binary_labels.csv")]


def test_success_through_the_console_script() -> None:
    assert CONSOLE_SCRIPT.exists(), CONSOLE_SCRIPT
    done = subprocess.run(
        [str(CONSOLE_SCRIPT), "eval", *BINARY, "--format", "json"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=ENV,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    doc = json.loads(done.stdout)
    assert doc["task"] == "binary"
    assert doc["mean_loss"] == lossctl.evaluate(*BINARY).mean_loss


def test_gate_failure_exit_1_report_on_stdout_one_line_on_stderr() -> None:
    done = _module("eval", *BINARY, "--format", "value", "--max-loss", "0.1")
    assert done.returncode == 1
    mean = lossctl.evaluate(*BINARY).mean_loss
    assert done.stdout == repr(mean) + "\n"
    line = assert_one_error_line(done.stderr, "max_loss", "0.1", prefix="lossctl: ")
    assert "error" not in line.split(":", 2)[1]  # a failed gate is not an input error


def test_input_error_exit_2_nothing_on_stdout_one_line_on_stderr(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.csv")
    done = _module("eval", missing, BINARY[1], "--format", "json")
    assert done.returncode == 2
    assert done.stdout == ""
    assert_one_error_line(done.stderr, missing)


def test_version_through_python_m() -> None:
    done = _module("--version")
    assert done.returncode == 0
    assert done.stdout == f"lossctl {lossctl.__version__}\n"
    assert done.stderr == ""


def test_predictions_piped_on_stdin() -> None:
    data = Path(sample_path("binary_logits.csv")).read_bytes()
    done = _module("eval", "-", BINARY[1], "--format", "value", input=data)
    assert done.returncode == 0, done.stderr
    expected = lossctl.evaluate(sample_path("binary_logits.csv"), BINARY[1]).mean_loss
    assert float(done.stdout) == expected


def test_stdin_on_a_terminal_is_an_error_not_a_hang() -> None:
    import pty

    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "lossctl", "eval", "-", BINARY[1]],
            stdin=follower,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            env=ENV,
            check=False,
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert done.returncode == 2
    assert done.stdout == ""
    assert_one_error_line(done.stderr, "-", "terminal")


@pytest.fixture(scope="module")
def big_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """200,000 rows: the per-sample CSV (several MB) is far larger than a pipe's buffer."""
    n = 200_000
    rng = np.random.default_rng(7)
    ids = pa.array([f"row{i:07d}" for i in range(n)])
    directory = tmp_path_factory.mktemp("big")
    preds, targets = directory / "preds.csv", directory / "targets.csv"
    pacsv.write_csv(pa.table({"id": ids, "p": rng.uniform(0.01, 0.99, n)}), preds)
    pacsv.write_csv(pa.table({"id": ids, "y": rng.integers(0, 2, n)}), targets)
    return str(preds), str(targets)


def test_broken_pipe_ends_quietly(big_pair: tuple[str, str]) -> None:
    """``lossctl eval ... --format csv | head -1``: no traceback, no BrokenPipe noise."""
    child = subprocess.Popen(
        [sys.executable, "-m", "lossctl", "eval", *big_pair, "--format", "csv"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ENV,
    )
    assert child.stdout is not None
    assert child.stderr is not None
    try:
        first = child.stdout.readline()
        child.stdout.close()  # the reader goes away, as `head -1` does
        stderr = child.stderr.read().decode()
        code = child.wait(timeout=TIMEOUT)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stderr.close()
    assert first == b"id,loss,predicted\n"
    assert "Traceback" not in stderr, stderr
    assert "BrokenPipe" not in stderr, stderr
    assert "Exception ignored" not in stderr, stderr
    assert stderr == ""
    assert code in (0, -signal.SIGPIPE, 128 + signal.SIGPIPE), code
