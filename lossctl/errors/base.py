"""The exit codes, the base error and its families (standard library only)."""

from __future__ import annotations

import re
from enum import IntEnum
from typing import ClassVar

__all__ = [
    "FAMILIES",
    "AlignmentError",
    "BadValueError",
    "ColumnError",
    "DetectionError",
    "ExitCode",
    "InputError",
    "InternalError",
    "LossctlError",
    "SourceError",
    "UsageError",
    "redacted",
]


class ExitCode(IntEnum):
    """The process exit status, as documented in the README."""

    OK = 0
    GATE_FAILED = 1
    INPUT_ERROR = 2
    INTERNAL_ERROR = 3
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
    TERMINATED = 143  # SIGTERM, as a job's timeout sends it (128 + SIGTERM)


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
        What to do about it; by default, for an input error, the class's general ``fix``.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.INPUT_ERROR
    #: What to do about it, in general (the README's "fix" column).
    fix: ClassVar[str] = ""

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
        if hint is None and self.exit_code == ExitCode.INPUT_ERROR:
            hint = self.fix  # (a bug's line says what to do itself: see lossctl.cli.app)
        self.hint = hint

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(redacted(self.file))
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


# --------------------------------------------------------------------------- families


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
    fix = "Rerun with --debug and report the traceback"


FAMILIES: tuple[type[LossctlError], ...] = (
    UsageError,
    InputError,
    SourceError,
    ColumnError,
    BadValueError,
    AlignmentError,
    DetectionError,
)


#: A URL's password (``https://user:secret@host``), and the values of query parameters
#: that sign or authorise it: S3's X-Amz-Signature, X-Amz-Credential and
#: X-Amz-Security-Token, GCS's Signature, an Azure SAS's sig, any token, key or secret.
_SECRETS = re.compile(
    r"(?P<keep>://[^/:@?#]+:)[^/@?#]+(?=@)"
    r"|(?P<name>[?&][^=&#]*(?:sig|signature|credential|token|key|secret|password|auth)[^=&#]*=)"
    r"[^&#]*",
    re.IGNORECASE,
)


def redacted(label: str) -> str:
    """``label`` as lossctl prints it: a URL's password and the secrets of a signed URL's
    query string become ``***`` (the rest of the URL says which object it is)."""
    if "://" not in label:
        return label
    return _SECRETS.sub(lambda m: (m.group("keep") or m.group("name")) + "***", label)
