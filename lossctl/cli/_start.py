"""Ctrl-C while the command line is still loading: the usual line and status, no traceback.

Loading Typer and Rich takes a good part of a second's first tenth; a Ctrl-C in
that time would otherwise print a traceback from the middle of an import. Once
loaded, ``lossctl.cli.app`` handles Ctrl-C itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType

from lossctl.errors import ExitCode


def _stop(signum: int, frame: FrameType | None) -> None:
    sys.stderr.write("lossctl: interrupted\n")
    sys.stderr.flush()
    os._exit(ExitCode.INTERRUPTED)  # nothing is written yet, so nothing is left to clean


@contextlib.contextmanager
def interrupts_stop_quietly() -> Iterator[None]:
    """Within the block, Ctrl-C ends the process with exit 130 and one line.

    Only where Python's own Ctrl-C handler is in place (not in another thread,
    nor where an embedding program set its own).
    """
    default = signal.default_int_handler
    if threading.current_thread() is not threading.main_thread() or (
        signal.getsignal(signal.SIGINT) is not default
    ):
        yield
        return
    signal.signal(signal.SIGINT, _stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, default)
