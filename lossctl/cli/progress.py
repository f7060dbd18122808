"""A Rich progress bar on stderr for long evaluations: never on stdout, never in JSON.

It is drawn only when stderr is a terminal and the input is large (or of
unknown size, as standard input is); ``--no-progress`` turns it off.
"""

from __future__ import annotations

import sys
from typing import Any

#: Inputs smaller than this get no bar: they take about a second or less.
LARGE = {"bytes": 64 << 20, "rows": 1_000_000}


class ProgressBar:
    """The engine's :class:`lossctl.passes.Progress`, drawn with Rich on stderr."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._task: Any = None

    @staticmethod
    def wanted(no_progress: bool) -> bool:
        return not no_progress and sys.stderr is not None and sys.stderr.isatty()

    def start(self, total: int | None, unit: str, description: str) -> None:
        self.stop()
        if total is not None and total < LARGE[unit]:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        amount = (
            (DownloadColumn(), TransferSpeedColumn())
            if unit == "bytes"
            else (
                MofNCompleteColumn(),
                TextColumn("rows"),
            )
        )
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            *amount,
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task(description, total=total)

    def update(self, done: int) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=done)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
