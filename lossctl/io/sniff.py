"""What a text file's first bytes say it is, when its name says CSV, TSV or JSON Lines.

A Parquet file saved as ``preds.csv``, or a gzip stream without its ``.gz``, would
otherwise be read as text and fail on its "header" with a line of binary noise. The
signatures are the formats' own magic numbers, long enough (Parquet's is checked at both
ends of the file) that no header of text starts with one.
"""

from __future__ import annotations

import re
from pathlib import Path

from lossctl.errors import MisnamedFile
from lossctl.io.sources import FORMAT_NAMES, Source

#: Leading bytes (a pattern) -> what the file is, and the name it should have ("{}": the
#: file's name, "{stem}": without its extension; None: not a format lossctl reads).
SIGNATURES: tuple[tuple[bytes, str, str | None], ...] = (
    (rb"PAR1", "Parquet data", "{stem}.parquet"),  # (and PAR1 at its end: see check_text)
    (rb"ARROW1\x00\x00", "Arrow IPC data", "{stem}.arrow"),
    (rb"\x93NUMPY", "a NumPy .npy array", "{stem}.npy"),
    (rb"\x1f\x8b\x08", "gzip-compressed data", "{}.gz"),
    (rb"\x28\xb5\x2f\xfd", "zstd-compressed data", "{}.zst"),
    (rb"BZh[1-9](1AY&SY|\x17rE8P)", "bzip2-compressed data", "{}.bz2"),
    (rb"PK\x03\x04", "a ZIP archive (an Excel workbook?)", None),
    (rb"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook", None),
)


def check_text(source: Source) -> None:
    """Raise :class:`MisnamedFile` if an uncompressed text input (by its name) holds one of
    the binary formats of :data:`SIGNATURES`, or Parquet."""
    if source.path is None or source.compression is not None:
        return
    if source.format not in ("csv", "tsv", "jsonl") or not source.path.is_file():
        return  # (a pipe's bytes, once read, would be gone)
    try:
        with open(source.path, "rb") as file:
            head = file.read(10)
            if head.startswith(b"PAR1"):  # a text header "PAR1,p" is not Parquet
                file.seek(-4, 2)
                head = head if file.read(4) == b"PAR1" else b""
    except OSError:
        return  # (the reader says what the operating system refuses)
    for magic, what, name in SIGNATURES:
        if re.match(magic, head, re.DOTALL):
            path = Path(source.label)
            fix = "Export the data as CSV"
            if name is not None:
                fix = "Rename it to " + name.format(path.name, stem=path.stem)
            said = f"holds {what}, but its name says {FORMAT_NAMES[source.format]}"
            raise MisnamedFile(said, file=source.label, hint=fix)
