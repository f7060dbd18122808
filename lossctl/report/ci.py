"""Renderers for CI systems: a Markdown summary and a JUnit XML document."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from lossctl.report.model import Report


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _cell(text: str) -> str:
    """File-derived text in a Markdown table cell: pipes and newlines escaped."""
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
    if report.baseline is not None:
        b = report.baseline
        lines += [
            "",
            "| | predictions | baseline | difference | 95% CI |",
            "| --- | ---: | ---: | ---: | --- |",
            f"| mean loss | {_fmt(b.mean_loss)} | {_fmt(b.baseline_mean_loss)} "
            f"| {b.difference:+.6g} ({b.difference_pct:+.3g}%) "
            f"| [{_fmt(b.ci_low)}, {_fmt(b.ci_high)}] |",
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
        lines += [
            "",
            f"| {_cell(report.inputs.by_column)} | samples | weight | mean loss |",
            "| --- | ---: | ---: | ---: |",
        ]
        for group in report.summary.by_groups:
            lines.append(
                f"| {_cell(group.name)} | {group.n_samples} | {_fmt(group.sum_weights)} "
                f"| {_fmt(group.mean_loss)} |"
            )
    for note in report.warnings:
        lines += ["", f"> {_cell(note)}"]
    return "\n".join(lines) + "\n"


def render_junit(report: Report) -> str:
    """One ``<testcase>`` per gate (or one for the evaluation when there is none).

    A failed gate carries ``<failure message="...">``; the losses are ``<properties>``.
    """
    gates = report.gates
    suite = ET.Element(
        "testsuite",
        name="lossctl",
        tests=str(max(len(gates), 1)),
        failures=str(sum(not g.passed for g in gates)),
        errors="0",
        skipped="0",
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
    ):
        ET.SubElement(properties, "property", name=name, value=value)
    if not gates:
        ET.SubElement(suite, "testcase", classname="lossctl.eval", name="evaluation")
    for gate in gates:
        case = ET.SubElement(suite, "testcase", classname="lossctl.gates", name=gate.name)
        if not gate.passed:
            failure = ET.SubElement(case, "failure", message=gate.message, type="GateFailed")
            failure.text = gate.message
    root = ET.Element("testsuites", name="lossctl", tests=suite.get("tests", "1"))
    root.set("failures", suite.get("failures", "0"))
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
