"""Exit codes and the exception family that carries them.

Every failure lossctl expects is a :class:`LossctlError`. Each one knows its
exit code and renders as one line: where (file, column, row), what, how many
rows are affected, and a hint that says how to fix it. The command line maps
every exception to an exit code in one place (``lossctl.cli``); anything that
is not a ``LossctlError`` is a bug and exits with :attr:`ExitCode.INTERNAL_ERROR`.

The catalogue: every error lossctl reports is one of the named classes below
(:data:`CATALOGUE`), each a subclass of one family (:class:`UsageError`,
:class:`SourceError`, :class:`ColumnError`, :class:`BadValueError`,
:class:`AlignmentError`, :class:`DetectionError`, :class:`InternalError`).
A class's docstring says what causes it and its ``fix`` what to do; the
README's "Errors" section lists them with an example message, and a test
checks that it lists every one of them.

This module imports nothing but the standard library: the command line maps
errors to exit codes before NumPy or pyarrow are loaded.

The classes live in one module per family (``base``, ``usage``, ``sources``,
``values``); this package gathers them, so ``lossctl.errors.X`` names every one.
"""

from __future__ import annotations

from lossctl.errors.base import *  # noqa: F403
from lossctl.errors.base import FAMILIES, LossctlError
from lossctl.errors.sources import *  # noqa: F403
from lossctl.errors.usage import *  # noqa: F403
from lossctl.errors.values import *  # noqa: F403


def _named(cls: type[LossctlError]) -> list[type[LossctlError]]:
    """The subclasses of ``cls`` that are not families, depth first, in definition order."""
    found = []
    for sub in cls.__subclasses__():
        if sub not in FAMILIES:
            found.append(sub)
        found += _named(sub)
    return found


#: Every named error, family by family: what the README's "Errors" table lists.
CATALOGUE: tuple[type[LossctlError], ...] = tuple(_named(LossctlError))
