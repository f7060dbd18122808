"""What an input argument names: a path with a format and compression, or ``-`` for stdin;
or many parts, as a glob or a directory of them (:func:`resolve_parts`)."""

from __future__ import annotations

import glob
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote

from lossctl.errors import (
    FileNotFound,
    IsADirectory,
    MixedPartFormats,
    NoFileMatches,
    NoPartFiles,
    StdinIsTerminal,
    UnsupportedFormat,
)

Format = Literal["csv", "tsv", "parquet"]

FORMATS: dict[str, Format] = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}
COMPRESSIONS: dict[str, str] = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd"}
SUPPORTED = ".csv, .tsv, .parquet, .csv.gz, .csv.bz2, .csv.zst (or - for CSV on stdin)"
#: Characters that make an argument a glob pattern (unless it names an existing file).
GLOB_CHARS = "*?["
#: Names of files and directories that a part search skips, as Spark and pyarrow do
#: (``_SUCCESS``, ``_temporary/``, ``.part-0.parquet.crc``).
IGNORED_PREFIXES = ("_", ".")
#: The directory name that Hive and Spark give a partition whose value is null.
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
FORMAT_NAMES: dict[str, str] = {"csv": "CSV", "tsv": "TSV", "parquet": "Parquet"}


@dataclass(frozen=True)
class Source:
    """An input: ``label`` is how messages name it (the argument as given)."""

    label: str
    path: Path | None
    format: Format
    compression: str | None = None

    @property
    def is_stdin(self) -> bool:
        return self.path is None


def split_suffix(path: Path) -> tuple[Format | None, str | None]:
    """The format and compression that a file name's extensions say."""
    suffixes = [s.lower() for s in path.suffixes]
    compression = COMPRESSIONS.get(suffixes[-1]) if suffixes else None
    if compression is not None:
        suffixes = suffixes[:-1]
    fmt = FORMATS.get(suffixes[-1]) if suffixes else None
    if fmt == "parquet" and compression is not None:
        fmt = None
    return fmt, compression


def resolve(spec: str) -> Source:
    """Check that ``spec`` names a readable input of a supported type."""
    if spec == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise StdinIsTerminal(
                "no data on standard input (it is a terminal)",
                file="-",
                hint="Pipe a CSV file into lossctl, or give a file path",
            )
        return Source("-", None, "csv")
    path = Path(spec)
    fmt, compression = split_suffix(path)
    if fmt is None:
        raise UnsupportedFormat(
            "unsupported file type",
            file=spec,
            hint=f"lossctl reads {SUPPORTED}",
        )
    if not path.exists():
        raise FileNotFound("no such file", file=spec, hint="Check the path")
    if path.is_dir():
        raise IsADirectory("is a directory, not a file", file=spec, hint="Give a file path")
    return Source(spec, path, fmt, compression)


@dataclass(frozen=True)
class Parts:
    """The files that a glob or a directory names, in order.

    ``label`` is the argument as given; ``root`` the directory that the
    argument starts from (the directory itself, or a glob's leading components
    without a wildcard): the ``key=value`` directories below it are Hive
    partitions. Every source's label is its path, so messages name the part.
    """

    label: str
    root: str
    sources: tuple[Source, ...]

    def partitions(self, source: Source) -> dict[str, str | None]:
        """The Hive partition columns of a part: ``key=value`` directories between the
        root and the file, values as text (percent-decoded; Hive's null is None)."""
        relative = os.path.relpath(str(source.path), self.root)
        found: dict[str, str | None] = {}
        for segment in Path(relative).parts[:-1]:
            key, equals, value = segment.partition("=")
            if equals and key:
                found[unquote(key)] = None if value == HIVE_NULL else unquote(value)
        return found


def is_glob(spec: str) -> bool:
    """Whether ``spec`` is a glob pattern rather than a path (an existing file never is)."""
    return any(c in spec for c in GLOB_CHARS) and not (
        os.path.exists(spec) and not os.path.isdir(spec)
    )


def resolve_parts(spec: str) -> Parts | None:
    """The parts that a glob or a directory names; None for a single file (or ``-``).

    A glob (``'preds/*.parquet'``, ``'preds/**/*.csv'``: ``**`` reaches into
    subdirectories) is expanded by lossctl itself; every file it matches must be
    of a supported type, and a directory it matches is searched as below. A
    directory is searched through all its subdirectories for files of a
    supported type (others are left out). Either way, files and directories whose
    names start with ``_`` or ``.`` are skipped, as Spark and pyarrow do
    (``_SUCCESS``, ``.crc`` files), and all the parts must be of one format
    (compressions may differ).

    The parts are sorted by path, as plain strings (code point order), as pyarrow
    datasets, DuckDB and polars do: ``part-10`` comes before ``part-2``, so give
    numbered parts zero-padded names (Spark's ``part-00000`` are).
    """
    if spec == "-":
        return None
    if os.path.isdir(spec):
        root = spec
        paths = _search(spec)
        if not paths:
            raise NoPartFiles(
                "holds no .csv, .tsv or .parquet file (in any of its subdirectories)",
                file=spec,
                hint="Give a directory of parts, or a glob such as 'preds/*.parquet'",
            )
    elif is_glob(spec):
        root = _glob_root(spec)
        paths, skipped = [], 0
        for match in glob.glob(spec, recursive=True):
            if _ignored(os.path.relpath(match, root)):
                skipped += 1
            elif os.path.isdir(match):
                paths += _search(match)
            else:
                paths.append(match)
        if not paths:
            also = f" ({skipped} matches whose names start with _ or . are skipped)"
            raise NoFileMatches(
                "no file matches" + (also if skipped else ""),
                file=spec,
                hint="Check the pattern, and quote it so that lossctl expands it itself",
            )
    else:
        return None
    sources = [resolve(path) for path in sorted(set(paths))]
    formats: dict[str, Source] = {}
    for source in sources:
        formats.setdefault(source.format, source)
    if len(formats) > 1:
        first, second = list(formats.values())[:2]
        raise MixedPartFormats(
            f"the parts mix formats: {first.label} is {FORMAT_NAMES[first.format]}, "
            f"{second.label} is {FORMAT_NAMES[second.format]}",
            file=spec,
            hint="Give parts of one format, with a narrower glob such as 'preds/*.parquet'",
        )
    return Parts(spec, root, tuple(sources))


def _glob_root(spec: str) -> str:
    """The leading directories of a glob that hold no wildcard (``.`` if none)."""
    head = spec[: min(spec.index(c) for c in GLOB_CHARS if c in spec)]
    return os.path.dirname(head) or "."


def _ignored(relative: str) -> bool:
    """Whether a path (below the directory searched) has a part named ``_...`` or ``....``."""
    return any(part.startswith(IGNORED_PREFIXES) for part in Path(relative).parts)


def _search(directory: str) -> list[str]:
    """The files of a supported type below ``directory``, skipping ignored names."""
    found = []
    for parent, directories, files in os.walk(directory):
        directories[:] = [d for d in directories if not d.startswith(IGNORED_PREFIXES)]
        for name in files:
            if not name.startswith(IGNORED_PREFIXES) and split_suffix(Path(name))[0]:
                found.append(os.path.join(parent, name))
    return found
