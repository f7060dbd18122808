"""Regressions from trying lossctl as a hostile user would: each case once gave a wrong
answer, an internal error (exit 3) or a misleading exit code."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import log_loss

import lossctl
from tests.cli.helpers import assert_input_error, run_eval

P = [0.9, 0.2, 0.3, 0.65]
Y = [1, 0, 0, 1]


def _write(path: Path, text: str | bytes) -> str:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def test_csv_ids_are_text(tmp_path: Path) -> None:
    preds = _write(tmp_path / "p.csv", "id,p\n007,0.9\n008,0.2\n")
    targets = _write(tmp_path / "t.csv", "id,y\n008,0\n007,1\n")
    result = run_eval(preds, targets, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith("007,")
    big = [str(12345678901234567890 + i) for i in range(3)]  # equal as float64
    preds = _write(tmp_path / "bp.csv", "id,p\n" + "".join(f"{i},0.5\n" for i in big))
    targets = _write(tmp_path / "bt.csv", "id,y\n" + "".join(f"{i},1\n" for i in big[::-1]))
    assert lossctl.evaluate(preds, targets).n_samples == 3


def test_class_names_written_as_numbers_match_numeric_columns(tmp_path: Path) -> None:
    preds = _write(tmp_path / "p.csv", "1,2,3\n0.7,0.2,0.1\n0.2,0.7,0.1\n0.6,0.3,0.1\n")
    as_text = tmp_path / "t.parquet"
    pd.DataFrame({"y": ["1.0", "2.0", "1.0"]}).to_parquet(as_text, index=False)
    as_numbers = _write(tmp_path / "t.csv", "y\n1.0\n2.0\n1.0\n")
    rows = [[0.7, 0.2, 0.1], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1]]
    expected = log_loss([0, 1, 0], rows, labels=[0, 1, 2])
    for targets in (str(as_text), as_numbers):
        assert lossctl.evaluate(preds, targets).mean_loss == pytest.approx(expected, rel=1e-12)


def test_partly_matching_target_names_are_refused(tmp_path: Path) -> None:
    preds = _write(tmp_path / "p.csv", "a,b,c\n0.5,0.3,0.2\n0.1,0.6,0.3\n")
    targets = _write(tmp_path / "t.csv", "b,a,x\n0,1,0\n0,1,0\n")
    assert_input_error(run_eval(preds, targets), "t.csv", "--pred-col", "--target-col")
    by_position = _write(tmp_path / "u.csv", "x,y,z\n1,0,0\n0,1,0\n")
    report = lossctl.evaluate(preds, by_position)
    assert any("paired by position: x->a, y->b, z->c" in r for r in report.reasons)


def test_one_column_as_multilabel() -> None:
    report = lossctl.evaluate(np.array(P), np.array(Y), task="multilabel")
    assert report.mean_loss == pytest.approx(log_loss(Y, P), rel=1e-12)


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (["--pred-col", "p", "--by", "p"], "--by"),
        (["--pred-col", "p", "--weight-col", "w", "--by", "w"], "--weight-col"),
    ],
)
def test_a_column_cannot_play_two_parts(tmp_path: Path, options: list[str], fragment: str) -> None:
    preds = _write(tmp_path / "p.csv", "p,w\n0.9,1\n0.2,2\n")
    targets = _write(tmp_path / "t.csv", "y\n1\n0\n")
    result = run_eval(preds, targets, *options)
    assert result.exit_code == 2
    assert fragment in result.stderr and "Traceback" not in result.stderr


def test_text_that_is_not_utf8_suggests_an_encoding(tmp_path: Path) -> None:
    targets = _write(tmp_path / "t.csv", "y\n1\n0\n")
    latin = _write(tmp_path / "l.csv", "pr\xe9diction\n0.9\n0.2\n".encode("latin-1"))
    assert_input_error(run_eval(latin, targets), "l.csv", "--encoding latin-1")
    assert run_eval(latin, targets, "--encoding", "latin-1").exit_code == 0
    utf16 = _write(tmp_path / "u.csv", "p\n0.9\n0.2\n".encode("utf-16"))
    assert_input_error(run_eval(utf16, targets), "u.csv", "--encoding utf-16")


def test_a_line_longer_than_a_read_block(tmp_path: Path) -> None:
    ident = "x" * 1_500_000  # pyarrow reads in blocks of 1 MiB
    preds = _write(tmp_path / "p.csv", f"id,p\n{ident},0.9\nb,0.2\n")
    targets = _write(tmp_path / "t.csv", f"id,y\nb,0\n{ident},1\n")
    assert lossctl.evaluate(preds, targets).mean_loss == pytest.approx(
        log_loss([1, 0], [0.9, 0.2]), rel=1e-12
    )


def test_outputs_get_the_usual_permissions(tmp_path: Path) -> None:
    preds = _write(tmp_path / "p.csv", "p\n0.9\n0.2\n")
    targets = _write(tmp_path / "t.csv", "y\n1\n0\n")
    out = tmp_path / "losses.csv"
    old = os.umask(0o022)
    try:
        assert run_eval(preds, targets, "--output", str(out)).exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


def test_step_summary_starts_on_a_new_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    preds = _write(tmp_path / "p.csv", "p\n0.9\n0.2\n")
    targets = _write(tmp_path / "t.csv", "y\n1\n0\n")
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert run_eval(preds, targets, "--step-summary").exit_code == 0
    assert summary.read_text(encoding="utf-8").startswith("earlier step\n### lossctl:")


def test_two_outputs_naming_one_file_are_refused(tmp_path: Path) -> None:
    preds = _write(tmp_path / "p.csv", "p\n0.9\n0.2\n")
    targets = _write(tmp_path / "t.csv", "y\n1\n0\n")
    out = str(tmp_path / "out.csv")
    result = run_eval(preds, targets, "--output", out, "--junit", out)
    assert result.exit_code == 2
    assert not Path(out).exists()


def test_a_closed_pipe_under_the_table_is_not_a_failed_gate(tmp_path: Path) -> None:
    rows = "".join(f"{v:.6f},{1 - v:.6f}\n" for v in np.linspace(0.01, 0.99, 300))
    preds = _write(tmp_path / "p.csv", "a,b\n" + rows)
    targets = _write(tmp_path / "t.csv", "y\n" + "".join(f"{i % 2}\n" for i in range(300)))
    child = subprocess.Popen(
        [sys.executable, "-m", "lossctl", "eval", preds, targets, "--head", "300"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "80"},
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.readline()
    child.stdout.close()
    stderr = child.stderr.read().decode()
    child.stderr.close()
    assert child.wait(timeout=60) == 0, stderr
    assert stderr == ""
