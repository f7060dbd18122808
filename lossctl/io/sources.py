"""What an input argument names: a path with a format and compression, or ``-`` for stdin;
or many parts, as a glob or a directory of them (:func:`resolve_parts`)."""

from __future__ import annotations

import fnmatch
import glob
import os
import sys
from collections.abc import Callable, Sequence
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
    redacted,
)

Format = Literal["csv", "tsv", "parquet", "arrow", "jsonl", "npy"]

#: The input formats, by extension. Outputs have a table of their own (:data:`OUTPUT_FORMATS`):
#: a file type that lossctl reads is not one it writes, nor the other way round.
FORMATS: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".arrow": "arrow",
    ".feather": "arrow",
    ".ipc": "arrow",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".npy": "npy",
}
#: The output formats (of --output), by extension.
OUTPUT_FORMATS: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
COMPRESSIONS: dict[str, str] = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd"}
#: The formats whose files may be compressed (the extension says how).
COMPRESSIBLE = ("csv", "tsv")
SUPPORTED = (
    ".csv, .tsv, .parquet, .arrow, .feather, .ipc, .jsonl, .ndjson, .npy, .csv.gz, .csv.bz2, "
    ".csv.zst (or - for CSV on stdin)"
)
#: Characters that make an argument a glob pattern (unless it names an existing file).
GLOB_CHARS = "*?["
#: Names of files and directories that a part search skips, as Spark and pyarrow do
#: (``_SUCCESS``, ``_temporary/``, ``.part-0.parquet.crc``).
IGNORED_PREFIXES = ("_", ".")
#: The directory name that Hive and Spark give a partition whose value is null.
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
FORMAT_NAMES: dict[str, str] = {
    "csv": "CSV",
    "tsv": "TSV",
    "parquet": "Parquet",
    "arrow": "Arrow IPC",
    "jsonl": "JSON Lines",
    "npy": "NumPy .npy",
}


@dataclass(frozen=True)
class Source:
    """An input: ``label`` is how messages name it (the argument as given; a signed URL with
    its secrets as ``***``, see :func:`lossctl.errors.redacted`)."""

    label: str
    path: Path | None
    format: Format
    compression: str | None = None
    url: str | None = None  # in object storage (see lossctl.io.remote); path is then its key

    @property
    def is_stdin(self) -> bool:
        return self.path is None


def split_suffix(
    path: Path, formats: dict[str, Format] = FORMATS
) -> tuple[Format | None, str | None]:
    """The input format and compression that a file name's extensions say (None: not
    one lossctl reads); ``formats`` is the table to look in (:data:`OUTPUT_FORMATS`
    for an output: see :func:`output_suffix`)."""
    suffixes = [s.lower() for s in path.suffixes]
    compression = COMPRESSIONS.get(suffixes[-1]) if suffixes else None
    if compression is not None:
        suffixes = suffixes[:-1]
    fmt = formats.get(suffixes[-1]) if suffixes else None
    if fmt not in COMPRESSIBLE and compression is not None:
        fmt = None
    return fmt, compression


def output_suffix(path: Path) -> tuple[Format | None, str | None]:
    """The output format and compression that a file name's extensions say (None: not one
    lossctl writes).

    >>> output_suffix(Path("losses.csv.gz")), output_suffix(Path("losses.arrow"))
    (('csv', 'gzip'), (None, None))
    """
    return split_suffix(path, OUTPUT_FORMATS)


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
    path = Path(spec.partition("://")[2].partition("?")[0] if is_url(spec) else spec)
    fmt, compression = split_suffix(path)
    if fmt is None:
        raise UnsupportedFormat(
            "unsupported file type",
            file=spec,
            hint=f"lossctl reads {SUPPORTED}",
        )
    if is_url(spec):
        from lossctl.io.remote import exists_file

        exists_file(spec)
        return Source(redacted(spec), path, fmt, compression, url=spec)
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
    if is_url(spec):
        return _remote_parts(spec)
    if os.path.isdir(spec):
        root = spec
        paths = _search(spec)
        if not paths:
            raise NoPartFiles(
                "holds no file of a type lossctl reads (in any of its subdirectories)",
                file=spec,
                hint="Give a directory of parts, or a glob such as 'preds/*.parquet'",
            )
    elif is_glob(spec):
        root = _glob_root(spec)
        paths, skipped = [], 0
        for match in glob.glob(spec, recursive=True):
            if is_ignored(os.path.relpath(match, root)):
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


def _remote_parts(spec: str) -> Parts | None:
    """The parts that a glob or a prefix in object storage names (None: one object)."""
    from lossctl.io.remote import listing

    found = listing(spec)
    if found is None:
        return None
    root, urls = found
    kept = [
        url
        for url in urls
        if split_suffix(Path(url))[0] is not None
        and not is_ignored(os.path.relpath(url.partition("://")[2], root))
    ]
    if not kept:
        raise NoFileMatches(
            "no object of a type lossctl reads matches",
            file=spec,
            hint="Check the bucket, the prefix and the pattern",
        )
    sources = [resolve(url) for url in kept]
    return Parts(redacted(spec), root, tuple(sources))


def is_url(spec: str) -> bool:
    """Whether ``spec`` is a URL of object storage (``s3://``, ``gs://``, ``https://``...)."""
    from lossctl.io.remote import is_url as remote

    return "://" in spec and remote(spec)


def would_read(spec: str, path: str) -> bool:
    """Whether the glob or directory ``spec`` reads the file ``path`` as one of its parts,
    now or once the file exists: decided from the pattern, by the rules of :func:`resolve_parts`.

    A directory reads every file of a supported type below it, except through a
    symbolic link to a directory (``os.walk`` does not follow them). A glob
    reads what ``glob.glob(spec, recursive=True)`` matches: ``*``, ``?`` and
    ``[...]`` match within one name, and not a name starting with ``.`` (unless
    the pattern does); ``**`` matches zero or more names; a literal name matches
    itself. A file it matches is a part whatever its type (the run refuses one
    it cannot read); a directory it matches is read as a directory is. Either
    way, nothing is read outside the root (the directory, or the glob's leading
    directories without a wildcard), nor whose path below it has a name
    starting with ``_`` or ``.``. Paths are compared absolute and normalised, as written and
    with symbolic links resolved (but not the file's own name: a file written
    there replaces a link). A plain file or ``-`` reads no other path.

    >>> would_read("preds/*.parquet", "preds/scored.parquet")
    True
    >>> would_read("preds/**/*.csv", "preds/_scratch/losses.csv")
    False
    """
    if spec == "-":
        return False
    if os.path.isdir(spec):
        # A directory reads as a glob that matches itself alone (no names below it).
        root, bases, dir_only = spec, [spec], True
        segments: list[str] = []
    elif is_glob(spec):
        fixed, segments, dir_only = _glob_segments(spec)
        root = fixed or "."
        bases = [root]
        if ".." in segments:
            # Only existing directories lead back up: expand the pattern up to its last ``..``.
            last = len(segments) - segments[::-1].index("..")
            bases = glob.glob(os.path.join(fixed, *segments[:last]), recursive=True)
            segments = segments[last:]
    else:
        return False
    spellings: tuple[Callable[[str], str], ...] = (os.path.abspath, os.path.realpath)
    for spell in spellings:
        file = os.path.join(spell(os.path.dirname(os.path.abspath(path))), os.path.basename(path))
        if any(_glob_reads(segments, dir_only, spell(base), spell(root), file) for base in bases):
            return True
    return False


def _glob_root(spec: str) -> str:
    """The leading directories of a glob that hold no wildcard (``.`` if none)."""
    return _glob_segments(spec)[0] or "."


def _glob_segments(spec: str) -> tuple[str, list[str], bool]:
    """A glob split in three: its leading directories without a wildcard (``""`` if none);
    the names of the pattern below them, without ``.``; and whether it matches directories
    only (it ends with ``/`` or ``/.``)."""
    head = spec[: min(spec.index(c) for c in GLOB_CHARS if c in spec)]
    fixed = os.path.dirname(head)
    rest = spec[len(fixed) :]
    if os.altsep:
        rest = rest.replace(os.altsep, os.sep)
    names = rest.split(os.sep)
    return fixed, [n for n in names if n not in ("", os.curdir)], names[-1] in ("", os.curdir)


def _glob_reads(segments: list[str], dir_only: bool, base: str, root: str, file: str) -> bool:
    """Whether the glob ``segments`` below ``base`` read ``file``: they match it, or one of
    its directories in which :func:`_search` finds it; either is skipped if its path below
    ``root`` has a name starting with ``_`` or ``.`` (or is outside it: ``..``)."""
    names = Path(os.path.relpath(file, base)).parts
    if not names or names[0] == os.pardir:
        return False

    def kept(n: int) -> bool:
        return not is_ignored(os.path.relpath(os.path.join(base, *names[:n]), root))

    if not dir_only and glob_matches(segments, names) and kept(len(names)):
        return True
    return any(
        glob_matches(segments, names[:i])
        and kept(i)
        and _search_finds(os.path.join(base, *names[:i]), names[i:])
        for i in range(len(names))
    )


def glob_matches(segments: Sequence[str], names: Sequence[str]) -> bool:
    """Whether the glob ``segments`` match the path ``names``, as ``glob.glob`` does."""
    if not segments:
        return not names
    first, rest = segments[0], segments[1:]
    if first == "**":  # zero or more names, none of them hidden
        shown = next((i for i, name in enumerate(names) if name.startswith(".")), len(names))
        return any(glob_matches(rest, names[i:]) for i in range(shown + 1))
    if not names or not fnmatch.fnmatchcase(names[0], first):
        return False
    wildcard = any(c in first for c in GLOB_CHARS)
    hidden = names[0].startswith(".") and not first.startswith(".")
    return not (wildcard and hidden) and glob_matches(rest, names[1:])


def _search_finds(directory: str, names: Sequence[str]) -> bool:
    """Whether :func:`_search` finds the file at ``names`` below ``directory``."""
    between = [os.path.join(directory, *names[:i]) for i in range(1, len(names))]
    return (
        split_suffix(Path(names[-1]))[0] is not None
        and not is_ignored(os.path.join(*names))
        and not any(map(os.path.islink, between))  # (os.walk does not follow them)
    )


def is_ignored(relative: str) -> bool:
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
