"""Streams that can be read only once (standard input, a named pipe), copied to a file."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from lossctl.errors import Unreadable


def _interruptible(function: Callable[[], bytes]) -> bytes:
    """``function()``, which may wait for a writer that takes its time, run so that Ctrl-C
    still ends the wait.

    Python runs signal handlers in the main thread, but the system may deliver the
    signal to any thread (NumPy and pyarrow start some): a main thread blocked in
    open() or read() would never hear of it. Here a helper thread waits, and the main
    thread wakes up every 0.1 s, which is when a pending Ctrl-C is raised.
    """
    outcome: list[bytes] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(function())
        except BaseException as error:  # handed over to the main thread below
            failure.append(error)

    waiter = threading.Thread(target=run, daemon=True)
    waiter.start()
    while waiter.is_alive():
        waiter.join(0.1)
    if failure:
        raise failure[0]
    return outcome[0]


def spool(opener: Callable[[], Any], label: str) -> str:
    """Copy a stream that can be read only once (stdin, a named pipe) to a temporary file,
    a MiB at a time, and return its path; the file is removed when the process ends.

    ``opener`` opens the stream, in the thread that waits for its data.
    """
    import atexit
    import tempfile

    fd, path = tempfile.mkstemp(prefix="lossctl-", suffix=".spool")
    atexit.register(_remove, path)

    def copy() -> bytes:
        stream = opener()
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(1 << 20):
                out.write(chunk)
        if stream is not sys.stdin.buffer:
            stream.close()
        return b""

    try:
        _interruptible(copy)
    except OSError as error:
        raise Unreadable(f"cannot be read: {error}", file=label) from None
    return path


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
