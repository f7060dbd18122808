"""Fuzzing the whole command line and the Python API with hypothesis.

The property, for any input whatever: the command line exits 0, 1 or 2, never
3 and never with a traceback; exit 2 is exactly one stderr line starting
``lossctl: error:`` and nothing on stdout, and leaves no output file (but a valid
JUnit file saying why, for ``--junit``) and no temporary file behind; exit 1 only
comes from a gate that was asked for; a success writes the output it was asked for.
The Python API returns a report or raises a :class:`~lossctl.errors.LossctlError`,
never another exception (a NumPy warning counts as one: pytest turns warnings into
errors).

Profiles (the total budget is shared out between the tests by weight):

- ``ci`` (the default): derandomized, 1,200 examples in all.
- ``long``: ``HYPOTHESIS_PROFILE=long pytest tests/robust/test_fuzz.py``,
  12,000 examples, a new random seed every run.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import Result

from tests.ci.junit import assert_valid_junit
from tests.cli.helpers import run
from tests.robust.helpers import assert_untouched, snapshot

settings.register_profile(
    "ci",
    max_examples=1200,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long", settings.get_profile("ci"), max_examples=12_000, derandomize=False
)
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def fuzz(share: float) -> settings:
    """The profile's settings with ``share`` of its example budget."""
    return settings(PROFILE, max_examples=max(1, round(PROFILE.max_examples * share)))


# --------------------------------------------------------------------------- cells and names


def one_in(k: int) -> st.SearchStrategy[bool]:
    """True about once in ``k`` draws. (Not ``integers(0, k - 1) == 0``: hypothesis
    draws 0 far more often than that, and here False is the case to shrink to.)"""
    return st.sampled_from([False] * (k - 1) + [True])


SPECIAL_CELLS = [
    "", " ", "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "-Infinity", "NA", "N/A", "null",
    "NULL", "None", "true", "false", "True", "FALSE", "-0", "+0.5", ".5", "5.", "1e-320",
    "4.9e-324", "1e308", "1e309", "-1e309", "1.7976931348623157e308", "0x1p3", "1_000", "\u0661",
    "½", "[red]x[/red]", "[bold]", '"', "a,b", "a\nb", "\t", "é", "名前", "1 ", " 0", "0.5\r",
]  # fmt: skip

NAMES = [
    "id", "ID", "Id", "p", "y", "w", "a", "b", "c", "cat", "dog", "bird", "0", "1", "2", "loss",
    "label", "[red]x[/red]", "[bold]p", " p", "p q", "", "é", "名前", "a,b", 'q"t', "x\ny", "\t",
    "-", "--format", "nan",
]  # fmt: skip

names = st.one_of(st.sampled_from(NAMES), st.text(max_size=6))


def float_text(x: float, style: int) -> str:
    if style == 0:
        return repr(x)
    if style == 1:
        return f"{x:.6g}"
    if style == 2:
        return f"{x:e}"
    return repr(float(np.float32(x))) if math.isfinite(x) and abs(x) < 3e38 else repr(x)


def floats_as_text(lo: float | None = None, hi: float | None = None) -> st.SearchStrategy[str]:
    finite = lo is not None
    return st.builds(
        float_text,
        st.floats(lo, hi, allow_nan=not finite, allow_infinity=not finite),
        st.integers(0, 3),
    )


wild_cells = st.one_of(
    st.sampled_from(SPECIAL_CELLS),
    floats_as_text(),
    st.integers(-(10**20), 10**20).map(str),
    st.text(max_size=5),
)

#: What a column holds, before any mutation.
KINDS = ("prob", "logit", "label01", "bool", "index", "name", "id", "weight", "const", "wild")


def cells_of(kind: str, n: int, classes: Sequence[str]) -> st.SearchStrategy[list[str]]:
    one: st.SearchStrategy[str]
    if kind == "prob":
        one = floats_as_text(0.0, 1.0)
    elif kind == "logit":
        one = st.one_of(floats_as_text(-50.0, 50.0), floats_as_text(-1e300, 1e300))
    elif kind == "label01":
        one = st.sampled_from(["0", "1", "0.0", "1.0"])
    elif kind == "bool":
        one = st.sampled_from(["true", "false", "True", "False"])
    elif kind == "index":
        one = st.integers(0, max(len(classes), 1)).map(str)
    elif kind == "name":
        one = st.sampled_from(list(classes) or ["cat"])
    elif kind == "id":
        return st.lists(st.integers(0, 3 * n + 2), min_size=n, max_size=n, unique=True).map(
            lambda ids: [f"r{i}" for i in ids]
        ) | st.lists(st.integers(0, n), min_size=n, max_size=n).map(lambda v: [str(i) for i in v])
    elif kind == "weight":
        one = st.one_of(floats_as_text(0.0, 10.0), st.sampled_from(["0", "-1", "1"]))
    elif kind == "const":
        return st.one_of(wild_cells, st.sampled_from(["0", "1", "0.5"])).map(lambda c: [c] * n)
    else:
        one = wild_cells
    return st.lists(one, min_size=n, max_size=n)


# --------------------------------------------------------------------------- CSV cases


@dataclass
class Case:
    """Files to write into a fresh directory, and the arguments of ``lossctl eval``."""

    files: dict[str, bytes]
    args: list[str]
    stdin: bytes | None = None
    command: str = "eval"


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]


def table(header: Sequence[str], columns: Sequence[Sequence[str]]) -> Table:
    n = len(columns[0]) if columns else 0
    return Table(list(header), [[c[i] for c in columns] for i in range(n)])


SHAPES = {
    # task shape: (prediction kinds, target kinds)
    "binary-probs": (["prob"], ["label01"]),
    "binary-logits": (["logit"], ["bool"]),
    "multiclass-index": (["prob", "prob", "prob"], ["index"]),
    "multiclass-names": (["logit", "logit"], ["name"]),
    "multiclass-one-hot": (["prob", "prob"], ["label01", "label01"]),
    "multilabel": (["prob", "prob"], ["label01", "label01"]),
    "regression": (["logit"], ["logit"]),
    "anything": ([], []),
}
PRED_NAMES = ["a", "b", "c", "cat", "dog", "bird", "0", "1", "2", "p", "score"]
TARGET_NAMES = ["y", "label", "target", "y1", "y2", "truth"]


@st.composite
def column_names(draw: st.DrawFn, k: int, pool: Sequence[str]) -> list[str]:
    """``k`` distinct plain names; one in five times, one of them replaced by an odd one."""
    chosen = list(draw(st.permutations(pool)))[:k]
    if chosen and draw(one_in(5)):
        chosen[draw(st.integers(0, k - 1))] = draw(names)
    return chosen


@st.composite
def table_pairs(draw: st.DrawFn) -> tuple[Table, Table | None, list[str]]:
    """A predictions table, a targets table (or None: single-file mode) and extra arguments.

    Most pairs are valid, so that detection, losses and every report are reached;
    ``mutated`` and ``options`` break them afterwards.
    """
    shape = draw(st.sampled_from(sorted(SHAPES)))
    pred_kinds, target_kinds = SHAPES[shape]
    if shape == "anything":
        pred_kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=4))
        target_kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=3))
    n = draw(st.sampled_from([1, 1, 2, 3, 5, 8, 13, 1, 2, 3, 5, 8, 13, 0]))
    pred_names = draw(column_names(len(pred_kinds), PRED_NAMES))
    target_names = draw(column_names(len(target_kinds), TARGET_NAMES))
    if len(target_kinds) == len(pred_kinds) > 1 and draw(st.booleans()):
        target_names = list(pred_names)  # multilabel / one-hot columns matched by name
    preds = [draw(cells_of(kind, n, pred_names)) for kind in pred_kinds]
    n_targets = draw(st.integers(0, n + 2)) if draw(one_in(10)) else n
    targets = [draw(cells_of(kind, n_targets, pred_names)) for kind in target_kinds]
    args: list[str] = []
    if draw(one_in(5)):
        target_names.append("w")
        targets.append(draw(cells_of("weight", n_targets, pred_names)))
        args += ["--weight-col", "w"]
    if draw(st.booleans()):  # an id column in both files, the targets' rows in another order
        id_name = draw(st.sampled_from(["id", "ID", "key"]))
        ids = draw(cells_of("id", n, pred_names))
        preds.insert(0, ids)
        pred_names.insert(0, id_name)
        order = draw(st.permutations(range(n_targets)))
        target_ids = ids if n_targets == n else draw(cells_of("id", n_targets, pred_names))
        targets = [[column[i] for i in order] for column in [target_ids, *targets]]
        target_names.insert(0, id_name)
        if id_name == "key":
            args += ["--id", "key"]
    if draw(one_in(6)):  # single-file mode: the targets are columns of PREDICTIONS
        width = min(n, n_targets)
        own = [name for name in target_names if name not in pred_names]
        columns = [c[:width] for c in preds] + [
            c[:width] for name, c in zip(target_names, targets, strict=True) if name in own
        ]
        chosen = [name for name in own if name != "w"]
        args += ["--target-col", ",".join(chosen)] if chosen else []
        return table([*pred_names, *own], columns), None, args
    return table(pred_names, preds), table(target_names, targets), args


@st.composite
def mutated(draw: st.DrawFn, table: Table) -> Table:
    """The table with a few cells, names or rows broken."""
    header, rows = list(table.header), [list(r) for r in table.rows]
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
        what = draw(st.sampled_from(["cell", "name", "dup-name", "ragged", "drop-col", "blank"]))
        if what == "cell" and rows:
            row = draw(st.integers(0, len(rows) - 1))
            if rows[row]:
                rows[row][draw(st.integers(0, len(rows[row]) - 1))] = draw(wild_cells)
        elif what == "name":
            header[draw(st.integers(0, len(header) - 1))] = draw(names)
        elif what == "dup-name" and len(header) > 1:
            header[-1] = header[0]
        elif what == "ragged" and rows:
            row = draw(st.integers(0, len(rows) - 1))
            rows[row] = rows[row] + ["9"] if draw(st.booleans()) else rows[row][:-1]
        elif what == "drop-col" and len(header) > 1:
            header, rows = header[:-1], [r[:-1] for r in rows]
        elif what == "blank" and rows:
            rows.insert(draw(st.integers(0, len(rows))), [])
    return Table(header, rows)


@st.composite
def encoded(draw: st.DrawFn, table: Table, delimiter: str) -> tuple[bytes, str | None]:
    """The table as CSV bytes, and the --encoding to pass (None: leave it out)."""
    out = io.StringIO()
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    terminator = draw(st.sampled_from(["\n", "\r\n"]))
    writer = csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator=terminator)
    writer.writerow(table.header)
    writer.writerows(table.rows)
    text = out.getvalue()
    if draw(one_in(20)):
        text = text[: draw(st.integers(0, len(text)))]  # cut short anywhere
    how = draw(st.sampled_from(["utf-8"] * 6 + ["bom", "bom", "latin-1", "latin-1-said"]))
    if how == "bom":
        return ("\ufeff" + text).encode("utf-8"), None
    if how.startswith("latin-1"):
        return text.encode("latin-1", errors="replace"), "latin-1" if how.endswith("said") else None
    return text.encode("utf-8"), draw(st.sampled_from([None] * 6 + ["utf-8", "cp1252"]))


def compress(data: bytes, suffix: str) -> bytes:
    if suffix in ("csv", "tsv"):
        return data
    sink = pa.BufferOutputStream()
    codec = {"csv.gz": "gzip", "csv.bz2": "bz2", "csv.zst": "zstd"}[suffix]
    with pa.CompressedOutputStream(sink, codec) as stream:
        stream.write(data)
    return bytes(sink.getvalue().to_pybytes())


#: Options that ``lossctl detect`` takes too; the others are for ``eval`` alone.
DETECT_OPTIONS = {
    "--task",
    "--from-logits",
    "--from-probs",
    "--pred-col",
    "--target-col",
    "--weight-col",
    "--id",
    "--no-id",
    "--drop-missing",
    "--encoding",
    "--format",
}
#: Options that take no value.
FLAGS = {"--from-logits", "--from-probs", "--no-id", "--drop-missing"}
#: Options that write a file, and so must leave nothing behind on failure.
OUTPUT_OPTIONS = ("--output", "--junit", "--markdown")


@st.composite
def options(draw: st.DrawFn, pred_names: Sequence[str], target_names: Sequence[str]) -> list[str]:
    """A few options of ``lossctl eval``: mostly ones that keep a valid input valid,
    sometimes one that names columns, which may not exist."""
    columns = st.one_of(
        st.sampled_from(list(pred_names) or ["p"]),
        st.sampled_from(list(target_names) or ["y"]),
        names,
    )
    choice = st.sampled_from
    common: list[Callable[[], list[str]]] = [
        lambda: ["--task", draw(choice(["auto", "binary", "multiclass", "regression"]))],
        lambda: ["--task", "multilabel"],
        lambda: [draw(choice(["--from-logits", "--from-probs"]))],
        lambda: ["--drop-missing"],
        lambda: ["--format", draw(choice(["table", "json", "csv", "value"]))],
        lambda: ["--output", draw(choice(["out.csv", "out.parquet", "out.tsv", "out.csv.gz",
                                          "out.json", "sub/out.csv"]))],
        lambda: ["--junit", draw(choice(["junit.xml", "sub/junit.xml"]))],
        lambda: ["--markdown", "summary.md"],
        lambda: ["--max-loss", draw(choice(["0", "0.5", "1e9", "-1", "nan", "inf"]))],
        lambda: ["--min-d2", draw(choice(["0", "-1e9", "0.99", "nan"]))],
        lambda: ["--eps", draw(choice(["1e-7", "0.1", "0", "0.5", "1e-320", "nan"]))],
        lambda: ["--label-reduction", draw(choice(["sum", "mean"]))],
        lambda: ["--chunk-rows", str(draw(st.integers(1, 4)))],
        lambda: ["--head", str(draw(st.integers(0, 3)))],
        lambda: ["--worst", str(draw(st.integers(0, 3)))],
        lambda: ["--baseline", "PREDICTIONS", "--bootstrap", str(draw(st.integers(1, 30))),
                 *draw(choice([[], ["--max-increase", "0"], ["--max-increase-pct", "5"]]))],
        lambda: ["--max-increase", draw(choice(["0", "0.1", "-1"]))],
    ]  # fmt: skip
    risky: list[Callable[[], list[str]]] = [
        lambda: ["--pred-col", draw(columns)],
        lambda: ["--pred-col", ",".join(draw(st.lists(columns, min_size=1, max_size=3)))],
        lambda: ["--target-col", draw(columns)],
        lambda: ["--id", draw(columns)],
        lambda: ["--no-id"],
        lambda: ["--weight-col", draw(columns)],
        lambda: ["--by", draw(columns)],
    ]
    picks = draw(st.lists(st.sampled_from(common), max_size=3))
    if draw(one_in(4)):
        picks.append(draw(st.sampled_from(risky)))
    return [arg for pick in picks for arg in pick()]


def for_detect(args: Sequence[str]) -> list[str]:
    """Only the arguments that ``lossctl detect`` takes (the inputs, and DETECT_OPTIONS)."""
    kept: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        takes_value = arg.startswith("--") and arg not in FLAGS
        if not arg.startswith("--") or arg in DETECT_OPTIONS:
            kept += args[i : i + 1 + takes_value]
        i += 1 + takes_value
    return kept


@st.composite
def csv_cases(draw: st.DrawFn) -> Case:
    preds, targets, args = draw(table_pairs())
    preds = draw(mutated(preds))
    suffix = draw(st.sampled_from(["csv"] * 6 + ["tsv", "csv.gz", "csv.bz2", "csv.zst"]))
    delimiter = "\t" if suffix == "tsv" else ","
    files: dict[str, bytes] = {}
    pred_bytes, encoding = draw(encoded(preds, delimiter))
    case = Case(files, [])
    if draw(one_in(10)):
        case.stdin, pred_arg = pred_bytes, "-"
    else:
        pred_arg = f"preds.{suffix}"
        files[pred_arg] = compress(pred_bytes, suffix)
    case.args = [pred_arg]
    if targets is not None:
        targets = draw(mutated(targets))
        target_bytes, target_encoding = draw(encoded(targets, ","))
        files["targets.csv"] = target_bytes
        case.args.append("targets.csv")
        encoding = encoding or target_encoding
    case.args += args
    if encoding is not None:
        case.args += ["--encoding", encoding]
    target_names = targets.header if targets is not None else []
    case.args += draw(options(preds.header, target_names))
    if "PREDICTIONS" in case.args:  # --baseline: the predictions again, maybe changed
        files["baseline.csv"] = draw(encoded(draw(mutated(preds)), ","))[0]
        case.args[case.args.index("PREDICTIONS")] = "baseline.csv"
    if draw(one_in(6)):
        case.command, case.args = "detect", for_detect(case.args)
    return case


# --------------------------------------------------------------------------- the property


@contextmanager
def directory_of(files: dict[str, bytes]) -> Iterator[Path]:
    """A fresh working directory holding ``files``; the test runs inside it."""
    here = os.getcwd()
    path = Path(tempfile.mkdtemp(prefix="lossctl-fuzz-"))
    try:
        for name, data in files.items():
            (path / name).write_bytes(data)
        (path / "sub").mkdir()
        os.chdir(path)
        yield path
    finally:
        os.chdir(here)
        shutil.rmtree(path, ignore_errors=True)


def option_value(args: Sequence[str], option: str) -> str | None:
    """The last value given to ``option`` (as Click keeps it), if any."""
    values = [args[i + 1] for i, a in enumerate(args[:-1]) if a == option]
    return values[-1] if values else None


GATES = ("--max-loss", "--min-d2", "--max-increase", "--max-increase-pct")


def check_cli(
    args: list[str], stdin: bytes | None, directory: Path, command: str = "eval"
) -> Result:
    """Run ``lossctl COMMAND ARGS`` in ``directory`` and check the property."""
    before = snapshot(directory)
    result = run(command, *args, input=stdin)
    where = f"lossctl {command} {args!r}\nexit {result.exit_code}\nstderr: {result.stderr!r}"
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        where,
        result.exception,
    )
    assert result.exit_code in (0, 1, 2), where
    assert "Traceback" not in result.stdout + result.stderr, where
    if result.exit_code == 2:
        lines = result.stderr.splitlines()
        assert len(lines) == 1, where
        assert lines[0].startswith("lossctl: error: "), where
        assert result.stdout == "", where
        junit = option_value(args, "--junit")
        if junit is not None and junit not in before and (directory / junit).exists():
            assert_valid_junit((directory / junit).read_text(encoding="utf-8"))  # says why
            (directory / junit).unlink()
        assert_untouched(directory, before)
        return result
    if result.exit_code == 1:
        assert any(gate in args for gate in GATES), where
        lines = result.stderr.splitlines()
        assert lines and all(line.startswith("lossctl: gate ") for line in lines), where
    else:
        assert result.stderr == "", where
    outputs = {value for option in OUTPUT_OPTIONS if (value := option_value(args, option))}
    assert set(snapshot(directory)) - set(before) == outputs, where
    output_format = option_value(args, "--format")
    if output_format == "json":
        doc = json.loads(result.stdout)
        assert doc["n_samples"] >= 1, where
    elif output_format == "value":
        float(result.stdout)
    return result


@fuzz(0.45)
@given(case=csv_cases())
def test_cli_on_generated_csv(case: Case) -> None:
    with directory_of(case.files) as directory:
        result = check_cli(case.args, case.stdin, directory, case.command)
    event(f"{case.command}: exit {result.exit_code}")


@fuzz(0.1)
@given(
    data=st.binary(min_size=1, max_size=300),
    suffix=st.sampled_from(["csv", "tsv", "csv.gz", "csv.bz2", "csv.zst", "parquet"]),
    targets=st.sampled_from([b"y\n1\n0\n", b"id,y\n1,1\n", b"", b"\xff\xfe\x00"]),
    extra=st.sampled_from([[], ["--format", "json"], ["--task", "multiclass"], ["-o", "o.csv"]]),
)
def test_cli_on_random_bytes(data: bytes, suffix: str, targets: bytes, extra: list[str]) -> None:
    files = {f"preds.{suffix}": data, "targets.csv": targets}
    with directory_of(files) as directory:
        check_cli([f"preds.{suffix}", "targets.csv", *extra], None, directory)
