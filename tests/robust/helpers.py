"""Helpers for robustness tests: what a directory holds, and lossctl in a child process.

Reusable for every option that writes a file (``--output``, ``--junit``,
``--markdown``, ...): take a :func:`snapshot` of the directory before the run
and check it with :func:`assert_untouched` after an error or an interrupt.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

#: The child must not see a debug switch the parent may have set.
ENV = {k: v for k, v in os.environ.items() if k != "LOSSCTL_DEBUG"}
TIMEOUT = 120


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` (hidden and temporary ones too): path -> content."""
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def assert_untouched(directory: Path, before: Mapping[str, bytes]) -> None:
    """No file was created (not even a temporary one), changed or removed in ``directory``."""
    after = snapshot(directory)
    assert sorted(after) == sorted(before), f"files before {sorted(before)}, after {sorted(after)}"
    changed = [name for name in before if after[name] != before[name]]
    assert changed == [], f"changed: {changed}"


def lossctl(
    *args: str, stdin: int | None = subprocess.DEVNULL, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start ``python -m lossctl ARGS...`` with stdout and stderr piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "lossctl", *args],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ENV,
        cwd=cwd,
    )


def wait_until_open(child: subprocess.Popen[bytes], path: Path) -> bool:
    """Wait until ``child`` has ``path`` open (Linux: /proc/PID/fd); False if it ended first.

    This is how a test knows that the child is busy with its input, past its
    start-up, without guessing a time.
    """
    fds = Path(f"/proc/{child.pid}/fd")
    target = path.resolve()
    while child.poll() is None:
        try:
            links = [os.readlink(fd) for fd in fds.iterdir()]
        except OSError:  # a descriptor closed while we looked, or the child has just ended
            links = []
        if str(target) in links:
            return True
        time.sleep(0.001)
    return False


def interrupt(child: subprocess.Popen[bytes]) -> tuple[int, str, str]:
    """Send SIGINT (Ctrl-C) to ``child``; its exit code, stdout and stderr."""
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=TIMEOUT)
    return child.returncode, stdout.decode(), stderr.decode()


def has_proc() -> bool:
    return Path(f"/proc/{os.getpid()}/fd").is_dir()
