"""Time lossctl against named peers, each command a whole process; print ratios.

    python bench/run.py [--repeat 3] [--rows 1000000] [--cases mc-csv scale-1m ...]
                        [--lossctl "CMD"]

See bench/README.md for what is measured and how to read the output.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import os
import platform
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE / "data"  # as in generate.py, which this runs as a process: see main()
DEFAULT_ROWS = 1_000_000
PEERS = {
    "pandas_sklearn": ("pandas", "sklearn"),
    "polars_numpy": ("polars",),
    "duckdb_sql": ("duckdb",),
}
IMPORT_LINE = "import numpy, pyarrow.csv, typer, rich"
SKIPPED = "skipped (install with pip install -e '.[bench]')"
REL_TOL = 1e-6
SCALE = "scale-"  # the cases on Parquet parts, whose data generate.py writes on request
UNITS = {"wall": "s", "rss": "MiB"}
#: The bad value of mc_pred_bad.csv is this many rows before the last (as in generate.py,
#: which this does not import: see main()).
BAD_FROM_END = 4
GOOD = "good file"  # the same command on the file without the bad value


class Target(NamedTuple):
    """``numerator``'s measure, divided by ``denominator``'s if any, is held to the limit.

    Each is a (case, command) pair, so that a ratio may cross cases.
    """

    tag: str
    numerator: tuple[str, str]
    denominator: tuple[str, str] | None  # None: an absolute limit, in s or MiB
    measure: str  # "wall" or "rss"
    op: str  # "<=" or ">="
    limit: float

    @property
    def label(self) -> str:
        (case, command), limit = self.numerator, f"{self.op} {self.limit}"
        if self.denominator is None:
            return f"{self.tag} {case}: {command} {self.measure} {limit} {UNITS[self.measure]}"
        other_case, other = self.denominator
        if other_case == case:
            return f"{self.tag} {case}: {command} / {other} {self.measure} {limit}"
        return f"{self.tag} {command} {self.measure}: {case} / {other_case} {limit}"


MC_CSV, MC_PARQUET, STARTUP = "mc-csv", "mc-parquet", "startup-eval"
SCALE_1M, SCALE_10M = f"{SCALE}1m", f"{SCALE}10m"
MC_BASELINE, SCALE_BASELINE = "mc-parquet-baseline", f"{SCALE}10m-baseline"
ALONE = "lossctl alone"  # the same run without --baseline
BAD_CASES = ("mc-csv-bad", "mc-csv-gz-bad", "mc-csv-stdin-bad")
MC_CSV_METRICS, MC_PARQUET_METRICS = "mc-csv-metrics", "mc-parquet-metrics"
NO_METRICS = "--no-metrics"  # the same run with the loss alone
TARGETS = [
    # (a) 1M x 10 multiclass CSV against the peers
    Target("(a)", (MC_CSV, "lossctl"), (MC_CSV, "polars_numpy"), "wall", "<=", 1.0),
    Target("(a)", (MC_CSV, "pandas_sklearn"), (MC_CSV, "lossctl"), "wall", ">=", 2.5),
    Target("(a)", (MC_CSV, "lossctl"), (MC_CSV, "polars_numpy"), "rss", "<=", 1.0),
    Target("(a)", (MC_CSV, "lossctl"), None, "rss", "<=", 250),
    # (b) start-up on 1,000 rows
    Target("(b)", (STARTUP, "lossctl"), (STARTUP, "import line"), "wall", "<=", 2.0),
    # (c) the same as Parquet against DuckDB's SQL
    Target("(c)", (MC_PARQUET, "lossctl"), (MC_PARQUET, "duckdb_sql"), "wall", "<=", 1.0),
    # (d) 10M rows from a glob of parts: memory bounded, and flat in rows
    Target("(d)", (SCALE_10M, "lossctl"), None, "rss", "<=", 400),
    Target("(d)", (SCALE_10M, "lossctl"), (SCALE_1M, "lossctl"), "rss", "<=", 1.2),
    # (e) a baseline comparison streams: time and memory near those of the run without it
    Target("(e)", (MC_BASELINE, "lossctl"), (MC_BASELINE, ALONE), "wall", "<=", 1.5),
    Target("(e)", (SCALE_BASELINE, "lossctl"), None, "rss", "<=", 400),
    Target("(e)", (SCALE_BASELINE, "lossctl"), (SCALE_BASELINE, ALONE), "wall", "<=", 1.5),
    # (f) a bad value near the end is named while streaming: time near a good file's, and
    # memory within the good file's bound of (a)
    *(Target("(f)", (case, "lossctl"), (case, GOOD), "wall", "<=", 2.0) for case in BAD_CASES),
    *(Target("(f)", (case, "lossctl"), None, "rss", "<=", 250) for case in BAD_CASES),
    # (g) the metrics beside the loss cost at most half the wall of the loss alone
    Target("(g)", (MC_CSV_METRICS, "lossctl"), (MC_CSV_METRICS, NO_METRICS), "wall", "<=", 1.5),
    Target(
        "(g)", (MC_PARQUET_METRICS, "lossctl"), (MC_PARQUET_METRICS, NO_METRICS), "wall", "<=", 1.5
    ),
]


@dataclass
class Result:
    walls: list[float] = field(default_factory=list)
    rss_kib: int = 0
    output: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.walls) and not self.error

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def rss(self) -> float:
        return self.rss_kib / 1024

    @property
    def last_line(self) -> str:
        lines = self.output.strip().splitlines()
        return lines[-1] if lines else ""

    @property
    def value(self) -> float | None:
        try:
            return float(self.last_line)
        except ValueError:
            return None

    def add_run(self, cmd: list[str], expect: Expect | None = None) -> None:
        """Run ``cmd`` once to completion, timing it and taking its peak RSS from wait4.

        ``expect``: the run must fail so, and its stderr becomes its output; else exit 0.
        """
        stdin = expect.stdin if expect is not None else None
        with (
            tempfile.TemporaryFile() as out,
            tempfile.TemporaryFile() as err,
            open(stdin or os.devnull, "rb") as given,
        ):
            start = time.perf_counter()
            try:
                proc = subprocess.Popen(cmd, stdin=given, stdout=out, stderr=err)
            except OSError as exc:
                self.error = f"failed: {exc}"
                return
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4 already
            out.seek(0)
            err.seek(0)
            self.output = out.read().decode(errors="replace")
            stderr = err.read().decode(errors="replace")
            if expect is not None and expect.exit:
                self.output = stderr
                if proc.returncode != expect.exit or expect.says not in stderr:
                    said = stderr.strip()[-100:]
                    self.error = f"failed (exit {proc.returncode}, not {expect.exit}): {said}"
                    return
            elif proc.returncode != 0:
                lines = stderr.strip().splitlines() or [""]
                self.error = f"failed (exit {proc.returncode}): {lines[-1][:100]}"
                return
        self.walls.append(wall)
        self.rss_kib = max(self.rss_kib, usage.ru_maxrss)  # KiB on Linux


class Expect(NamedTuple):
    """How a command is run, and how it must end, when not as usual (stdin empty, exit 0)."""

    exit: int = 0  # the exit status it must end with; its stderr is then its output
    says: str = ""  # what its stderr must hold, if it exits non-zero
    stdin: Path | None = None  # a file given as standard input


@dataclass
class Case:
    name: str
    title: str
    commands: dict[str, list[str]]
    output: Path | None = None  # a file that every command must write; removed after each run
    expect: dict[str, Expect] = field(default_factory=dict)  # by command


def installed(command: str) -> bool:
    """Whether a peer's packages are importable (lossctl and the import line: always)."""
    return all(importlib.util.find_spec(module) for module in PEERS.get(command, ()))


@dataclass
class CaseMaker:
    """Builds the cases on the files in ``data``; the scale cases write into ``out``."""

    data: Path
    rows: int
    lossctl: list[str]
    out: Path

    def peer(self, script: str, task: str, pred: Path | str, true: Path | str) -> list[str]:
        return [
            sys.executable,
            str(HERE / "peers" / f"{script}.py"),
            "--task",
            task,
            str(pred),
            str(true),
        ]

    def evaluate(
        self, pred: Path | str, true: Path | str, *options: str, metrics: bool = False
    ) -> list[str]:
        """lossctl on a pair; the loss alone, as the peers compute it, unless ``metrics``."""
        options = options if metrics else (*options, NO_METRICS)
        return [
            *self.lossctl,
            "eval",
            str(pred),
            str(true),
            "--id",
            "id",
            *options,
            "--format",
            "value",
        ]

    def loss_case(
        self, name: str, title: str, task: str, prefix: str, ext: str = "csv", true: str = "true"
    ) -> Case:
        pred, targets = self.data / f"{prefix}_pred.{ext}", self.data / f"{prefix}_{true}.{ext}"
        commands = {"lossctl": self.evaluate(pred, targets)}
        commands |= {script: self.peer(script, task, pred, targets) for script in PEERS}
        return Case(name, f"{title}, {self.rows:,} rows, {ext}", commands)

    def scale_case(self, name: str, prefix: str, n: int) -> Case:
        # Globs as one argument each: the commands expand them themselves.
        pred, true = (
            str(self.data / f"{prefix}_{side}" / "*.parquet") for side in ("pred", "true")
        )
        output = self.out / "losses.parquet"
        options = ["--output", str(output)]
        commands = {"lossctl": self.evaluate(pred, true, *options)}
        commands |= {
            script: [*self.peer(script, "multiclass", pred, true), *options] for script in PEERS
        }
        title = f"multiclass x 10, {n:,} rows, parquet parts (10 and 4), losses to parquet"
        return Case(name, title, commands, output)

    def baseline_case(
        self, name: str, pred: Path | str, true: Path | str, base: Path | str
    ) -> Case:
        """lossctl with --baseline against itself without: what the comparison costs."""
        commands = {
            "lossctl": self.evaluate(pred, true, "--baseline", str(base)),
            ALONE: self.evaluate(pred, true),
        }
        return Case(name, f"--baseline vs none: {pred}", commands)

    def bad_case(self, name: str, ext: str, stdin: bool = False) -> Case:
        """lossctl on predictions with a value that is not a number near the end, against
        the same command on the good file: what finding and naming the row costs."""
        pred, bad, true = (
            self.data / f"mc_pred.{ext}",
            self.data / f"mc_pred_bad.{ext}",
            self.data / "mc_true.csv",
        )
        row = max(self.rows - BAD_FROM_END, 1)
        says = f"row {row}: 'oops' is not a number"
        if stdin:
            commands = {"lossctl": self.evaluate("-", true), GOOD: self.evaluate("-", true)}
            expect = {"lossctl": Expect(2, says, bad), GOOD: Expect(stdin=pred)}
        else:
            commands = {"lossctl": self.evaluate(bad, true), GOOD: self.evaluate(pred, true)}
            expect = {"lossctl": Expect(2, says)}
        where = "on stdin" if stdin else ext
        title = f"multiclass x 10, {self.rows:,} rows, {where}, 'oops' on row {row:,} vs none"
        return Case(name, title, commands, expect=expect)

    def metrics_case(self, name: str, ext: str) -> Case:
        """lossctl with every metric (the default) against the loss alone."""
        pred, true = self.data / f"mc_pred.{ext}", self.data / f"mc_true.{ext}"
        commands = {
            "lossctl": self.evaluate(pred, true, metrics=True),
            NO_METRICS: self.evaluate(pred, true),
        }
        return Case(
            name,
            f"metrics vs --no-metrics: multiclass x 10, {self.rows:,} rows, {ext}",
            commands,
        )


def build_cases(data: Path, rows: int, lossctl: list[str], out: Path) -> list[Case]:
    """The cases on the files in ``data``; the scale cases write into the directory ``out``."""
    make = CaseMaker(data, rows, lossctl, out)
    py = sys.executable
    imports = [py, "-c", IMPORT_LINE]
    return [
        make.loss_case("mc-csv", "multiclass x 10", "multiclass", "mc"),
        make.loss_case("mc-parquet", "multiclass x 10", "multiclass", "mc", "parquet"),
        make.loss_case(
            "mc-csv-shuffled",
            "multiclass x 10, the targets in another order",
            "multiclass",
            "mc",
            true="true_shuffled",
        ),
        make.bad_case(BAD_CASES[0], "csv"),
        make.bad_case(BAD_CASES[1], "csv.gz"),
        make.bad_case(BAD_CASES[2], "csv", stdin=True),
        make.loss_case("binary", "binary", "binary", "bin"),
        make.loss_case("multilabel", "multilabel x 5", "multilabel", "ml"),
        make.loss_case("regression", "regression", "regression", "reg"),
        Case(
            "startup-eval",
            "start-up: 1,000-row multiclass eval vs importing the stack",
            {
                "lossctl": make.evaluate(data / "small_pred.csv", data / "small_true.csv"),
                "import line": imports,
            },
        ),
        Case(
            "startup-help",
            "start-up: lossctl --help vs importing the stack",
            {"lossctl": [*lossctl, "--help"], "import line": imports},
        ),
        make.baseline_case(
            MC_BASELINE, *(data / f"mc_{side}.parquet" for side in ("pred", "true", "base"))
        ),
        make.metrics_case(MC_CSV_METRICS, "csv"),
        make.metrics_case(MC_PARQUET_METRICS, "parquet"),
        make.scale_case(SCALE_1M, "mc1m", rows),
        make.scale_case(SCALE_10M, "mc10m", 10 * rows),
        make.baseline_case(
            SCALE_BASELINE,
            *(str(data / f"mc10m_{side}" / "*.parquet") for side in ("pred", "true", "base")),
        ),
    ]


def run_case(case: Case, repeat: int) -> dict[str, Result]:
    """Run every command ``repeat`` times, round-robin so that drift hits all alike."""
    results = {name: Result() for name in case.commands if installed(name)}
    for _ in range(repeat):
        for name, result in results.items():
            if not result.error:
                result.add_run(case.commands[name], case.expect.get(name))
                if case.output is not None:
                    if not (result.error or case.output.exists()):
                        result.error = f"failed: wrote no {case.output.name}"
                    case.output.unlink(missing_ok=True)
    return results


def print_case(case: Case, results: dict[str, Result]) -> None:
    print(f"\n== {case.name}: {case.title} ==")
    print(f"{'command':<16}{'wall s':>9}{'peak MiB':>10}{'wall ratio':>12}{'RSS ratio':>11}  value")
    base = results.get("lossctl")
    with_value = [r.value for r in results.values() if r.ok and r.value is not None]
    reference = with_value[0] if with_value else None  # lossctl's value when it has one
    for name in case.commands:
        result = results.get(name)
        if result is None or not result.ok:
            print(f"{name:<16}  {result.error if result else SKIPPED}")
            continue
        ratios = ("-", "-")
        if name != "lossctl" and base is not None and base.ok:
            ratios = (f"{base.wall / result.wall:.2f}", f"{base.rss / result.rss:.2f}")
        shown = "" if case.name == "startup-help" else result.last_line[:40]  # help: no value
        if name in case.expect and case.expect[name].exit:  # its error, from the column on
            shown = "error: " + result.last_line.partition(", ")[2][:60]
        value = result.value
        if value is not None and reference is not None:
            rel = abs(value - reference) / max(abs(value), abs(reference), sys.float_info.min)
            if rel > REL_TOL:
                shown += f"  DIFFERS (rel {rel:.1e})"
        print(
            f"{name:<16}{result.wall:>9.3f}{result.rss:>10.1f}{ratios[0]:>12}{ratios[1]:>11}  "
            f"{shown}"
        )


def print_targets(all_results: dict[str, dict[str, Result]], rows: int) -> None:
    print("\n== targets ==")
    if rows != DEFAULT_ROWS:
        print(f"(the targets are set for {DEFAULT_ROWS:,} rows; this run used {rows:,})")

    def result(case: str, command: str) -> Result | None:
        found = all_results.get(case, {}).get(command)
        return found if found is not None and found.ok else None

    for t in TARGETS:
        a = result(*t.numerator)
        b = None if t.denominator is None else result(*t.denominator)
        if a is None or (t.denominator is not None and b is None):
            print(f"n/a   {t.label}  (case not run, or a command skipped or failed)")
            continue
        measured = getattr(a, t.measure)
        if b is not None:
            measured /= getattr(b, t.measure)
        passed = measured >= t.limit if t.op == ">=" else measured <= t.limit
        print(f"{'PASS' if passed else 'FAIL':<6}{t.label}  (measured {measured:.2f})")


def compile_lossctl() -> None:
    """Compile lossctl's modules to bytecode once, as ``pip install .`` does. An editable
    install under PYTHONDONTWRITEBYTECODE=1 would otherwise compile them again in every
    timed run, a cost no installed copy (and no peer's package) pays."""
    spec = importlib.util.find_spec("lossctl")
    if spec is not None and spec.origin is not None:
        compileall.compile_dir(Path(spec.origin).parent, quiet=2)


def main() -> None:
    names = [case.name for case in build_cases(Path(), 0, [], Path())]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per command (default 3)")
    parser.add_argument(
        "--rows", type=int, default=DEFAULT_ROWS, help="rows in the large files (default 1,000,000)"
    )
    parser.add_argument(
        "--cases",
        nargs="+",
        choices=names,
        default=[name for name in names if not name.startswith(SCALE)],
        metavar="CASE",
        help=f"cases to run (default all but {SCALE}*): {', '.join(names)}",
    )
    parser.add_argument(
        "--lossctl",
        default=f"{shlex.quote(sys.executable)} -m lossctl",
        help="command that runs lossctl (default: this Python -m lossctl)",
    )
    parser.add_argument("--data", type=Path, help="data directory (default bench/data[/rows-N])")
    args = parser.parse_args()

    data = args.data or DEFAULT_DATA
    if args.data is None and args.rows != DEFAULT_ROWS:
        data = DEFAULT_DATA / f"rows-{args.rows}"
    # Generate in a child process: on Linux a child's peak RSS starts at its parent's, so
    # this process must stay small (no NumPy here) to keep from inflating the measurements.
    generate = [sys.executable, str(HERE / "generate.py"), "--out", str(data)]
    generate += ["--rows", str(args.rows)]
    if any(name.startswith(SCALE) for name in args.cases):
        generate.append("--scale")  # about 1 GB for the default rows: only when asked for
    subprocess.run(generate, check=True)
    compile_lossctl()
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f}, median of {args.repeat} runs, data in {data}, "
        f"RSS floor {floor:.0f} MiB"
    )
    print("wall s: median wall time; peak MiB: max peak RSS; ratios: lossctl / peer (< 1: better)")
    all_results: dict[str, dict[str, Result]] = {}
    out = Path(tempfile.mkdtemp(prefix="out-", dir=data))  # beside the data: disk, not tmpfs
    try:
        for case in build_cases(data, args.rows, shlex.split(args.lossctl), out):
            if case.name in args.cases:
                all_results[case.name] = run_case(case, args.repeat)
                print_case(case, all_results[case.name])
    finally:
        shutil.rmtree(out, ignore_errors=True)
    print_targets(all_results, args.rows)


if __name__ == "__main__":
    main()
