"""Output files are whole or absent: after an error or Ctrl-C, no new file and no temporary
file is left (but for an input error's JUnit file, which says why), and an existing file is
untouched; a completed run (exit 0 or 1) writes them all.

Every option that writes a file is checked alike: add a new one to ``OUTPUTS``.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

import lossctl.report.table
from lossctl.io.atomic import atomic_path, deferred_renames
from tests.ci.junit import read_junit
from tests.cli.helpers import assert_input_error, assert_one_error_line, run_eval
from tests.robust.helpers import assert_untouched, snapshot

#: (option, the file it writes in the run's directory): each writer once
OUTPUTS = [
    ("--output", "losses.csv"),
    ("--output", "losses.parquet"),
    ("--junit", "junit.xml"),
    ("--markdown", "summary.md"),
]
#: every option that writes a file, at once (one --output)
ALL_OUTPUTS = ["--output", "losses.parquet", "--junit", "junit.xml", "--markdown", "summary.md"]


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "preds.csv").write_text("id,p\na1,0.1\na2,0.8\na3,0.3\n")
    (tmp_path / "targets.csv").write_text("id,y\na1,0\na2,1\na3,0\n")
    return tmp_path


def _fail_after_writing(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    """The files are written before the table is printed: make the printing fail."""

    def render_table(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(lossctl.report.table, "render_table", render_table)


@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
@pytest.mark.parametrize(("option", "name"), OUTPUTS, ids=[name for _, name in OUTPUTS])
def test_a_bug_after_the_files_were_written_leaves_none(
    here: Path, monkeypatch: pytest.MonkeyPatch, option: str, name: str, existing: bool
) -> None:
    if existing:
        (here / name).write_bytes(b"the old content\n")
    before = snapshot(here)
    _fail_after_writing(monkeypatch, RuntimeError("the table broke"))
    result = run_eval("preds.csv", "targets.csv", option, name)
    assert result.exit_code == 3, result.stderr
    assert_one_error_line(result.stderr, "the table broke", prefix="lossctl: internal error: ")
    assert_untouched(here, before)


def test_ctrl_c_after_every_file_was_written_leaves_none(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (here / "losses.csv").write_bytes(b"the old content\n")
    before = snapshot(here)
    _fail_after_writing(monkeypatch, KeyboardInterrupt())
    result = run_eval("preds.csv", "targets.csv", *ALL_OUTPUTS)
    assert result.exit_code == 130
    assert result.stderr == "lossctl: interrupted\n"
    assert_untouched(here, before)


def test_an_input_error_leaves_no_file_but_the_junit_one_that_says_why(here: Path) -> None:
    (here / "targets.csv").write_text("id,y\na1,0\na2,\na3,0\n")
    before = snapshot(here)
    assert_input_error(run_eval("preds.csv", "targets.csv", *ALL_OUTPUTS), "targets.csv")
    junit = here / "junit.xml"
    (case,) = read_junit(junit)
    assert [type(result).__name__ for result in case.result] == ["Error"]
    junit.unlink()
    assert_untouched(here, before)


@pytest.mark.parametrize("gate", [[], ["--max-loss", "0"]], ids=["passed", "failed-gate"])
def test_a_completed_run_writes_every_file(here: Path, gate: list[str]) -> None:
    result = run_eval("preds.csv", "targets.csv", *ALL_OUTPUTS, *gate, "--format", "value")
    assert result.exit_code == (1 if gate else 0), result.stderr
    written = sorted(set(snapshot(here)) - {"preds.csv", "targets.csv"})
    assert written == ["junit.xml", "losses.parquet", "summary.md"]


def test_no_space_left_is_an_input_error_and_leaves_no_file(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow.parquet as pq

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pq, "ParquetWriter", full)
    before = snapshot(here)
    line = assert_input_error(run_eval("preds.csv", "targets.csv", "--output", "losses.parquet"))
    assert line == (
        "lossctl: error: losses.parquet: cannot be written (No space left on device). Check "
        "that its directory is writable and has space"
    )
    assert_untouched(here, before)


def test_permissions_are_those_of_a_plain_write(here: Path) -> None:
    """mkstemp makes files readable by their owner alone: the output must not inherit that."""
    umask = os.umask(0o027)
    try:
        (here / "kept.csv").write_text("old\n")
        os.chmod(here / "kept.csv", 0o604)
        result = run_eval("preds.csv", "targets.csv", "-o", "new.csv", "--junit", "kept.csv")
    finally:
        os.umask(umask)
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE((here / "new.csv").stat().st_mode) == 0o640
    assert stat.S_IMODE((here / "kept.csv").stat().st_mode) == 0o604


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_directory_is_refused_before_any_work(here: Path) -> None:
    (here / "ro").mkdir()
    os.chmod(here / "ro", 0o555)
    try:
        line = assert_input_error(run_eval("preds.csv", "targets.csv", "-o", "ro/losses.csv"))
    finally:
        os.chmod(here / "ro", 0o755)
    assert "ro/losses.csv: the directory of --output is not writable" in line


# --------------------------------------------------------------------------- the mechanism


def _write(path: Path, text: str) -> Callable[[], None]:
    def write() -> None:
        with atomic_path(str(path)) as tmp:
            Path(tmp).write_text(text)

    return write


def test_atomic_path_alone_renames_at_once(tmp_path: Path) -> None:
    _write(tmp_path / "a.txt", "new")()
    assert (tmp_path / "a.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_deferred_renames_wait_for_commit(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("old")
    with deferred_renames() as renames:
        _write(tmp_path / "a.txt", "new a")()
        _write(tmp_path / "b.txt", "new b")()
        assert not (tmp_path / "a.txt").exists()
        assert (tmp_path / "b.txt").read_text() == "old"
        renames.commit()
    assert (tmp_path / "a.txt").read_text() == "new a"
    assert (tmp_path / "b.txt").read_text() == "new b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]


def test_deferred_renames_without_commit_leave_nothing(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("old")
    with pytest.raises(KeyboardInterrupt), deferred_renames():
        _write(tmp_path / "a.txt", "new a")()
        _write(tmp_path / "b.txt", "new b")()
        raise KeyboardInterrupt
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.txt"]
    assert (tmp_path / "b.txt").read_text() == "old"


def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError), atomic_path(str(tmp_path / "a.txt")) as tmp:
        Path(tmp).write_text("half")
        raise ValueError("the writer broke")
    assert list(tmp_path.iterdir()) == []
