"""Exit codes and the exception family that carries them.

Every failure lossctl expects is a :class:`LossctlError`. Each one knows its
exit code and renders as one line: where (file, column, row), what, how many
rows are affected, and a hint that says how to fix it. The command line maps
every exception to an exit code in one place (``lossctl.cli``); anything that
is not a ``LossctlError`` is a bug and exits with :attr:`ExitCode.INTERNAL_ERROR`.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The process exit status, as documented in the README."""

    OK = 0
    GATE_FAILED = 1
    INPUT_ERROR = 2
    INTERNAL_ERROR = 3
    INTERRUPTED = 130


class LossctlError(Exception):
    """Base class of every error lossctl reports without a traceback.

    Parameters
    ----------
    message : str
        What is wrong, without the location (it is added from the fields).
    file, column : str, optional
        Where the problem is. ``file`` is the path as the user gave it.
    row : int, optional
        The first offending data row, counting from 1 (the header is not counted).
    count : int, optional
        How many rows are affected, when more than one may be.
    hint : str, optional
        What to do about it.
    """

    exit_code: ExitCode = ExitCode.INPUT_ERROR

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        column: str | None = None,
        row: int | None = None,
        count: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.column = column
        self.row = row
        self.count = count
        self.hint = hint

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.column is not None:
            where.append(f"column {self.column!r}")
        if self.row is not None:
            where.append(f"row {self.row}")
        text = ", ".join(where) + ": " + self.message if where else self.message
        if self.count is not None and self.count > 1:
            text += f" ({self.count} rows affected)"
        if self.hint:
            text += f". {self.hint}"
        return text


class UsageError(LossctlError):
    """Options that cannot be used together, or an option value that makes no sense."""


class InputError(LossctlError):
    """A file, or a value in it, that lossctl cannot evaluate."""


class SourceError(InputError):
    """The input cannot be opened or parsed: missing, a directory, wrong type, corrupt."""


class ColumnError(InputError):
    """A column that is named but absent, duplicated, or of the wrong kind."""


class BadValueError(InputError):
    """A value that cannot be used: non-numeric, missing, out of range, unknown class."""


class AlignmentError(InputError):
    """The two files cannot be matched row for row: lengths or ids disagree."""


class DetectionError(InputError):
    """The task or prediction kind asked for contradicts the data."""


class InternalError(LossctlError):
    """A state that should be impossible: a bug in lossctl."""

    exit_code = ExitCode.INTERNAL_ERROR
