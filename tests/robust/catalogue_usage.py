"""The catalogue's cases of usage and source errors (see test_catalogue.py)."""

from __future__ import annotations

import numpy as np

import lossctl
import lossctl.engine
import lossctl.io.sources
from tests.robust.catalogue_helpers import (
    ARGS,
    BINARY_PREDS,
    BINARY_TARGETS,
    PAIR,
    PARTS,
    Case,
    EndpointConnectionError,
    NoCredentialsError,
    _make_dir,
    _no_dask,
    _no_matplotlib,
    _npy,
    _parquet,
    _part_deleted_while_read,
    _parts,
    _pyarrow_refuses,
    _stdin_is_a_terminal,
    _storage_fails,
)

USAGE_AND_SOURCES: dict[str, Case] = {
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
        "--max-increase compares with a baseline. Give the baseline's predictions with --baseline",
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
    "PartVanished": Case(
        {},
        [],
        "preds/part-2.csv: was deleted during the run (it was listed as a part, then not "
        "found). Rerun when no other job deletes or replaces the parts while lossctl reads them",
        setup=_parts(PARTS),
        call=_part_deleted_while_read,
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
    "MisnamedFile": Case(
        {"preds.csv": _parquet(p=[0.3, 0.8]), "targets.csv": BINARY_TARGETS},
        ["preds.csv", "targets.csv"],
        "preds.csv: holds Parquet data, but its name says CSV. Rename it to preds.parquet",
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
}
