"""Per-sample losses out: CSV or Parquet, written to a temporary file and renamed."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa

from lossctl.errors import OutputDirMissing, OutputIsInput, OutputNotWritable, UnsupportedOutput
from lossctl.io.atomic import atomic_path
from lossctl.io.columns import from_numpy
from lossctl.io.sources import split_suffix

OUTPUT_TYPES = ".csv, .tsv, .csv.gz, .parquet"


def check_output(path: str, inputs: Sequence[str], option: str = "--output") -> None:
    """Before any work, refuse an output that would replace an input or cannot be written;
    for ``--output``, also one of unknown type."""
    if option == "--output" and split_suffix(Path(path))[0] is None:
        raise UnsupportedOutput(
            "unsupported output type", file=path, hint=f"--output writes {OUTPUT_TYPES}"
        )
    target = Path(path).resolve()
    if target.is_dir():
        raise OutputNotWritable(f"{option} names a directory", file=path, hint="Give a file name")
    for name in inputs:
        if name != "-" and Path(name).resolve() == target:
            raise OutputIsInput(
                f"{option} names an input file", file=path, hint="Write it elsewhere"
            )
    if not target.parent.is_dir():
        raise OutputDirMissing(
            f"the directory of {option} does not exist", file=path, hint="Create it first"
        )
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise OutputNotWritable(
            f"the directory of {option} is not writable",
            file=path,
            hint="Write it where you have permission",
        )


def losses_table(losses: np.ndarray, ids: pa.ChunkedArray | None, id_name: str | None) -> pa.Table:
    """The per-sample table: the id column when there is one, then ``loss``."""
    columns: dict[str, pa.ChunkedArray | pa.Array] = {}
    if ids is not None and id_name is not None:
        columns[id_name if id_name != "loss" else "id"] = ids
    columns["loss"] = from_numpy(losses)
    return pa.table(columns)


def write_losses(path: str, table: pa.Table) -> None:
    """Write ``table`` to ``path`` (CSV, TSV or Parquet by extension) atomically."""
    fmt, compression = split_suffix(Path(path))
    with atomic_path(path) as tmp:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(table, tmp)
        else:
            with pa.output_stream(tmp, compression=compression) as stream:
                _write_csv(table, stream, "\t" if fmt == "tsv" else ",")


def _write_csv(table: pa.Table, stream: pa.NativeFile, delimiter: str) -> None:
    """CSV with shortest-repr floats, quoting only the values that need it.

    pyarrow quotes every string (and every header name) unless told not to, and
    refuses "none" when a value holds a delimiter, quote or newline: then quote.
    """
    import pyarrow.csv as pacsv

    for style in ("none", "needed"):
        sink = pa.BufferOutputStream()
        options = pacsv.WriteOptions(delimiter=delimiter, quoting_style=style, quoting_header=style)
        try:
            pacsv.write_csv(table, sink, write_options=options)
        except pa.ArrowInvalid:
            continue
        stream.write(sink.getvalue())
        return


def write_csv_stdout(table: pa.Table) -> None:
    """The per-sample table as CSV on stdout."""
    sys.stdout.flush()
    sink = pa.BufferOutputStream()
    _write_csv(table, sink, ",")
    sys.stdout.buffer.write(sink.getvalue().to_pybytes())
    sys.stdout.buffer.flush()


def write_text(path: str, text: str, *, append: bool = False) -> None:
    """Write ``text`` to ``path`` atomically; with ``append``, after what the file holds.

    Appending copies the old content into the temporary file first, so a
    failure never leaves a half-appended file.
    """
    old = ""
    if append and os.path.exists(path):
        with open(path, encoding="utf-8") as existing:
            old = existing.read()
        if old and not old.endswith("\n"):
            old += "\n"  # Markdown needs the heading on a line of its own
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        out.write(old + text)
