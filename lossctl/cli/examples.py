"""The Examples section that ends each command's ``--help``, as gh's and httpie's do.

Each command's epilog is its examples: a ``#`` line says what the command below it
does, and ``$`` lines (continued by a trailing ``\\``) are the command, one that runs
from the repository's root on ``sample_data/``. It exits 0, unless its ``#`` line
says ``exit 1`` (a gate that fails on purpose); tests/cli/test_examples.py runs
every one. :class:`ExamplesHelp` prints them in a panel like Typer's own.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperCommand

ROOT = """\
# Evaluate predictions against targets: the task, the loss, and why
$ lossctl eval sample_data/multiclass_probs.csv \\
    sample_data/multiclass_labels.csv

# What eval would decide for these files, without computing losses
$ lossctl detect sample_data/binary_logits.csv sample_data/binary_labels.csv

# The tasks, activations and losses lossctl knows
$ lossctl losses
"""

EVAL = """\
# Evaluate: rows matched by the id column both files have
$ lossctl eval sample_data/multiclass_probs.csv \\
    sample_data/multiclass_labels.csv

# The mean loss alone, for a script
$ lossctl eval sample_data/binary_logits.csv sample_data/binary_labels.csv \\
    --format value

# Targets yes/no: name the positive class
$ lossctl eval sample_data/binary_probs.csv \\
    sample_data/binary_labels_yes_no.csv --pos-label yes

# Targets and weights from the predictions file itself, as JSON
$ lossctl eval sample_data/binary_single.csv --target-col churned \\
    --weight-col weight --format json

# Another loss, with its parameter; and PyTorch's numbers from probabilities
$ lossctl eval sample_data/regression_preds.csv \\
    sample_data/regression_targets.csv --loss huber --delta 0.5
$ lossctl eval sample_data/multiclass_edges.csv --target-col label \\
    --compat torch

# Per-sample losses to a file; the parts a glob matches read as one input
$ lossctl eval 'sample_data/multiclass_parts/*.parquet' \\
    sample_data/multiclass_labels.csv --output losses.parquet

# A CI gate that fails here (exit 1): the mean loss is above 0.8
$ lossctl eval sample_data/multiclass_probs.csv \\
    sample_data/multiclass_labels.csv --max-loss 0.8 \\
    --junit lossctl-junit.xml --markdown lossctl.md

# Against a baseline model: fail if the loss grows by more than 1%
$ lossctl eval sample_data/multiclass_probs.csv \\
    sample_data/multiclass_labels.csv \\
    --baseline sample_data/multiclass_baseline.csv --max-increase-pct 1

# CSV on standard input; the mean loss per value of a column
$ cat sample_data/multilabel_logits.csv | lossctl eval - \\
    sample_data/multilabel_labels.csv --by action
"""

DETECT = """\
# The task, the kind of predictions, the columns and the reasons
$ lossctl detect sample_data/binary_logits.csv sample_data/binary_labels.csv

# The same as JSON
$ lossctl detect sample_data/multilabel_probs.csv \\
    sample_data/multilabel_labels.csv --format json

# Targets and weights from the predictions file itself
$ lossctl detect sample_data/binary_single.csv --target-col churned \\
    --weight-col weight
"""

LOSSES = """\
# The --loss names, their tasks, activations, formulas and domains
$ lossctl losses

# The same as JSON
$ lossctl losses --format json
"""


def commands(examples: str) -> list[tuple[str, str]]:
    """``(what it does, the command as one line)`` for each example of an epilog."""
    found: list[tuple[str, str]] = []
    comment, command = "", ""
    for line in examples.splitlines():
        if line.startswith("#"):
            comment = line.lstrip("# ")
        elif line.startswith("$ ") or command:
            part = line.removeprefix("$ ").strip()
            command += part.removesuffix("\\").strip() + " "
            if not part.endswith("\\"):
                found.append((comment, command.strip()))
                command = ""
    return found


class ExamplesHelp:
    """Typer's help, then the epilog as an Examples panel in Typer's style.

    Without Rich help (``rich_markup_mode=None``), Click prints the epilog as text.
    """

    epilog: str | None

    def format_help(self, ctx: Any, formatter: Any) -> None:
        examples = self.epilog
        if not examples or getattr(self, "rich_markup_mode", None) is None:
            super().format_help(ctx, formatter)  # type: ignore[misc]
            return
        self.epilog = None
        try:
            super().format_help(ctx, formatter)  # type: ignore[misc]
        finally:
            self.epilog = examples
        _print_examples(examples)


def _print_examples(examples: str) -> None:
    from rich.panel import Panel
    from rich.text import Text
    from typer import rich_utils

    text = Text()
    for line in examples.rstrip().splitlines():
        style = "dim" if line.startswith("#") else "bold" if line.startswith("$") else ""
        text.append(line + "\n", style=style)
    text.rstrip()
    console = rich_utils._get_rich_console()
    console.print(Panel(text, border_style="dim", title="Examples", title_align="left"))


class ExamplesCommand(ExamplesHelp, TyperCommand):
    """A command whose ``--help`` ends with its examples (its epilog)."""
