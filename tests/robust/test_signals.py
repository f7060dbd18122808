"""Ctrl-C, closed pipes and errors late in a run, with the real program in a child process.

Ctrl-C exits 130 with the one line ``lossctl: interrupted`` and no traceback,
wherever it lands (SIGTERM: 143 and ``lossctl: terminated``), and leaves no new
output file (nor a temporary one) and an existing one untouched. A reader that
goes away (``| head -1``) ends the run quietly, with the exit code the run would
have had. No test waits a guessed time: a child is known to be busy once it
holds its input open (``/proc/PID/fd``), or once it has opened a named pipe that
the test writes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from tests.ci.junit import read_junit
from tests.cli.helpers import assert_one_error_line
from tests.robust.helpers import (
    ENV,
    TIMEOUT,
    assert_untouched,
    has_proc,
    interrupt,
    lossctl,
    snapshot,
    wait_until_open,
)

N_BIG = 2_000_000


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,000,000 rows of binary predictions and targets, matched by id (about 1 s of work)."""
    directory = tmp_path_factory.mktemp("big")
    rng = np.random.default_rng(11)
    ids = pa.array(np.char.add("r", np.arange(N_BIG).astype(str)))
    pacsv.write_csv(pa.table({"id": ids, "p": rng.uniform(0.01, 0.99, N_BIG)}), directory / "p.csv")
    pacsv.write_csv(pa.table({"id": ids, "y": rng.integers(0, 2, N_BIG)}), directory / "t.csv")
    return directory


@pytest.fixture
def work(big: Path, tmp_path: Path) -> Path:
    """A fresh directory with links to the big inputs, for the outputs of one run."""
    for name in ("p.csv", "t.csv"):
        (tmp_path / name).symlink_to(big / name)
    return tmp_path


def _assert_interrupted(code: int, stdout: str, stderr: str) -> None:
    assert code == 130, (code, stderr)
    assert stdout == ""
    assert stderr == "lossctl: interrupted\n"


@pytest.mark.skipif(not has_proc(), reason="needs /proc to see the child's open files")
@pytest.mark.parametrize("existing", [False, True], ids=["new-output", "existing-output"])
def test_ctrl_c_during_a_large_evaluation(work: Path, existing: bool) -> None:
    if existing:
        (work / "out.parquet").write_bytes(b"not really parquet, but kept as it is")
    before = snapshot(work)
    child = lossctl(
        "eval", "p.csv", "t.csv", "-o", "out.parquet", "--junit", "j.xml", "--format", "json",
        cwd=work,
    )  # fmt: skip
    assert wait_until_open(child, work / "p.csv"), child.communicate()
    _assert_interrupted(*interrupt(child))
    assert_untouched(work, before)


@pytest.mark.skipif(not has_proc(), reason="needs /proc to see the child's open files")
def test_sigterm_during_a_large_evaluation(work: Path) -> None:
    """A job's timeout sends SIGTERM: exit 143, one line, and no file (nor a temporary
    one) left behind."""
    (work / "out.parquet").write_bytes(b"kept as it is")
    before = snapshot(work)
    child = lossctl("eval", "p.csv", "t.csv", "-o", "out.parquet", "--format", "json", cwd=work)
    assert wait_until_open(child, work / "p.csv"), child.communicate()
    child.send_signal(signal.SIGTERM)
    stdout, stderr = child.communicate(timeout=TIMEOUT)
    assert (child.returncode, stdout, stderr) == (143, b"", b"lossctl: terminated\n")
    assert_untouched(work, before)


def _hold_open_for_writing(fifo: Path) -> int:
    """Open a named pipe for writing: this returns once the child has opened it to read."""
    return os.open(fifo, os.O_WRONLY)


@pytest.mark.parametrize("where", ["targets", "stdin"])
def test_ctrl_c_while_waiting_for_data_that_does_not_come(tmp_path: Path, where: str) -> None:
    """Blocked on a named pipe (or on stdin) that stays open: Ctrl-C still ends the wait.

    The targets are a named pipe: once the test's open for writing returns, the
    child is reading them (or, with stdin, is about to read stdin, whose writer
    never closes it).
    """
    (tmp_path / "p.csv").write_text("p\n0.2\n0.9\n")
    fifo = tmp_path / "t.csv"
    os.mkfifo(fifo)
    (tmp_path / "out.csv").write_text("kept\n")
    before = snapshot(tmp_path)
    preds = "-" if where == "stdin" else "p.csv"
    child = lossctl("eval", preds, "t.csv", "-o", "out.csv", cwd=tmp_path, stdin=subprocess.PIPE)
    fd = _hold_open_for_writing(fifo)
    try:
        if where == "stdin":  # the targets arrive whole; the predictions never end
            os.write(fd, b"y\n0\n1\n")
            os.close(fd)
            fd = -1
            assert child.stdin is not None
            child.stdin.write(b"p\n0.2\n")
            child.stdin.flush()
        else:
            os.write(fd, b"y\n0\n")  # half of the targets, and the pipe stays open
        result = interrupt(child)
    finally:
        if fd >= 0:
            os.close(fd)
        if child.stdin is not None:
            child.stdin.close()
    _assert_interrupted(*result)
    assert_untouched(tmp_path, before)


def test_an_error_late_in_a_large_file_leaves_no_output(tmp_path: Path) -> None:
    n = 300_000
    rows = [f"r{i},{(i % 97) / 100 + 0.01}" for i in range(n)]
    rows[n - 2] = f"r{n - 2},high"
    (tmp_path / "p.csv").write_text("id,p\n" + "\n".join(rows) + "\n")
    (tmp_path / "t.csv").write_text("id,y\n" + "".join(f"r{i},{i % 2}\n" for i in range(n)))
    (tmp_path / "old.csv").write_text("kept\n")
    before = snapshot(tmp_path)
    child = lossctl("eval", "p.csv", "t.csv", "-o", "new.csv", "--junit", "old.csv", cwd=tmp_path)
    stdout, stderr = child.communicate(timeout=TIMEOUT)
    assert child.returncode == 2
    assert stdout == b""
    assert_one_error_line(stderr.decode(), "p.csv, column 'p', row 299999: 'high'")
    (case,) = read_junit(tmp_path / "old.csv")  # the --junit file now says why, whole
    assert [type(result).__name__ for result in case.result] == ["Error"]
    (tmp_path / "old.csv").write_text("kept\n")
    assert_untouched(tmp_path, before)  # and nothing else was written


# --------------------------------------------------------------------------- pipes


def _read_first_line_then_close(child: subprocess.Popen[bytes]) -> tuple[bytes, int, str]:
    """What ``| head -1`` does: read one line, go away; the child's exit code and stderr."""
    stdout, stderr = child.stdout, child.stderr
    assert stdout is not None and stderr is not None
    errors: list[bytes] = []
    reader = threading.Thread(target=lambda: errors.append(stderr.read()))
    reader.start()  # (stderr is read meanwhile, so that the child never waits on it)
    first = stdout.readline()
    stdout.close()
    code = child.wait(timeout=TIMEOUT)
    reader.join(timeout=TIMEOUT)
    stderr.close()
    return first, code, b"".join(errors).decode()


@pytest.mark.parametrize(
    ("output_format", "first"),
    [("csv", b"id,loss,predicted\n"), ("table", None)],
)
def test_head_1_ends_quietly(work: Path, output_format: str, first: bytes | None) -> None:
    child = lossctl("eval", "p.csv", "t.csv", "--format", output_format, "--head", "3000", cwd=work)
    line, code, stderr = _read_first_line_then_close(child)
    if first is not None:
        assert line == first
    assert stderr == ""
    assert code == 0


def test_head_1_keeps_the_exit_code_of_a_failed_gate(work: Path) -> None:
    """The report was cut short, not the evaluation: a failed gate still says 1."""
    child = lossctl("eval", "p.csv", "t.csv", "--format", "csv", "--max-loss", "0.1", cwd=work)
    line, code, stderr = _read_first_line_then_close(child)
    assert line == b"id,loss,predicted\n"
    assert code == 1
    assert stderr.startswith("lossctl: gate max_loss failed")
    assert len(stderr.splitlines()) == 1


def test_a_reader_gone_before_the_first_line(tmp_path: Path) -> None:
    """stdout closed before lossctl writes anything: still quiet, still exit 0."""
    (tmp_path / "p.csv").write_text("p\n0.2\n0.9\n")
    (tmp_path / "t.csv").write_text("y\n0\n1\n")
    commands = (
        ["eval", "p.csv", "t.csv"],
        ["detect", "p.csv", "t.csv"],
        ["losses"],
        ["--help"],  # (the help is written by Rich, which calls a closed pipe exit 1)
        ["eval", "--help"],
        ["--version"],
    )
    for command in commands:
        child = lossctl(*command, cwd=tmp_path)
        assert child.stdout is not None and child.stderr is not None
        child.stdout.close()
        stderr = child.stderr.read().decode()
        child.stderr.close()
        assert child.wait(timeout=TIMEOUT) == 0, (command, stderr)
        assert stderr == "", (command, stderr)


# Sends Ctrl-C to itself when the command line starts to import Typer: in the middle of
# loading, where a traceback would otherwise come out.
CTRL_C_WHILE_LOADING = """
import importlib.abc, os, signal, sys

class CtrlC(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "typer":
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, CtrlC())
sys.argv = ["lossctl", "losses"]
from lossctl.cli import main
raise SystemExit(main())
"""


def test_ctrl_c_while_the_command_line_loads() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CTRL_C_WHILE_LOADING],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=ENV,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (130, "", "lossctl: interrupted\n")
