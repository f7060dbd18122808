"""What the catalogue's cases are made of: the Case, small inputs, and the set-ups that
provoke the errors the command line cannot reach alone."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet as pq
import pytest

import lossctl
import lossctl.engine
import lossctl.io.sources
from lossctl.errors import InternalError

README = Path(__file__).resolve().parents[2] / "README.md"

BINARY_PREDS = "id,p\na1,0.1\na2,0.8\na3,0.3\n"
BINARY_TARGETS = "id,y\na1,0\na2,1\na3,0\n"
CLASS_PREDS = "cat,dog,bird\n0.2,0.3,0.5\n0.6,0.3,0.1\n0.1,0.8,0.1\n"


class Terminal(io.BytesIO):
    """Standard input that says it is an interactive terminal."""

    def isatty(self) -> bool:
        return True


def _stdin_is_a_terminal(_: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """(CliRunner's stdin is never a terminal: give the module that asks another ``sys``.)"""
    monkeypatch.setattr(lossctl.io.sources, "sys", SimpleNamespace(stdin=Terminal()))


def _no_matplotlib(_: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """(A machine without the [report] extra: matplotlib cannot be found.)"""
    import importlib.util

    found = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "matplotlib" else found(name, *a),
    )


def _pyarrow_refuses(_: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CSV error that lossctl has no better words for (none is known: this stands in)."""

    from lossctl.io.csv import CsvTable

    opened = CsvTable._input

    def refuse(self: CsvTable) -> object:
        if self.path.endswith("preds.csv"):
            raise pa.ArrowInvalid("CSV parse error: a new kind of trouble")
        return opened(self)

    monkeypatch.setattr(CsvTable, "_input", refuse)


@dataclass
class Case:
    """Files to write, the arguments of ``lossctl eval`` (or a Python call), and the message.

    ``message`` is the whole stderr line; ``{...}`` stands for words that come
    from pyarrow or NumPy, which lossctl quotes and does not own.
    """

    files: dict[str, str | bytes]
    args: list[str]
    message: str
    stdin: Any = None
    call: Callable[[], object] | None = None  # the Python API instead of the command line
    setup: Callable[[Path, pytest.MonkeyPatch], None] | None = None


def _parquet(**columns: Any) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table(columns), sink)
    return sink.getvalue()


def _npy(array: np.ndarray) -> bytes:
    sink = io.BytesIO()
    np.save(sink, array)
    return sink.getvalue()


def _boom(*args: object, **kwargs: object) -> None:
    raise InternalError("the aligned rows do not match")


def _make_dir(path: str) -> Callable[[Path, pytest.MonkeyPatch], None]:
    return lambda directory, _: (directory / path).mkdir()


def _parts(files: dict[str, str | bytes]) -> Callable[[Path, pytest.MonkeyPatch], None]:
    """Write the parts of a glob or a directory, in subdirectories."""

    def write(directory: Path, _: pytest.MonkeyPatch) -> None:
        for name, content in files.items():
            (directory / name).parent.mkdir(parents=True, exist_ok=True)
            data = content.encode() if isinstance(content, str) else content
            (directory / name).write_bytes(data)

    return write


def _no_dask(_: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """(Dask is a test dependency: a run without it is a run that cannot import it.)"""
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)


class NoCredentialsError(Exception):
    """botocore's exception for no credentials, by its name (what lossctl looks at)."""


class EndpointConnectionError(Exception):
    """botocore's exception for an endpoint that does not answer, by its name."""


def _storage_fails(error: Exception) -> Callable[[], object]:
    def call() -> object:
        from lossctl.io.remote import call as guarded

        def fail() -> None:
            raise error

        return guarded("s3://models/preds.parquet", fail)

    return call


#: Three parts of 100 rows: read in chunks of 10, the third is not open yet after the first.
PARTS = {
    f"preds/part-{i}.csv": "p,y\n" + "".join(f"0.{j % 9 + 1},{j % 2}\n" for j in range(100))
    for i in range(3)
}


class _DeletesAPart:
    """A progress bar (the Python API's hook into a run) that deletes preds/part-2.csv when
    it is first told how far the reading has got, as another job could at that moment."""

    def start(self, total: int | None, unit: str, description: str) -> None:
        pass

    def update(self, done: int) -> None:
        Path("preds/part-2.csv").unlink(missing_ok=True)

    def stop(self) -> None:
        pass


def _part_deleted_while_read() -> object:
    return lossctl.evaluate("preds", target_cols=["y"], chunk_rows=10, progress=_DeletesAPart())


def _patch_evaluate(_: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lossctl.engine, "evaluate", _boom)


PAIR = {"preds.csv": BINARY_PREDS, "targets.csv": BINARY_TARGETS}
ARGS = ["preds.csv", "targets.csv"]
