"""The command line: the app, its commands, and the top-level error handler."""

from lossctl.cli._start import interrupts_stop_quietly

with interrupts_stop_quietly():
    from lossctl.cli import detect as _detect  # noqa: F401  (registers ``lossctl detect``)
    from lossctl.cli import eval as _eval  # noqa: F401  (registers ``lossctl eval``)
    from lossctl.cli import losses as _losses  # noqa: F401  (registers ``lossctl losses``)
    from lossctl.cli.app import app, main

__all__ = ["app", "main"]
