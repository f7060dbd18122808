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

from cases import (
    ALONE,
    BAD_CASES,
    GOOD,
    HERE,
    MC_BASELINE,
    MC_CSV,
    MC_CSV_METRICS,
    MC_PARQUET,
    MC_PARQUET_METRICS,
    MEMORY,
    MEMORY_10M,
    MEMORY_CLASSES,
    MEMORY_GROUPS,
    NO_METRICS,
    PEERS,
    SCALE,
    SCALE_1M,
    SCALE_10M,
    SCALE_BASELINE,
    STARTUP,
    Case,
    Expect,
    build_cases,
)

DEFAULT_DATA = HERE / "data"  # as in generate.py, which this runs as a process: see main()
DEFAULT_ROWS = 1_000_000
SKIPPED = "skipped (install with pip install -e '.[bench]')"
REL_TOL = 1e-6
UNITS = {"wall": "s", "rss": "MiB"}


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
    # (h) the memory bound: the metrics of 10M rows in parts, of 5,000 classes and of 20,000
    # --by groups take at most twice the peak RSS of the loss alone
    *(
        Target("(h)", (case, "lossctl"), (case, NO_METRICS), "rss", "<=", 2.0)
        for case in (MEMORY_10M, MEMORY_CLASSES, MEMORY_GROUPS)
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


def installed(command: str) -> bool:
    """Whether a peer's packages are importable (lossctl and the import line: always)."""
    return all(importlib.util.find_spec(module) for module in PEERS.get(command, ()))


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
        shown = "" if case.quiet else result.last_line[:40]  # help, a JSON report: no value
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
        default=[name for name in names if not name.startswith((SCALE, MEMORY))],
        metavar="CASE",
        help=f"cases to run (default all but {SCALE}* and {MEMORY}*): {', '.join(names)}",
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
    if any(name.startswith(SCALE) or name == MEMORY_10M for name in args.cases):
        generate.append("--scale")  # about 1 GB for the default rows: only when asked for
    if any(name in (MEMORY_CLASSES, MEMORY_GROUPS) for name in args.cases):
        generate.append("--memory")  # the 5,000-class and the 20,000-group files
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
