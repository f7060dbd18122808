"""Renderers for CI systems: a Markdown summary and a JUnit XML document.

The JUnit XML is valid against windyroad's JUnit.xsd (the JUnit-Schema repository),
which test-report readers follow: ``<testsuites>`` without attributes, one
``<testsuite>`` with ``id``, ``package``, ``hostname``, ``timestamp`` (no time zone;
UTC here) and ``time``, then ``<properties>``, the test cases, ``<system-out>`` and
``<system-err>``.
"""

from __future__ import annotations

import math
import os
import re
import socket
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lossctl.core.accumulate import GroupLoss
    from lossctl.report.model import Report

#: The most ``--by`` groups the Markdown summary lists (the highest mean loss first).
MAX_MARKDOWN_GROUPS = 100
#: The most characters of a file-derived name in a Markdown cell.
MAX_CELL = 200


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _cell(text: str) -> str:
    """File-derived text in a Markdown table cell: pipes and newlines escaped, and cut to
    ``MAX_CELL`` characters (a ``--by`` value may be a whole paragraph)."""
    if len(text) > MAX_CELL:
        text = text[: MAX_CELL - 1] + "…"
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Report) -> str:
    """Task, losses, gates, and the baseline difference with its interval, for a pull request."""
    verdict = "passed" if report.passed else "FAILED"
    lines = [
        f"### lossctl: {report.task} ({report.activation} + {report.loss}), gates {verdict}"
        if report.gates
        else f"### lossctl: {report.task} ({report.activation} + {report.loss})",
        "",
        "| | |",
        "| --- | --- |",
        f"| predictions | `{_cell(report.inputs.predictions)}` ({report.prediction_kind}) |",
        f"| targets | `{_cell(report.inputs.targets or report.inputs.predictions)}` |",
        f"| samples | {report.n_samples} |",
        f"| mean loss | **{_fmt(report.mean_loss)}**{' (weighted)' if report.weighted else ''} |",
        f"| null loss | {_fmt(report.null_loss)} |",
        f"| D^2 | {_fmt(report.d2)} |",
    ]
    if report.normalized_entropy is not None:
        lines.append(f"| normalized entropy | {_fmt(report.normalized_entropy)} |")
    if report.metrics is not None:
        lines += [
            f"| {name} | {'-' if value is None else _fmt(value)} |"
            for name, value in report.metrics.values.items()
        ]
    if report.baseline is not None:
        b = report.baseline
        lines += [
            "",
            "| | predictions | baseline | difference | 95% CI |",
            "| --- | ---: | ---: | ---: | --- |",
            f"| mean loss | {_fmt(b.mean_loss)} | {_fmt(b.baseline_mean_loss)} "
            f"| {b.difference:+.6g} ({b.difference_pct:+.3g}%) "
            f"| [{_fmt(b.ci_low)}, {_fmt(b.ci_high)}] |",
            *_metric_rows(report),
            "",
            f"Baseline `{_cell(report.inputs.baseline or '')}`; paired bootstrap over "
            f"{b.n_samples} rows, {b.n_bootstrap} resamples, seed {b.seed}.",
        ]
    if report.gates:
        lines += ["", "| gate | threshold | observed | result |", "| --- | ---: | ---: | --- |"]
        for gate in report.gates:
            result = "passed" if gate.passed else "**FAILED**"
            lines.append(
                f"| `{gate.name}` | {gate.threshold:g} | {_fmt(gate.observed)} | {result} |"
            )
    if report.inputs.by_column is not None:
        lines += _by_table(report.inputs.by_column, report.summary.by_groups)
    for note in report.warnings:
        lines += ["", f"> {_cell(note)}"]
    return "\n".join(lines) + "\n"


def _metric_rows(report: Report) -> list[str]:
    """The metrics of the predictions and of the baseline, in the baseline's table."""
    if report.metrics is None or report.baseline is None or report.baseline.metrics is None:
        return []
    rows, base = [], report.baseline.metrics.values
    for name, value in report.metrics.values.items():
        other = base.get(name)
        difference = "-" if value is None or other is None else f"{value - other:+.6g}"
        cells = ["-" if v is None else _fmt(v) for v in (value, other)]
        rows.append(f"| {name} | {cells[0]} | {cells[1]} | {difference} | |")
    return rows


def _by_table(column: str, groups: tuple[GroupLoss, ...]) -> list[str]:
    """The ``--by`` table: the ``MAX_MARKDOWN_GROUPS`` groups of highest mean loss, first,
    and a line saying how many were left out (a step summary must stay under 1 MiB)."""

    def worst_first(group: GroupLoss) -> tuple[bool, float]:
        return (math.isnan(group.mean_loss), -group.mean_loss)

    shown = sorted(groups, key=worst_first)[:MAX_MARKDOWN_GROUPS]
    lines = [
        "",
        f"| {_cell(column)} | samples | weight | mean loss |",
        "| --- | ---: | ---: | ---: |",
    ]
    for group in shown:
        lines.append(
            f"| {_cell(group.name)} | {group.n_samples} | {_fmt(group.sum_weights)} "
            f"| {_fmt(group.mean_loss)} |"
        )
    if len(groups) > len(shown):
        left_out = len(groups) - len(shown)
        lines += [
            "",
            f"The {len(shown)} groups of highest mean loss are shown; {left_out} more "
            f"{'was' if left_out == 1 else 'were'} left out (all are in the JSON report).",
        ]
    return lines


def render_junit(
    report: Report,
    *,
    elapsed: float | None = None,
    timestamp: datetime | None = None,
    hostname: str | None = None,
) -> str:
    """One ``<testcase>`` per gate (or one for the evaluation when there is none).

    A failed gate carries ``<failure message="..." type="GateFailed">``; the losses are
    ``<properties>``; ``<system-out>`` says what was decided and ``<system-err>`` holds the
    warnings and the failed gates' lines. ``elapsed`` (seconds) defaults to the time since
    the process started, ``timestamp`` to when that was, ``hostname`` to this machine's.
    """
    gates = report.gates
    suite, seconds = _testsuite(
        tests=max(len(gates), 1),
        failures=sum(not g.passed for g in gates),
        errors=0,
        elapsed=elapsed,
        timestamp=timestamp,
        hostname=hostname,
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("task", report.task),
        ("predictions", report.inputs.predictions),
        ("targets", report.inputs.targets or report.inputs.predictions),
        ("n_samples", str(report.n_samples)),
        ("mean_loss", repr(report.mean_loss)),
        ("null_loss", repr(report.null_loss)),
        ("d2", repr(report.d2)),
        ("version", report.version),
    ):
        ET.SubElement(properties, "property", name=name, value=value)
    if not gates:
        _testcase(suite, "lossctl.eval", "evaluation", seconds)
    for gate in gates:
        case = _testcase(suite, "lossctl.gates", gate.name, 0.0)
        if not gate.passed:
            failure = ET.SubElement(case, "failure", message=gate.message, type="GateFailed")
            failure.text = gate.message
    errors = [*report.warnings, *(g.message for g in gates if not g.passed)]
    return _document(suite, out=report.detection_text, err=errors)


def render_junit_error(
    message: str,
    kind: str = "InputError",
    *,
    elapsed: float | None = None,
    timestamp: datetime | None = None,
    hostname: str | None = None,
) -> str:
    """The JUnit document of a run that ended in error (exit 2): one ``<testcase>`` with an
    ``<error message="..." type="KIND">``, so that a report step run ``if: always()``
    shows why. The keywords are those of :func:`render_junit`."""
    suite, seconds = _testsuite(
        tests=1, failures=0, errors=1, elapsed=elapsed, timestamp=timestamp, hostname=hostname
    )
    ET.SubElement(suite, "properties")
    case = _testcase(suite, "lossctl.eval", "evaluation", seconds)
    error = ET.SubElement(case, "error", message=message, type=kind)
    error.text = message
    return _document(suite, out="", err=[message])


def _testsuite(
    *,
    tests: int,
    failures: int,
    errors: int,
    elapsed: float | None,
    timestamp: datetime | None,
    hostname: str | None,
) -> tuple[ET.Element, float]:
    seconds = max(0.0, process_seconds() if elapsed is None else elapsed)
    if timestamp is None:
        timestamp = datetime.now(timezone.utc) - timedelta(seconds=seconds)
    elif timestamp.tzinfo is not None:
        timestamp = timestamp.astimezone(timezone.utc)
    suite = ET.Element(
        "testsuite",
        name="lossctl",
        timestamp=timestamp.strftime("%Y-%m-%dT%H:%M:%S"),
        hostname=hostname or socket.gethostname() or "localhost",
        tests=str(tests),
        failures=str(failures),
        errors=str(errors),
        skipped="0",
        time=f"{seconds:.3f}",
        package="lossctl",
        id="0",
    )
    return suite, seconds


def _testcase(suite: ET.Element, classname: str, name: str, seconds: float) -> ET.Element:
    return ET.SubElement(suite, "testcase", name=name, classname=classname, time=f"{seconds:.3f}")


def _document(suite: ET.Element, *, out: str, err: list[str]) -> str:
    ET.SubElement(suite, "system-out").text = out + "\n" if out else ""
    ET.SubElement(suite, "system-err").text = "".join(line + "\n" for line in err)
    root = ET.Element("testsuites")
    root.append(suite)
    for element in root.iter():  # file-derived text may hold what XML cannot
        element.text = _xml_text(element.text) if element.text else element.text
        for name, value in element.attrib.items():
            element.set(name, _xml_text(value))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


#: Characters that XML 1.0 has no way to hold, even escaped (C0 controls but tab and
#: newlines, lone surrogates, U+FFFE and U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    """``text`` with each character XML cannot hold written as a Python escape (``\\x01``)."""
    return _NOT_XML.sub(lambda found: repr(found.group())[1:-1], text)


def process_seconds() -> float:
    """Wall seconds since this process started (from /proc on Linux), or 0.0 elsewhere.

    For the command line, this is the time the run has taken so far.
    """
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            started = int(f.read().rsplit(")", 1)[1].split()[19])  # field 22: starttime
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
        return max(0.0, uptime - started / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0.0
