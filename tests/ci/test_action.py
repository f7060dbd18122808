"""The GitHub Action (action.yml): it parses, it installs lossctl from this repository, and
its run step, executed as the runner would (bash -eo pipefail, the inputs in its env),
evaluates, gates, writes the JUnit file, the JSON report, the step summary and the outputs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ci.junit import read_junit
from tests.conftest import SAMPLE_DATA
from tests.report_schema import assert_valid

ACTION = Path(__file__).resolve().parent.parent.parent / "action.yml"
GATES = ["max-loss", "min-d2", "baseline", "max-increase", "max-increase-pct"]
MC = {
    "predictions": "sample_data/multiclass_probs.csv",
    "targets": "sample_data/multiclass_labels.csv",
}


def _action() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    return loaded


def _step(step_id: str | None = None, name: str | None = None) -> dict[str, Any]:
    for step in _action()["runs"]["steps"]:
        if (step_id and step.get("id") == step_id) or (name and step.get("name") == name):
            return dict(step)
    raise AssertionError(f"no step {step_id or name}")


def test_the_action_is_composite_with_inputs_for_the_files_and_every_gate() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite"
    inputs = action["inputs"]
    assert inputs["predictions"]["required"] is True
    for name in ["targets", *GATES, "args"]:
        assert inputs[name]["required"] is False and inputs[name]["default"] == "", name
    assert set(action["outputs"]) == {"exit-code", "mean-loss", "passed"}
    assert all(step["shell"] == "bash" for step in action["runs"]["steps"])


def test_the_action_installs_lossctl_from_its_own_checkout() -> None:
    script = _step(name="Install lossctl")["run"]
    assert "-m pip install" in script and '"${{ github.action_path }}"' in script
    assert "$GITHUB_PATH" in script


def test_the_inputs_reach_the_run_step_as_environment_variables_only() -> None:
    step = _step("eval")
    assert "${{" not in step["run"]  # no input is pasted into the shell text
    wired = {re.fullmatch(r"\$\{\{ inputs\.([a-z0-9-]+) \}\}", v) for v in step["env"].values()}
    assert None not in wired
    assert {found[1] for found in wired if found} == set(_action()["inputs"])


def _run_step(tmp_path: Path, **given: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run the eval step's script in a copy of sample_data/, as the runner would."""
    shutil.copytree(SAMPLE_DATA, tmp_path / "sample_data")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "lossctl").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m lossctl "$@"\n')
    (bindir / "lossctl").chmod(0o755)
    step, inputs = _step("eval"), _action()["inputs"]
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    env["GITHUB_OUTPUT"] = str(tmp_path / "outputs")
    env["GITHUB_STEP_SUMMARY"] = str(tmp_path / "summary.md")
    for variable, expression in step["env"].items():
        name = expression.removeprefix("${{ inputs.").removesuffix(" }}")
        env[variable] = given.get(name.replace("-", "_"), inputs[name].get("default", ""))
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done, tmp_path


def _outputs(directory: Path) -> dict[str, str]:
    lines = (directory / "outputs").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines)


def test_the_run_step_evaluates_and_passes_its_gates(tmp_path: Path) -> None:
    done, here = _run_step(
        tmp_path,
        **MC,
        baseline="sample_data/multiclass_baseline.csv",
        max_increase_pct="1",
        max_loss="0.9",
        args="--id id --by label",
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((here / "lossctl-report.json").read_text(encoding="utf-8"))
    assert_valid(report)
    assert report["by"] == "label" and [g["name"] for g in report["gates"]] == [
        "max_loss",
        "max_increase_pct",
    ]
    assert _outputs(here) == {
        "exit-code": "0",
        "mean-loss": repr(report["mean_loss"]),
        "passed": "true",
    }
    assert read_junit(here / "lossctl-junit.xml").tests == 2
    assert (here / "summary.md").read_text(encoding="utf-8").startswith("### lossctl: multiclass")


def test_the_run_step_fails_on_a_failed_gate(tmp_path: Path) -> None:
    done, here = _run_step(tmp_path, **MC, max_loss="0.5", min_d2="0.1")
    assert done.returncode == 1
    assert "gate max_loss failed" in done.stderr
    assert _outputs(here)["passed"] == "false"
    assert read_junit(here / "lossctl-junit.xml").failures == 1
    assert "gates FAILED" in (here / "summary.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "given",
    [{"predictions": "sample_data/missing.csv"}, {**MC, "args": "--task binomial"}],
    ids=["missing-file", "bad-option"],
)
def test_the_run_step_fails_on_bad_input_and_the_junit_file_says_why(
    tmp_path: Path, given: dict[str, str]
) -> None:
    done, here = _run_step(tmp_path, **given)
    assert done.returncode == 2
    assert _outputs(here) == {"exit-code": "2"}
    (case,) = read_junit(here / "lossctl-junit.xml")
    assert [type(result).__name__ for result in case.result] == ["Error"]
