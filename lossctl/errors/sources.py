"""Source errors: an input that cannot be opened or parsed."""

from __future__ import annotations

from lossctl.errors.base import SourceError

__all__ = [
    "CorruptArrow",
    "CorruptNpy",
    "CorruptParquet",
    "EmptyFile",
    "FileNotFound",
    "HeaderOnly",
    "InvalidJson",
    "IsADirectory",
    "MisnamedFile",
    "MixedPartFormats",
    "NoCredentials",
    "NoFileMatches",
    "NoPartFiles",
    "NotJsonObject",
    "NotUtf8",
    "PartVanished",
    "RaggedRow",
    "SchedulerUnreachable",
    "StdinIsTerminal",
    "StorageUnreachable",
    "UnparsableCsv",
    "Unreadable",
    "UnsupportedData",
    "UnsupportedFormat",
    "UnsupportedNpy",
]


# --------------------------------------------------------------------------- sources


class FileNotFound(SourceError):
    """The path names no file."""

    fix = "Check the path"


class PartVanished(FileNotFound):
    """A part of a glob, a directory or a prefix was listed, then gone when it was read:
    another job deleted or replaced it during the run."""

    fix = "Rerun when no other job deletes or replaces the parts while lossctl reads them"


class IsADirectory(SourceError):
    """Python only, from `lossctl.io.sources.resolve`, which opens one file: the command
    line and `lossctl.evaluate` read a directory as parts."""

    fix = "Give the path of a file"


class NoFileMatches(SourceError):
    """A glob pattern (such as 'preds/*.parquet') that matches no file."""

    fix = "Check the pattern, and quote it so that lossctl expands it itself"


class NoPartFiles(SourceError):
    """A directory of parts that holds no file of a type lossctl reads, in any subdirectory."""

    fix = "Give a directory of parts, or a glob that matches them"


class MixedPartFormats(SourceError):
    """The parts of a glob or a directory are not all of one format (CSV, TSV, Parquet, ...)."""

    fix = "Give parts of one format, with a narrower glob"


class UnsupportedFormat(SourceError):
    """The file name's extension is not one lossctl reads."""

    fix = "Use .csv, .tsv, .parquet, .arrow, .jsonl, .npy or .csv.gz/.bz2/.zst, or rename the file"


class MisnamedFile(SourceError):
    """A file named as text (.csv, .tsv, .jsonl) whose first bytes are those of another format:
    Parquet, Arrow, .npy, a compressed stream, a spreadsheet."""

    fix = "Give the file the extension of its format, or export it as CSV"


class StdinIsTerminal(SourceError):
    """An input is - but standard input is a terminal, not a pipe or a file."""

    fix = "Pipe the CSV into lossctl, or give a file path"


class Unreadable(SourceError):
    """The operating system or the decompressor refuses the file (permissions, corrupt gzip)."""

    fix = "Check that the file is complete, readable, and compressed as its name says"


class EmptyFile(SourceError):
    """The file has no header row at all."""

    fix = "Give a file with a header row and data rows"


class HeaderOnly(SourceError):
    """The file has a header but no data rows."""

    fix = "Give at least one data row"


class RaggedRow(SourceError):
    """A CSV row has more or fewer fields than the header."""

    fix = "Fix the row, or check the delimiter and quoting"


class NotUtf8(SourceError):
    """A CSV file is not UTF-8 text (and no --encoding says what it is)."""

    fix = "Pass --encoding (latin-1, cp1252, ...) or save the file as UTF-8"


class UnparsableCsv(SourceError):
    """The CSV reader refuses the file for another reason (pyarrow's words are quoted)."""

    fix = "Check that the file is CSV, with a header row"


class CorruptParquet(SourceError):
    """A .parquet file that is truncated, corrupt, or not Parquet at all."""

    fix = "Check that the file is complete and really Parquet"


class CorruptArrow(SourceError):
    """An .arrow, .feather or .ipc file that is truncated, corrupt, or not Arrow IPC at all."""

    fix = "Check that the file is complete, and written as an Arrow IPC file or stream"


class InvalidJson(SourceError):
    """A line of a JSON Lines file that is not valid JSON (Python's words are quoted)."""

    fix = "Fix the line: one JSON object per line"


class NotJsonObject(SourceError):
    """A line of a JSON Lines file that is valid JSON but not an object (a list, a number)."""

    fix = 'Give one JSON object per line, such as {"id": 1, "p": 0.2}'


class CorruptNpy(SourceError):
    """A .npy file that is truncated, corrupt, or not NumPy's format at all."""

    fix = "Check that the file is complete and written by numpy.save"


class UnsupportedNpy(SourceError):
    """A .npy array that is not a table: 0-d, 3-D or more, or of objects or complex numbers."""

    fix = "Save a 1-D array (one column) or a 2-D array (one column per class or label)"


class UnsupportedData(SourceError):
    """(Python API) An object that is not a table: a 3-D array, complex numbers."""

    fix = "Give a path, a DataFrame, a pyarrow Table, or a 1-D or 2-D array of numbers"


class SchedulerUnreachable(SourceError):
    """--scheduler (or DASK_SCHEDULER_ADDRESS) names a Dask scheduler that does not answer."""

    fix = "Check the address and that the scheduler is running, or leave out --scheduler"


class NoCredentials(SourceError):
    """Object storage refuses the request: no credentials found, or they do not give access."""

    fix = "Set the credentials as the storage's own tools take them (environment, profile)"


class StorageUnreachable(SourceError):
    """The object storage (its endpoint, or an https:// server) does not answer."""

    fix = "Check the URL, the endpoint (AWS_ENDPOINT_URL) and the network"
