"""``lossctl eval``: build the options, evaluate, render the report, return its exit code."""

from __future__ import annotations

import itertools
import os
import sys
from enum import Enum
from typing import TYPE_CHECKING, Any

from lossctl.cli.app import app, error_line, silence_stdout, stdout_console
from lossctl.cli.examples import EVAL, ExamplesCommand
from lossctl.cli.options import (
    API_NAMES,
    Alpha,
    Baseline,
    Beta,
    Bins,
    Bootstrap,
    By,
    ChunkRows,
    ClassWeight,
    Compat,
    CompatChoice,
    Debug,
    Delta,
    DropMissing,
    Encoding,
    Engine,
    EngineChoice,
    Eps,
    Format,
    FromLogits,
    FromProbs,
    Gamma,
    Head,
    HtmlReport,
    IdCol,
    Junit,
    LabelReduction,
    LabelSmoothing,
    Loss,
    Markdown,
    MaxAccuracyDrop,
    MaxAucDrop,
    MaxBrier,
    MaxEce,
    MaxIncrease,
    MaxIncreasePct,
    MaxLoss,
    MinAccuracy,
    MinAuc,
    MinD2,
    NoHeader,
    NoId,
    NoMetrics,
    NoProgress,
    Output,
    OutputFormat,
    PosLabel,
    PosWeight,
    Power,
    PredCol,
    Predictions,
    Quantile,
    Scheduler,
    Seed,
    StepSummary,
    TargetCol,
    Targets,
    Task,
    TaskChoice,
    Threshold,
    TopK,
    WeightCol,
    Worst,
    prediction_kind,
)
from lossctl.core.defaults import DEFAULT_CHUNK_ROWS, DEFAULT_EPS
from lossctl.errors import OutputClash

if TYPE_CHECKING:
    from lossctl.options import EvalOptions
    from lossctl.report.model import Report

#: Parameters of the command that are not options of the evaluation.
NOT_OPTIONS = {
    "predictions",
    "targets",
    "from_probs",
    "output_format",
    "output",
    "junit",
    "markdown",
    "report_file",
    "step_summary",
    "no_progress",
    "debug",
    "no_metrics",
}


@app.command("eval", no_args_is_help=True, cls=ExamplesCommand, epilog=EVAL)
def eval_command(
    predictions: Predictions,
    targets: Targets = None,
    task: Task = TaskChoice.auto,
    from_logits: FromLogits = False,
    from_probs: FromProbs = False,
    pred_col: PredCol = None,
    target_col: TargetCol = None,
    pos_label: PosLabel = None,
    weight_col: WeightCol = None,
    id_col: IdCol = None,
    no_id: NoId = False,
    by: By = None,
    encoding: Encoding = "utf-8",
    no_header: NoHeader = False,
    drop_missing: DropMissing = False,
    eps: Eps = DEFAULT_EPS,
    label_reduction: LabelReduction = None,
    compat: Compat = CompatChoice.sklearn,
    loss: Loss = None,
    delta: Delta = None,
    beta: Beta = None,
    quantile: Quantile = None,
    power: Power = None,
    gamma: Gamma = None,
    alpha: Alpha = None,
    pos_weight: PosWeight = None,
    label_smoothing: LabelSmoothing = None,
    class_weight: ClassWeight = None,
    chunk_rows: ChunkRows = DEFAULT_CHUNK_ROWS,
    engine: Engine = EngineChoice.local,
    scheduler: Scheduler = None,
    output_format: OutputFormat = Format.table,
    output: Output = None,
    report_file: HtmlReport = None,
    junit: Junit = None,
    markdown: Markdown = None,
    step_summary: StepSummary = False,
    head: Head = 10,
    worst: Worst = 5,
    max_loss: MaxLoss = None,
    min_d2: MinD2 = None,
    min_accuracy: MinAccuracy = None,
    min_auc: MinAuc = None,
    max_ece: MaxEce = None,
    max_brier: MaxBrier = None,
    baseline: Baseline = None,
    max_increase: MaxIncrease = None,
    max_increase_pct: MaxIncreasePct = None,
    max_accuracy_drop: MaxAccuracyDrop = None,
    max_auc_drop: MaxAucDrop = None,
    bootstrap: Bootstrap = 1000,
    seed: Seed = 0,
    no_metrics: NoMetrics = False,
    threshold: Threshold = 0.5,
    top_k: TopK = None,
    bins: Bins = 15,
    no_progress: NoProgress = False,
    debug: Debug = False,
) -> int:
    """Evaluate PREDICTIONS against TARGETS and report per-sample and mean loss.

    Exit status: 0 evaluated (gates passed), 1 a gate failed, 2 usage or input
    error, 3 internal error (a bug).
    """
    options = _options(dict(locals()))  # first: the parameters, and nothing else
    files = {"--output": output, "--junit": junit, "--markdown": markdown, "--report": report_file}
    return _run(predictions, targets, options, output_format, files, step_summary, no_progress)


def _run(
    predictions: str,
    targets: str | None,
    options: EvalOptions,
    output_format: Format,
    files: dict[str, str | None],
    step_summary: bool,
    no_progress: bool,
) -> int:
    """Evaluate, write the files asked for, render the report; return the exit code."""
    import gc
    import tempfile

    from lossctl.cli.progress import ProgressBar
    from lossctl.engine import evaluate
    from lossctl.report.render import RENDERERS, Out

    summary_path = os.environ.get("GITHUB_STEP_SUMMARY") or None if step_summary else None
    if files.get("--report") is not None:
        from lossctl.report.html import check_report_path

        check_report_path(files["--report"])  # type: ignore[arg-type]
    inputs = [predictions, targets, options.baseline]
    _check_outputs({**files, "--step-summary": summary_path}, inputs)
    output = files["--output"]
    # Per-sample CSV for stdout is written aside and printed once the run is complete.
    spool = tempfile.TemporaryFile() if output_format is Format.csv else None  # noqa: SIM115
    # What the imports made lives as long as the process: out of the collector's sight, a
    # full collection does not walk it again every time a chunk's objects trigger one
    # (a third of the time of a 5,000-class file went there).
    gc.freeze()
    try:
        report = evaluate(
            predictions,
            targets,
            options=options,
            output=[d for d in (output, spool) if d is not None],
            keep_losses=False,
            progress=ProgressBar() if ProgressBar.wanted(no_progress) else None,
        )
        _write_files(report, files["--junit"], files["--markdown"], summary_path)
        if files.get("--report") is not None:
            report.to_html(files["--report"])  # type: ignore[arg-type]
        try:
            RENDERERS[output_format.value](report, Out(sys.stdout, stdout_console, spool))
            sys.stdout.flush()
        except BrokenPipeError:
            silence_stdout()  # the reader (`| head`) has what it wanted; the exit code stands
    finally:
        if spool is not None:
            spool.close()
    for gate in report.gates:
        if not gate.passed:
            error_line(gate.message)
    return int(report.exit_code)


def _options(params: dict[str, Any]) -> EvalOptions:
    """The command's parameters as the library's :class:`~lossctl.options.EvalOptions`."""
    from lossctl.options import EvalOptions

    values = {
        API_NAMES.get(name, name): value.value if isinstance(value, Enum) else value
        for name, value in params.items()
        if name not in NOT_OPTIONS
    }
    values["from_logits"] = prediction_kind(params["from_logits"], params["from_probs"])
    values["metrics"] = not params["no_metrics"]
    if params["output_format"] is not Format.table:
        values["head"] = 0  # only the table shows the first rows
    return EvalOptions.build(**values)


def _check_outputs(files: dict[str, str | None], inputs: list[str | None]) -> None:
    """Before any work: no output replaces an input or another output."""
    from lossctl.io.writers import check_output

    named = [(option, path) for option, path in files.items() if path is not None]
    for option, path in named:
        check_output(path, [name for name in inputs if name], option)
    for (first, a), (second, b) in itertools.combinations(named, 2):
        if os.path.realpath(a) == os.path.realpath(b):
            raise OutputClash(f"{first} and {second} name the same file", file=a)


def _write_files(
    report: Report, junit: str | None, markdown: str | None, summary: str | None
) -> None:
    from lossctl.io.writers import write_text
    from lossctl.report.render import FILE_RENDERERS

    for name, file in (("junit", junit), ("markdown", markdown)):
        if file is not None:
            write_text(file, FILE_RENDERERS[name](report))
    if summary:
        write_text(summary, FILE_RENDERERS["markdown"](report), append=True)
