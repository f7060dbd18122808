"""Per-sample losses out: CSV or Parquet, written to a temporary file and renamed."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa

from lossctl.core.chunk import Labels, Predicted
from lossctl.errors import OutputDirMissing, OutputIsInput, OutputNotWritable, UnsupportedOutput
from lossctl.io.chunks import ArrowLabels
from lossctl.io.columns import from_numpy
from lossctl.io.sources import is_url, output_suffix, would_read
from lossctl.io.upload import output_path

OUTPUT_TYPES = ".csv, .tsv, .csv.gz, .parquet"


def check_output(path: str, inputs: Sequence[str], option: str = "--output") -> None:
    """Before any work, refuse an output that would replace an input, or that a glob or
    directory of inputs would read as a part on the next run, or that cannot be written;
    for ``--output``, also one of unknown type."""
    if option == "--output" and output_suffix(Path(path))[0] is None:
        raise UnsupportedOutput(
            "unsupported output type", file=path, hint=f"--output writes {OUTPUT_TYPES}"
        )
    if is_url(path):
        from lossctl.io.upload import check_output as check_remote

        check_remote(path, inputs, option)
        return
    target = Path(path).resolve()
    if target.is_dir():
        raise OutputNotWritable(f"{option} names a directory", file=path, hint="Give a file name")
    for name in inputs:
        if name != "-" and Path(name).resolve() == target:
            raise OutputIsInput(
                f"{option} names an input file", file=path, hint="Write it elsewhere"
            )
        if would_read(name, path):
            raise OutputIsInput(
                f"{option} would be read as a part of {name!r} on the next run",
                file=path,
                hint="Write it outside the directory or pattern of the inputs",
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


def losses_table(
    losses: np.ndarray,
    ids: pa.Array | None,
    id_name: str | None,
    predicted: Predicted | None = None,
) -> pa.Table:
    """The per-sample table: the id column when there is one, then ``loss``, then the
    predicted class (``predicted``: 0/1, or the class name) or, for multilabel, the
    prediction of each label (``predicted_<label>``)."""
    columns: dict[str, pa.ChunkedArray | pa.Array] = {}
    if ids is not None and id_name is not None:
        columns[id_name if id_name != "loss" else "id"] = ids
    columns["loss"] = from_numpy(losses)
    if predicted is not None and predicted.labels:
        codes = predicted.codes.reshape(len(losses), -1)
        for j, label in enumerate(predicted.labels):
            columns[f"predicted_{label}"] = pa.array(codes[:, j].astype(np.int8))
    elif predicted is not None and predicted.classes == ("0", "1"):
        columns["predicted"] = pa.array(predicted.codes.astype(np.int8))
    elif predicted is not None:
        columns["predicted"] = pa.array(predicted.classes).take(pa.array(predicted.codes))
    return pa.table(columns)


class LossWriter:
    """Per-sample losses written batch by batch as they are computed.

    destination : a path (CSV, TSV, compressed CSV or Parquet by extension),
        written to a temporary file that takes the path's name only when
        :meth:`close` is called after a complete run; or a seekable binary file
        object, into which CSV is written.

    :meth:`restart` forgets what was written (a second pass writes it again).
    Use as a context manager: leaving it with an error leaves nothing behind.
    """

    def __init__(self, destination: str | os.PathLike[str] | BinaryIO) -> None:
        self.id_name: str | None = None
        self.destination = destination
        self._stack = contextlib.ExitStack()
        self.path: str | None = None
        self.fmt: str | None = "csv"
        self.compression: str | None = None
        if isinstance(destination, (str, os.PathLike)):
            self.fmt, self.compression = output_suffix(Path(destination))
            self.path = self._stack.enter_context(output_path(os.fspath(destination)))
        self._sink: Any = None
        self._first = True

    def __enter__(self) -> LossWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        if exc[1] is not None:
            self._close_sink()
            self._stack.__exit__(*exc)
        else:
            self.close()

    def write(
        self, losses: np.ndarray, labels: Labels | None, predicted: Predicted | None = None
    ) -> None:
        """One chunk's losses, with the ids of its rows (``io``'s own :class:`ArrowLabels`)
        and their predicted classes."""
        ids = labels.array if isinstance(labels, ArrowLabels) else None
        table = losses_table(losses, ids, self.id_name, predicted)
        if self._sink is None:
            self._open(table.schema)
        if self.fmt == "parquet":
            self._sink.write_table(table)
        else:
            _write_csv(table, self._sink, "\t" if self.fmt == "tsv" else ",", self._first)
        self._first = False

    def _open(self, schema: pa.Schema) -> None:
        if self.path is None:
            self._sink = pa.PythonFile(self.destination, mode="w")
        elif self.fmt == "parquet":
            import pyarrow.parquet as pq

            self._sink = pq.ParquetWriter(self.path, schema)
        else:
            self._sink = pa.output_stream(self.path, compression=self.compression)

    def _close_sink(self) -> None:
        if self._sink is not None and self.path is not None:
            self._sink.close()
        self._sink = None

    def restart(self, id_name: str | None) -> None:
        """Start again from nothing; the id column (if any) is ``id_name``."""
        self.id_name = id_name
        self._close_sink()
        self._first = True
        if self.path is None:
            assert not isinstance(self.destination, (str, os.PathLike))
            self.destination.seek(0)
            self.destination.truncate()

    def close(self) -> None:
        """Finish the file (an empty run still gets its header), and rename it into place."""
        if self._sink is None:
            empty = None if self.id_name is None else ArrowLabels(pa.array([], pa.string()))
            self.write(np.empty(0), empty)
        if self.path is None:
            self._sink.flush()
        self._close_sink()
        self._stack.close()


def _write_csv(table: pa.Table, stream: pa.NativeFile, delimiter: str, header: bool = True) -> None:
    """CSV with shortest-repr floats, quoting only the values that need it.

    pyarrow quotes every string (and every header name) unless told not to, and
    refuses "none" when a value holds a delimiter, quote or newline: then quote.
    """
    import pyarrow.csv as pacsv

    for style in ("none", "needed"):
        sink = pa.BufferOutputStream()
        options = pacsv.WriteOptions(
            include_header=header, delimiter=delimiter, quoting_style=style, quoting_header=style
        )
        try:
            pacsv.write_csv(table, sink, write_options=options)
        except pa.ArrowInvalid:
            continue
        stream.write(sink.getvalue())
        return


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
    with output_path(path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        out.write(old + text)
