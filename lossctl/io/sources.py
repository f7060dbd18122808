"""What an input argument names: a path with a format and compression, or ``-`` for stdin."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lossctl.errors import FileNotFound, IsADirectory, StdinIsTerminal, UnsupportedFormat

Format = Literal["csv", "tsv", "parquet"]

FORMATS: dict[str, Format] = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}
COMPRESSIONS: dict[str, str] = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd"}
SUPPORTED = ".csv, .tsv, .parquet, .csv.gz, .csv.bz2, .csv.zst (or - for CSV on stdin)"


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
