"""The error catalogue: every named error, its exact message, and the README's table of them.

Each entry of ``lossctl.errors.CATALOGUE`` has one case here: a small input
that provokes it through the command line (through the Python API where the
command line cannot reach it), and the exact line it prints. The cases run in
a fresh directory, with files named as a user would, so the messages read as
they do at a shell. The README's "Errors" table must list every entry, with
the same example message, and the class's docstring and ``fix``.
"""

from __future__ import annotations

import io
import re
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
from lossctl.errors import CATALOGUE, InternalError, LossctlError
from tests.cli.helpers import assert_one_error_line, run_eval

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


def _patch_evaluate(_: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lossctl.engine, "evaluate", _boom)


PAIR = {"preds.csv": BINARY_PREDS, "targets.csv": BINARY_TARGETS}
ARGS = ["preds.csv", "targets.csv"]

CASES: dict[str, Case] = {
    # ------------------------------------------------------------------ usage
    "ConflictingOptions": Case(
        PAIR,
        [*ARGS, "--from-logits", "--from-probs"],
        "--from-logits and --from-probs contradict each other. Give at most one",
    ),
    "UnknownTask": Case(
        {},
        [],
        "unknown task 'binomial'. Use one of: auto, binary, multiclass, multilabel, regression",
        call=lambda: lossctl.evaluate(np.array([0.5]), np.array([1]), task="binomial"),
    ),
    "InvalidOption": Case(
        PAIR,
        [*ARGS, "--eps", "0.7"],
        "--eps 0.7 is not in (0, 0.5). The default is 2.22e-16",
    ),
    "UnknownLoss": Case(
        {},
        [],
        "unknown --loss 'hubber'. Use one of: bce, focal, hinge, kl, ce, mse, mae, huber, "
        "smooth_l1, log_cosh, quantile, msle, mape, poisson, gamma, tweedie",
        call=lambda: lossctl.evaluate(np.array([0.5]), np.array([1.0]), loss="hubber"),
    ),
    "ParameterWithoutLoss": Case(
        PAIR,
        [*ARGS, "--delta", "2"],
        "--delta is a parameter of --loss huber, not of the default loss. Leave --delta out, "
        "or add --loss huber",
    ),
    "LossNotForTask": Case(
        PAIR,
        [*ARGS, "--loss", "huber"],
        "--loss huber is a regression loss, but the task detected is binary. If the targets "
        "are regression targets, add --task regression",
    ),
    "CompatLacksLoss": Case(
        PAIR,
        [*ARGS, "--compat", "kaggle", "--loss", "focal"],
        "--compat kaggle has no focal loss. Its losses are bce, ce; or leave out --compat",
    ),
    "NoNullModel": Case(
        PAIR,
        [*ARGS, "--task", "regression", "--loss", "mae", "--min-d2", "0.5"],
        "--min-d2 needs a null model, and --loss mae has none: its best constant is a quantile "
        "of the targets, which a streaming pass cannot hold. Use --max-loss, or a loss with a "
        "null model such as mse",
    ),
    "UnknownEncoding": Case(
        PAIR,
        [*ARGS, "--encoding", "latin-9x"],
        "unknown --encoding 'latin-9x'. Try utf-8, latin-1 or cp1252",
    ),
    "BothStdin": Case(
        {},
        ["-", "-"],
        "only one input can be - (standard input). Give the others as files",
        stdin="p\n0.5\n",
    ),
    "NoTargets": Case(
        PAIR,
        ["preds.csv"],
        "no TARGETS file and no --target-col. Give a TARGETS file, or name the target "
        "column(s) in PREDICTIONS with --target-col",
    ),
    "MissingBaseline": Case(
        PAIR,
        [*ARGS, "--max-increase", "0.1"],
        "--max-increase and --max-increase-pct compare with a baseline. Give the baseline's "
        "predictions with --baseline",
    ),
    "MetricNotForTask": Case(
        {"preds.csv": "v\n1.5\n2.0\n", "targets.csv": "y\n1.0\n3.0\n"},
        [*ARGS, "--min-accuracy", "0.9"],
        "--min-accuracy gates a metric that regression predictions do not have. Leave it "
        "out, or use --max-loss",
    ),
    "OverlappingColumns": Case(
        {"data.csv": "p,y\n0.2,0\n0.9,1\n"},
        ["data.csv", "--pred-col", "p,y", "--target-col", "y"],
        "data.csv: column 'y' is both a prediction and a target column. Give different "
        "columns to --pred-col and --target-col",
    ),
    "UnsupportedOutput": Case(
        PAIR,
        [*ARGS, "--output", "losses.xlsx"],
        "losses.xlsx: unsupported output type. --output writes .csv, .tsv, .csv.gz, .parquet",
    ),
    "OutputIsInput": Case(
        PAIR,
        [*ARGS, "--output", "targets.csv"],
        "targets.csv: --output names an input file. Write it elsewhere",
    ),
    "OutputDirMissing": Case(
        PAIR,
        [*ARGS, "--output", "out/losses.csv"],
        "out/losses.csv: the directory of --output does not exist. Create it first",
    ),
    "OutputNotWritable": Case(
        PAIR,
        [*ARGS, "--output", "losses.csv"],
        "losses.csv: --output names a directory. Give a file name",
        setup=_make_dir("losses.csv"),
    ),
    "NoHeaderNotCsv": Case(
        {"preds.parquet": _parquet(p=[0.1, 0.8]), "targets.parquet": _parquet(y=[0, 1])},
        ["preds.parquet", "targets.parquet", "--no-header"],
        "preds.parquet: --no-header applies to CSV and TSV inputs, and this one is not. "
        "Leave out --no-header, or give the inputs as CSV",
    ),
    "ReportNotHtml": Case(
        PAIR,
        [*ARGS, "--report", "report.pdf"],
        "report.pdf: --report writes an HTML page, and this name does not end in .html. "
        "Give a file name ending in .html",
    ),
    "ReportNeedsExtra": Case(
        PAIR,
        [*ARGS, "--report", "report.html"],
        "--report draws its charts with matplotlib, which is not installed. "
        "pip install 'lossctl[report]'",
        setup=_no_matplotlib,
    ),
    "OutputClash": Case(
        PAIR,
        [*ARGS, "--junit", "report.txt", "--markdown", "./report.txt"],
        "report.txt: --junit and --markdown name the same file. Give each output a file of its own",
    ),
    "MissingExtra": Case(
        PAIR,
        [*ARGS, "--engine", "dask"],
        "--engine dask needs Dask, which is not installed. Install it: pip install 'lossctl[dask]'",
        setup=_no_dask,
    ),
    # ------------------------------------------------------------------ sources
    "FileNotFound": Case(
        {"targets.csv": BINARY_TARGETS},
        ARGS,
        "preds.csv: no such file. Check the path",
    ),
    "IsADirectory": Case(
        {},
        [],
        "preds.csv: is a directory, not a file. Give a file path",
        setup=_make_dir("preds.csv"),
        # (the command line reads a directory as parts: NoPartFiles when it has none)
        call=lambda: lossctl.io.sources.resolve("preds.csv"),
    ),
    "NoFileMatches": Case(
        {"targets.csv": BINARY_TARGETS},
        ["preds/*.parquet", "targets.csv"],
        "preds/*.parquet: no file matches. Check the pattern, and quote it so that lossctl "
        "expands it itself",
    ),
    "NoPartFiles": Case(
        {"targets.csv": BINARY_TARGETS},
        ["preds", "targets.csv"],
        "preds: holds no file of a type lossctl reads (in any of its subdirectories). Give a "
        "directory of parts, or a glob such as 'preds/*.parquet'",
        setup=_parts({"preds/_SUCCESS": "", "preds/notes.txt": "scores of May"}),
    ),
    "MixedPartFormats": Case(
        {"targets.csv": BINARY_TARGETS},
        ["preds", "targets.csv"],
        "preds: the parts mix formats: preds/part-0.csv is CSV, preds/part-1.parquet is "
        "Parquet. Give parts of one format, with a narrower glob such as 'preds/*.parquet'",
        setup=_parts(
            {"preds/part-0.csv": "id,p\na1,0.1\n", "preds/part-1.parquet": _parquet(p=[0.3])}
        ),
    ),
    "UnsupportedFormat": Case(
        {"preds.xlsx": "", "targets.csv": BINARY_TARGETS},
        ["preds.xlsx", "targets.csv"],
        "preds.xlsx: unsupported file type. lossctl reads .csv, .tsv, .parquet, .arrow, "
        ".feather, .ipc, .jsonl, .ndjson, .npy, .csv.gz, .csv.bz2, .csv.zst (or - for CSV on "
        "stdin)",
    ),
    "StdinIsTerminal": Case(
        {"targets.csv": BINARY_TARGETS},
        ["-", "targets.csv"],
        "-: no data on standard input (it is a terminal). Pipe a CSV file into lossctl, or "
        "give a file path",
        setup=_stdin_is_a_terminal,
    ),
    "Unreadable": Case(
        {"preds.csv.gz": b"\x1f\x8b\x08\x00not gzip at all", "targets.csv": BINARY_TARGETS},
        ["preds.csv.gz", "targets.csv"],
        "preds.csv.gz: cannot be read: {pyarrow}. Check that the file is complete, readable, "
        "and compressed as its name says",
    ),
    "EmptyFile": Case(
        {"preds.csv": "", "targets.csv": BINARY_TARGETS},
        ARGS,
        "preds.csv: is empty. Give a file with a header row",
    ),
    "HeaderOnly": Case(
        {"preds.csv": BINARY_PREDS, "targets.csv": "id,y\n"},
        ARGS,
        "targets.csv: has a header but no data rows. Give at least one row",
    ),
    "RaggedRow": Case(
        {"preds.csv": "id,p\na1,0.1\na2,0.8,0.2\na3,0.3,9\n", "targets.csv": BINARY_TARGETS},
        ARGS,
        "preds.csv, row 2: has 3 fields where the header has 2 (2 rows affected). Fix the "
        "row, or check the delimiter and quoting",
    ),
    "NotUtf8": Case(
        {
            "preds.csv": "id,p\ncafé,0.1\nthé,0.8\nsoda,0.3\n".encode("latin-1"),
            "targets.csv": "id,y\ncafé,0\nthé,1\nsoda,0\n".encode("latin-1"),
        },
        ARGS,
        r"preds.csv, column 'id', row 1: b'caf\xe9' is not utf-8 text (2 rows affected). "
        "It's often worth trying: --encoding latin-1 (or save the file as UTF-8)",
    ),
    "UnparsableCsv": Case(
        PAIR,
        ARGS,
        "preds.csv: cannot be parsed as CSV: CSV parse error: a new kind of trouble. Check "
        "that the file is CSV, with a header row",
        setup=_pyarrow_refuses,
    ),
    "CorruptParquet": Case(
        {"preds.parquet": b"PAR1 but nothing after it", "targets.csv": BINARY_TARGETS},
        ["preds.parquet", "targets.csv"],
        "preds.parquet: is not a readable Parquet file ({pyarrow}). Check that the file is "
        "complete and really Parquet",
    ),
    "CorruptArrow": Case(
        {"preds.arrow": b"ARROW1\x00\x00 and nothing after it", "targets.csv": BINARY_TARGETS},
        ["preds.arrow", "targets.csv"],
        "preds.arrow: is not readable as an Arrow IPC file ({pyarrow}). Check that the file is "
        "complete, and written as an Arrow IPC file or stream",
    ),
    "InvalidJson": Case(
        {
            "preds.jsonl": '{"id": "a1", "p": 0.1}\n{"id": "a2", "p": 0.8,}\n',
            "targets.csv": BINARY_TARGETS,
        },
        ["preds.jsonl", "targets.csv"],
        "preds.jsonl: line 2 is not valid JSON (Expecting property name enclosed in double "
        "quotes, column 23). Give one JSON object per line",
    ),
    "NotJsonObject": Case(
        {"preds.jsonl": '{"id": "a1", "p": 0.1}\n["a2", 0.8]\n', "targets.csv": BINARY_TARGETS},
        ["preds.jsonl", "targets.csv"],
        'preds.jsonl: line 2 is a list, not an object: ["a2", 0.8]. Give one JSON object per '
        'line, such as {"id": 1, "p": 0.2}',
    ),
    "CorruptNpy": Case(
        {"preds.npy": b"\x93NUMPY\x01\x00 cut short", "targets.csv": "y\n0\n1\n0\n"},
        ["preds.npy", "targets.csv"],
        "preds.npy: is not a readable .npy file ({numpy}). Check that the file is complete and "
        "written by numpy.save",
    ),
    "UnsupportedNpy": Case(
        {"preds.npy": _npy(np.zeros((3, 2, 2))), "targets.csv": "y\n0\n1\n0\n"},
        ["preds.npy", "targets.csv"],
        "preds.npy: holds a 3-D array of shape (3, 2, 2). Save a 1-D array (one column) or a 2-D "
        "array (one column per class or label)",
    ),
    "UnsupportedData": Case(
        {},
        [],
        "predictions: is an array of 3 dimensions. Give a 1-D array (one column) or a 2-D "
        "array (one column per class or label)",
        call=lambda: lossctl.evaluate(np.zeros((2, 2, 2)), np.array([0, 1])),
    ),
    "SchedulerUnreachable": Case(
        PAIR,
        [*ARGS, "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9"],
        "tcp://127.0.0.1:9: cannot reach the Dask scheduler (OSError). Check the address and "
        "that the scheduler is running, or leave out --scheduler",
    ),
    "NoCredentials": Case(
        {},
        [],
        "s3://models/preds.parquet: access refused or no credentials (NoCredentialsError). Set "
        "the credentials as the storage's own tools take them (environment, profile)",
        call=_storage_fails(NoCredentialsError("Unable to locate credentials")),
    ),
    "StorageUnreachable": Case(
        {},
        [],
        "s3://models/preds.parquet: the storage does not answer (EndpointConnectionError). "
        "Check the URL, the endpoint (AWS_ENDPOINT_URL) and the network",
        call=_storage_fails(EndpointConnectionError("Could not connect")),
    ),
    # ------------------------------------------------------------------ columns
    "NoSuchColumn": Case(
        {"preds.csv": "id,score\na1,0.1\na2,0.8\na3,0.3\n", "targets.csv": BINARY_TARGETS},
        [*ARGS, "--pred-col", "scores"],
        "preds.csv, column 'scores': no such column (named by --pred-col); the columns are "
        "'id', 'score'. Did you mean 'score'?",
    ),
    "DuplicateColumn": Case(
        {"preds.csv": "id,p,p\na1,0.1,0.2\n", "targets.csv": BINARY_TARGETS},
        ARGS,
        "preds.csv, column 'p': this column name appears more than once. Give every column "
        "a unique name",
    ),
    "NoColumnsLeft": Case(
        {"preds.csv": "id\na1\na2\na3\n", "targets.csv": BINARY_TARGETS},
        ARGS,
        "preds.csv: has no prediction columns left once ids and weights are set aside. Name "
        "the prediction columns with --pred-col",
    ),
    "AmbiguousPairing": Case(
        {"preds.csv": "a,b\n0.2,0.7\n0.9,0.1\n", "targets.csv": "a,c\n0,1\n1,0\n"},
        ARGS,
        "targets.csv: the target columns (a, c) share some names with the prediction columns "
        "(a, b) but not all, so pairing them is a guess. Give both in matching order with "
        "--pred-col and --target-col",
    ),
    "UnsupportedColumnType": Case(
        {"preds.parquet": _parquet(p=[[0.1], [0.8], [0.3]]), "targets.csv": "y\n0\n1\n0\n"},
        ["preds.parquet", "targets.csv"],
        "preds.parquet, column 'p': holds list<element: double> values, not numbers. Pick "
        "numeric columns with --pred-col",
    ),
    "MixedJsonTypes": Case(
        {
            "preds.jsonl": '{"id": 1, "p": 0.1}\n{"id": "a2", "p": 0.8}\n{"id": 3, "p": 0.3}\n',
            "targets.csv": BINARY_TARGETS,
        },
        ["preds.jsonl", "targets.csv"],
        "preds.jsonl, column 'id', row 2: holds a string, where row 1 holds a number. Give each "
        "column values of one JSON type (quote every id, or none)",
    ),
    "TooManyTargetColumns": Case(
        {
            "preds.csv": BINARY_PREDS,
            "targets.csv": "id,y,split\na1,0,train\na2,1,test\na3,0,test\n",
        },
        ARGS,
        "targets.csv: has 2 columns besides the id and weights (y, split) for 1 prediction "
        "column; 'y' looks like the target. Pick the target with --target-col y",
    ),
    "PartColumnsDiffer": Case(
        {"targets.csv": BINARY_TARGETS},
        ["preds/*.csv", "targets.csv"],
        "preds/part-1.csv, column 'p': this column of the first part, preds/part-0.csv, is "
        "not in this part. Give every part the same columns (in any order)",
        setup=_parts(
            {"preds/part-0.csv": "id,p\na1,0.1\n", "preds/part-1.csv": "id,q\na2,0.8\na3,0.3\n"}
        ),
    ),
    "PartitionColumnClash": Case(
        {"targets.csv": BINARY_TARGETS},
        ["preds", "targets.csv"],
        "preds/date=2024-01-01/part-0.csv, column 'date': is a column of the file and a "
        "partition directory of its path (date=2024-01-01). Rename the column or the "
        "partition directories",
        setup=_parts({"preds/date=2024-01-01/part-0.csv": "id,p,date\na1,0.1,2024-01-01\n"}),
    ),
    # ------------------------------------------------------------------ values
    "NonNumeric": Case(
        {"preds.csv": "id,p\na1,0.1\na2,high\na3,low\n", "targets.csv": BINARY_TARGETS},
        ARGS,
        "preds.csv, column 'p', row 2: 'high' is not a number (2 rows affected). Fix the "
        "value, or pick numeric prediction columns with --pred-col",
    ),
    "MissingValue": Case(
        {"preds.csv": "id,p\na1,0.1\na2,\na3,NaN\n", "targets.csv": BINARY_TARGETS},
        ARGS,
        "preds.csv, column 'p', row 2: this value is missing (empty, NaN or infinite) (2 rows "
        "affected). Fill or remove those rows, or pass --drop-missing to skip them",
    ),
    "AllRowsMissing": Case(
        {"preds.csv": "id,p\na1,\na2,\na3,inf\n", "targets.csv": BINARY_TARGETS},
        [*ARGS, "--drop-missing"],
        "preds.csv: every row has a missing value, so none is left to evaluate. Check the "
        "columns chosen",
    ),
    "NegativeWeight": Case(
        {"preds.csv": BINARY_PREDS, "targets.csv": "id,y,w\na1,0,1\na2,1,-2\na3,0,1\n"},
        [*ARGS, "--weight-col", "w"],
        "targets.csv, column 'w', row 2: this weight is negative. Weights must be >= 0",
    ),
    "ZeroWeights": Case(
        {"preds.csv": BINARY_PREDS, "targets.csv": "id,y,w\na1,0,0\na2,1,0\na3,0,0\n"},
        [*ARGS, "--weight-col", "w"],
        "targets.csv, column 'w': every weight is zero. Check --weight-col",
    ),
    "ProbabilityOutOfRange": Case(
        {"preds.csv": "id,p\na1,0.1\na2,1.8\na3,-0.3\n", "targets.csv": BINARY_TARGETS},
        [*ARGS, "--from-probs"],
        "preds.csv, column 'p', row 2: '1.8' is outside [0, 1], but --from-probs was given "
        "(2 rows affected). Drop --from-probs if these are logits",
    ),
    "ClassIndexOutOfRange": Case(
        {"preds.csv": CLASS_PREDS, "targets.csv": "y\n2\n0\n3\n"},
        ARGS,
        "targets.csv, column 'y', row 3: '3' is out of range for 3 classes (indices 0..2). "
        "Check --pred-col: the prediction columns are cat, dog, bird",
    ),
    "UnknownClass": Case(
        {"preds.csv": CLASS_PREDS, "targets.csv": "y\ncat\nfish\nbird\n"},
        ARGS,
        "targets.csv, column 'y', row 2: 'fish' is neither a class name nor a class index "
        "0..2. The classes are the prediction columns: cat, dog, bird",
    ),
    "MixedClassTargets": Case(
        {"preds.csv": CLASS_PREDS, "targets.csv": "y\ncat\n1\nbird\n"},
        ARGS,
        "targets.csv, column 'y', row 2: '1' is a class index, but other targets are class "
        "names. Use either the names (cat, dog, bird) or indices 0..2, not both",
    ),
    "NotBinary": Case(
        {"preds.csv": BINARY_PREDS, "targets.csv": "id,y\na1,0\na2,2\na3,1\n"},
        [*ARGS, "--task", "binary"],
        "targets.csv, column 'y', row 2: '2' is not 0 or 1. binary targets must be 0/1 or "
        "true/false; use --task regression for other values",
    ),
    "UnknownPosLabel": Case(
        {"preds.csv": BINARY_PREDS, "targets.csv": "id,y\na1,no\na2,yes\na3,no\n"},
        [*ARGS, "--pos-label", "Yes"],
        "targets.csv, column 'y': --pos-label 'Yes' is not a value of this column, which holds "
        "'no', 'yes'. Give --pos-label one of them",
    ),
    "TooManyValues": Case(
        {"preds.csv": BINARY_PREDS, "targets.csv": "id,y\na1,no\na2,yes\na3,maybe\n"},
        [*ARGS, "--pos-label", "yes"],
        "targets.csv, column 'y': holds more than two values ('maybe', 'no', 'yes'), so "
        "--pos-label 'yes' leaves more than one value as 0. Map 'maybe', 'no' to one value "
        "first, or evaluate the values as classes (multiclass)",
    ),
    "NotOneHot": Case(
        {
            "preds.csv": "cat,dog\n0.2,0.8\n0.6,0.4\n0.5,0.5\n",
            "targets.csv": "cat,dog\n0,1\n1,1\n1,0\n",
        },
        [*ARGS, "--task", "multiclass"],
        "targets.csv, row 2: this row of targets is not one-hot (exactly one 1, the rest 0). "
        "Give one class column, or one-hot rows",
    ),
    "LossOverflow": Case(
        {"preds.csv": "id,x\na1,1e308\na2,2\n", "targets.csv": "id,y\na1,-1e308\na2,2\n"},
        ARGS,
        "preds.csv, row 1: the squared error of this row overflows float64. Scale the "
        "predictions and targets to a smaller range",
    ),
    "NoSampleOfClass": Case(
        {"preds.csv": CLASS_PREDS, "targets.csv": "label\ncat\ndog\ncat\n"},
        [*ARGS, "--class-weight", "balanced"],
        "targets.csv: --class-weight balanced needs a sample of every class, and 'bird' has "
        "none. Give the class weights with NAME=W,..., or leave out the empty class's column",
    ),
    "OutsideLossDomain": Case(
        {"preds.csv": "p\n1.5\n2\n0.5\n", "targets.csv": "y\n1\n-2\n-1\n"},
        [*ARGS, "--loss", "poisson"],
        "targets.csv, column 'y', row 2: this target is outside the domain of --loss poisson "
        "(targets >= 0) (2 rows affected). Choose a loss whose domain holds these values, "
        "such as mse",
    ),
    # ------------------------------------------------------------------ alignment
    "LengthMismatch": Case(
        {"preds.csv": "p\n0.1\n0.8\n0.3\n", "targets.csv": "y\n0\n1\n"},
        ARGS,
        "preds.csv has 3 rows but targets.csv has 2. Aligned by row order, both files need "
        "the same rows; or align them by an id column with --id",
    ),
    "UnpairedBaseline": Case(
        {
            "preds.csv": "id,p\na1,NaN\na2,0.8\na3,0.3\n",
            "targets.csv": BINARY_TARGETS,
            "baseline.csv": "id,p\na1,0.2\na2,NaN\na3,NaN\n",
        },
        [*ARGS, "--baseline", "baseline.csv", "--drop-missing"],
        "baseline.csv: no sample is left that both the predictions and the baseline kept. "
        "Check the missing values of both files",
    ),
    "EmptyId": Case(
        {"preds.csv": BINARY_PREDS, "targets.csv": "id,y\na1,0\n,1\na3,0\n"},
        ARGS,
        "targets.csv, column 'id', row 2: this id is empty. Every row needs an id; or align "
        "by row order with --no-id",
    ),
    "DuplicateIds": Case(
        {"preds.csv": BINARY_PREDS, "targets.csv": "id,y\na1,0\na2,1\na1,0\n"},
        ARGS,
        "targets.csv, column 'id': 1 ids appear more than once; the first, 'a1', is on rows "
        "1, 3. Every id must appear exactly once in each file",
    ),
    "MissingIds": Case(
        {"preds.csv": BINARY_PREDS, "targets.csv": "id,y\na1,0\na2,1\na4,0\n"},
        ARGS,
        "column 'id': 1 ids of preds.csv are not in targets.csv (first: 'a3', row 3); 1 ids "
        "of targets.csv are not in preds.csv (first: 'a4', row 3). Every id must appear "
        "exactly once in each file; or align by row order with --no-id",
    ),
    # ------------------------------------------------------------------ detection
    "WrongColumnCount": Case(
        {"preds.csv": CLASS_PREDS, "targets.csv": "y\n0\n1\n0\n"},
        [*ARGS, "--task", "binary"],
        "preds.csv: binary needs one prediction and one target column, got 3 and 1. Pick the "
        "columns with --pred-col and --target-col",
    ),
    "PosLabelNeeded": Case(
        {"preds.csv": BINARY_PREDS, "targets.csv": "id,y\na1,no\na2,yes\na3,no\n"},
        ARGS,
        "targets.csv, column 'y': the targets hold two values other than 0 and 1, 'no' and "
        "'yes', and nothing says which one is the positive class. Name it with --pos-label, "
        "e.g. --pos-label yes",
    ),
    "BaselineTaskMismatch": Case(
        {**PAIR, "baseline.csv": "id,p,q\na1,0.1,0.9\na2,0.8,0.2\na3,0.3,0.7\n"},
        [*ARGS, "--baseline", "baseline.csv"],
        "baseline.csv: the baseline is detected as multiclass but the predictions as binary. "
        "Set the task with --task",
    ),
    # ------------------------------------------------------------------ bugs
    "InternalError": Case(
        PAIR,
        ARGS,
        "InternalError: the aligned rows do not match. This is a bug in lossctl {version}: "
        "please rerun with --debug and report the traceback",
        setup=_patch_evaluate,
    ),
}


def printed(error: type[LossctlError]) -> str:
    """What the case of ``error`` prints: the stderr line, or for the Python API ``str()``."""
    case = CASES[error.__name__]
    if case.call is not None:
        return case.message
    prefix = "lossctl: internal error: " if error is InternalError else "lossctl: error: "
    return prefix + case.message


def _matches(line: str, expected: str) -> bool:
    """``line`` is ``expected``, where ``{...}`` in it stands for any words."""
    parts = re.split(r"\{[a-z]+\}", expected)
    return re.fullmatch(".+".join(re.escape(p) for p in parts), line) is not None


@pytest.mark.parametrize("error", CATALOGUE, ids=lambda c: c.__name__)
def test_message(
    error: type[LossctlError], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The exact line the error prints, provoked by a small input (one case per entry)."""
    case = CASES[error.__name__]
    for name, content in case.files.items():
        data = content.encode() if isinstance(content, str) else content
        (tmp_path / name).write_bytes(data)
    monkeypatch.chdir(tmp_path)
    if case.setup is not None:
        case.setup(tmp_path, monkeypatch)
    if case.call is not None:
        with pytest.raises(error) as info:
            case.call()
        assert type(info.value) is error
        assert _matches(str(info.value), case.message), str(info.value)
        return
    result = run_eval(*case.args, input=case.stdin)
    assert result.exit_code == error.exit_code, (result.exit_code, result.stderr)
    assert result.stdout == ""
    line = assert_one_error_line(result.stderr, prefix="lossctl: ")
    assert _matches(line, printed(error)), line


# --------------------------------------------------------------------------- README


def _readme_table() -> dict[str, tuple[str, str, str]]:
    """The README's "Errors" table: error name -> (example message, cause, fix)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Errors\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if line.startswith("| `") and len(cells) == 4:
            name, message, cause, fix = (c.strip("`") for c in cells)
            rows[name] = (message, cause, fix)
    return rows


def cause(error: type[LossctlError]) -> str:
    return " ".join((error.__doc__ or "").split("\n\n")[0].split())


def test_readme_lists_every_error_as_the_catalogue_says() -> None:
    """One row per catalogue entry: the example is the line its case prints; cause and fix
    are the class's docstring and ``fix``."""
    table = _readme_table()
    assert list(table) == [error.__name__ for error in CATALOGUE]
    for error in CATALOGUE:
        message, why, fix = table[error.__name__]
        assert _matches(message, printed(error)), error.__name__
        assert (why, fix) == (cause(error), error.fix), error.__name__


def test_every_error_has_a_case_and_no_case_is_stale() -> None:
    assert sorted(CASES) == sorted(error.__name__ for error in CATALOGUE)


def test_lossctl_raises_named_errors_only() -> None:
    """Every error lossctl makes is a catalogue entry, never a bare family class."""
    import ast

    from lossctl.errors import FAMILIES

    families = {c.__name__ for c in (*FAMILIES, LossctlError)}
    package = Path(lossctl.__file__).parent
    found = []
    for path in sorted(package.rglob("*.py")):
        if path.parent.name == "errors":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name in families:
                    found.append(f"{path.relative_to(package)}:{node.lineno} {name}")
    assert found == [], (
        "use (or add) a named error of lossctl/errors/, with a case in "
        f"tests/robust/test_catalogue.py and a row in the README: {found}"
    )
