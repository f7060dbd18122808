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
from collections.abc import Callable, Iterator
from types import FrameType

from lossctl.errors import ExitCode


def _stop(signum: int, frame: FrameType | None) -> None:
    sys.stderr.write("lossctl: interrupted\n")
    sys.stderr.flush()
    os._exit(ExitCode.INTERRUPTED)  # nothing is written yet, so nothing is left to clean


@contextlib.contextmanager
def handled(signum: int, handler: Callable[[int, FrameType | None], None]) -> Iterator[None]:
    """Within the block, ``handler`` takes the signal ``signum``; only in the main thread
    and where Python's own handler is in place (not where an embedding program set its
    own), which comes back afterwards."""
    current = signal.getsignal(signum)
    pythons_own = signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL
    if threading.current_thread() is not threading.main_thread() or current is not pythons_own:
        yield
        return
    signal.signal(signum, handler)
    try:
        yield
    finally:
        signal.signal(signum, current)


def interrupts_stop_quietly() -> contextlib.AbstractContextManager[None]:
    """Within the block, Ctrl-C ends the process with exit 130 and one line."""
    return handled(signal.SIGINT, _stop)
