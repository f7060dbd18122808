"""Time lossctl against named peers, each command a whole process; print ratios.

    python bench/run.py [--repeat 3] [--rows 1000000] [--cases mc-csv startup-eval ...]
                        [--lossctl "CMD"]

See bench/README.md for what is measured and how to read the output.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import resource
import shlex
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


class Target(NamedTuple):
    tag: str
    case: str
    numerator: str  # command names: the ratio is numerator / denominator
    denominator: str
    measure: str  # "wall" or "rss"
    op: str  # "<=" or ">="
    limit: float


TARGETS = [  # (a) multiclass CSV vs the peers, (b) start-up on 1,000 rows
    Target("(a)", "mc-csv", "lossctl", "polars_numpy", "wall", "<=", 1.3),
    Target("(a)", "mc-csv", "pandas_sklearn", "lossctl", "wall", ">=", 2.5),
    Target("(a)", "mc-csv", "lossctl", "polars_numpy", "rss", "<=", 1.0),
    Target("(b)", "startup-eval", "lossctl", "import line", "wall", "<=", 2.0),
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

    def add_run(self, cmd: list[str]) -> None:
        """Run ``cmd`` once to completion, timing it and taking its peak RSS from wait4."""
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            start = time.perf_counter()
            try:
                proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
            except OSError as exc:
                self.error = f"failed: {exc}"
                return
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4 already
            out.seek(0)
            err.seek(0)
            self.output = out.read().decode(errors="replace")
            if proc.returncode != 0:
                lines = err.read().decode(errors="replace").strip().splitlines() or [""]
                self.error = f"failed (exit {proc.returncode}): {lines[-1][:100]}"
                return
        self.walls.append(wall)
        self.rss_kib = max(self.rss_kib, usage.ru_maxrss)  # KiB on Linux


@dataclass
class Case:
    name: str
    title: str
    commands: dict[str, list[str]]


def installed(command: str) -> bool:
    """Whether a peer's packages are importable (lossctl and the import line: always)."""
    return all(importlib.util.find_spec(module) for module in PEERS.get(command, ()))


def build_cases(data: Path, rows: int, lossctl: list[str]) -> list[Case]:
    py = sys.executable

    def peer(script: str, task: str, pred: Path, true: Path) -> list[str]:
        return [py, str(HERE / "peers" / f"{script}.py"), "--task", task, str(pred), str(true)]

    def evaluate(pred: Path, true: Path) -> list[str]:
        return [*lossctl, "eval", str(pred), str(true), "--id", "id", "--format", "value"]

    def loss_case(name: str, title: str, task: str, prefix: str, ext: str = "csv") -> Case:
        pred, true = data / f"{prefix}_pred.{ext}", data / f"{prefix}_true.{ext}"
        commands = {"lossctl": evaluate(pred, true)}
        commands |= {script: peer(script, task, pred, true) for script in PEERS}
        return Case(name, f"{title}, {rows:,} rows, {ext}", commands)

    imports = [py, "-c", IMPORT_LINE]
    return [
        loss_case("mc-csv", "multiclass x 10", "multiclass", "mc"),
        loss_case("mc-parquet", "multiclass x 10", "multiclass", "mc", "parquet"),
        loss_case("binary", "binary", "binary", "bin"),
        loss_case("multilabel", "multilabel x 5", "multilabel", "ml"),
        loss_case("regression", "regression", "regression", "reg"),
        Case(
            "startup-eval",
            "start-up: 1,000-row multiclass eval vs importing the stack",
            {
                "lossctl": evaluate(data / "small_pred.csv", data / "small_true.csv"),
                "import line": imports,
            },
        ),
        Case(
            "startup-help",
            "start-up: lossctl --help vs importing the stack",
            {"lossctl": [*lossctl, "--help"], "import line": imports},
        ),
    ]


def run_case(case: Case, repeat: int) -> dict[str, Result]:
    """Run every command ``repeat`` times, round-robin so that drift hits all alike."""
    results = {name: Result() for name in case.commands if installed(name)}
    for _ in range(repeat):
        for name, result in results.items():
            if not result.error:
                result.add_run(case.commands[name])
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
    for t in TARGETS:
        label = f"{t.tag} {t.case}: {t.numerator} / {t.denominator} {t.measure} {t.op} {t.limit}"
        results = all_results.get(t.case, {})
        a, b = results.get(t.numerator), results.get(t.denominator)
        if a is None or b is None or not (a.ok and b.ok):
            print(f"n/a   {label}  (case not run, or a command skipped or failed)")
            continue
        ratio = getattr(a, t.measure) / getattr(b, t.measure)
        passed = ratio >= t.limit if t.op == ">=" else ratio <= t.limit
        print(f"{'PASS' if passed else 'FAIL':<6}{label}  (measured {ratio:.2f})")


def main() -> None:
    names = [case.name for case in build_cases(Path(), 0, [])]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per command (default 3)")
    parser.add_argument(
        "--rows", type=int, default=DEFAULT_ROWS, help="rows in the large files (default 1,000,000)"
    )
    parser.add_argument(
        "--cases",
        nargs="+",
        choices=names,
        default=names,
        metavar="CASE",
        help=f"cases to run (default all): {', '.join(names)}",
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
    generate = [sys.executable, str(HERE / "generate.py"), "--out", str(data), "--rows"]
    subprocess.run([*generate, str(args.rows)], check=True)
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f}, median of {args.repeat} runs, data in {data}, "
        f"RSS floor {floor:.0f} MiB"
    )
    print("wall s: median wall time; peak MiB: max peak RSS; ratios: lossctl / peer (< 1: better)")
    all_results: dict[str, dict[str, Result]] = {}
    for case in build_cases(data, args.rows, shlex.split(args.lossctl)):
        if case.name in args.cases:
            all_results[case.name] = run_case(case, args.repeat)
            print_case(case, all_results[case.name])
    print_targets(all_results, args.rows)


if __name__ == "__main__":
    main()
