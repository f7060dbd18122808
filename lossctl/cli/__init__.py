"""The command line: the app, its commands, and the top-level error handler."""

from lossctl.cli import eval as _eval  # noqa: F401  (registers ``lossctl eval``)
from lossctl.cli.app import app, main

__all__ = ["app", "main"]
