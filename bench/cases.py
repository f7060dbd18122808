"""The benchmark's cases: which commands each runs, on which files (see bench/README.md).

``run.py`` imports this module (it must stay small: no NumPy, see its ``main``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
PEERS = {
    "pandas_sklearn": ("pandas", "sklearn"),
    "polars_numpy": ("polars",),
    "duckdb_sql": ("duckdb",),
}
IMPORT_LINE = "import numpy, pyarrow.csv, typer, rich"
SCALE = "scale-"  # the cases on Parquet parts, whose data generate.py writes on request
#: The cases of the metrics' memory bound, whose data generate.py writes on request too
MEMORY = "memory-"
#: The bad value of mc_pred_bad.csv is this many rows before the last (as in generate.py,
#: which this does not import: see run.py's main()).
BAD_FROM_END = 4
GOOD = "good file"  # the same command on the file without the bad value

MC_CSV, MC_PARQUET, STARTUP = "mc-csv", "mc-parquet", "startup-eval"
SCALE_1M, SCALE_10M = f"{SCALE}1m", f"{SCALE}10m"
MC_BASELINE, SCALE_BASELINE = "mc-parquet-baseline", f"{SCALE}10m-baseline"
ALONE = "lossctl alone"  # the same run without --baseline
BAD_CASES = ("mc-csv-bad", "mc-csv-gz-bad", "mc-csv-stdin-bad")
MC_CSV_METRICS, MC_PARQUET_METRICS = "mc-csv-metrics", "mc-parquet-metrics"
NO_METRICS = "--no-metrics"  # the same run with the loss alone
MEMORY_10M, MEMORY_CLASSES, MEMORY_GROUPS = (
    f"{MEMORY}10m",
    f"{MEMORY}5000-classes",
    f"{MEMORY}20000-groups",
)


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
    quiet: bool = False  # its output is no value to show (--help, a JSON report)


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
        self,
        pred: Path | str,
        true: Path | str,
        *options: str,
        metrics: bool = False,
        form: str = "value",
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
            form,
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

    def memory_case(self, name: str, title: str, pred: str, true: str, *options: str) -> Case:
        """lossctl with every metric against the loss alone, the JSON report written: the
        memory that the metrics add (their sketches, confusion matrix, groups and tables)."""
        pred_path, true_path = self.data / pred, self.data / true
        commands = {
            flag: self.evaluate(pred_path, true_path, *options, metrics=metrics, form="json")
            for flag, metrics in (("lossctl", True), (NO_METRICS, False))
        }
        return Case(name, f"metrics vs --no-metrics, JSON: {title}", commands, quiet=True)


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
            quiet=True,
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
        make.memory_case(
            MEMORY_10M,
            f"multiclass x 10, {10 * rows:,} rows, parquet parts (10 and 4)",
            "mc10m_pred/*.parquet",
            "mc10m_true/*.parquet",
        ),
        make.memory_case(
            MEMORY_CLASSES,
            f"multiclass x 5,000, {rows // 50:,} rows, parquet",
            "many_pred.parquet",
            "many_true.parquet",
        ),
        make.memory_case(
            MEMORY_GROUPS,
            f"binary, {rows:,} rows, --by 20,000 groups, csv",
            "groups_pred.csv",
            "groups_true.csv",
            "--by",
            "group",
        ),
    ]
