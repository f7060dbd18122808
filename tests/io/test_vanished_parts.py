"""A part of a directory that disappears during the run (another job deletes it after
lossctl has listed the parts): exit 2, one line naming the part, and no output file.

The deletion must happen at a known point of the run, between the listing of the parts
and their reading, without reaching into lossctl. Two real hooks give that point:

- the command line: one part is a named pipe (lossctl reads pipes, copying them to a
  temporary file). lossctl lists the parts, opens each in turn, and waits on the pipe; the
  test's ``open`` of the pipe for writing returns only once lossctl has opened it for
  reading, so the parts are listed by then, and the ones before the pipe opened. The test
  deletes a part, then writes the pipe's rows.
- the Python API: ``progress``, the object that ``lossctl.evaluate`` tells how far the
  reading has got (the command line's progress bar), deletes the last part when first told.
  The chunks are of 10 rows and each part has 100, so the reading (at most a few chunks
  ahead of the computation) has not reached the last part then. (Parquet parts are closed
  after the listing and opened again when read; a CSV part is opened again at each pass.)
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TextIO

import pandas as pd
import pytest

import lossctl
from lossctl.errors import PartVanished
from tests.cli.helpers import assert_one_error_line

ROWS = "".join(f"0.{j % 9 + 1},{j % 2}\n" for j in range(100))


def _parts(root: Path, ext: str) -> Path:
    folder = root / "preds"
    folder.mkdir()
    for i in range(3):
        frame = pd.DataFrame({"p": [(j % 9 + 1) / 10 for j in range(100)], "y": [0, 1] * 50})
        if ext == "parquet":
            frame.to_parquet(folder / f"part-{i}.parquet", index=False)
        else:
            frame.to_csv(folder / f"part-{i}.csv", index=False)
    return folder


def _writer(fifo: Path, run: subprocess.Popen[str]) -> TextIO:
    """The named pipe opened for writing, once lossctl has opened it for reading (an open
    without a reader fails at once: tried again until lossctl opens it, or ends)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError as error:
            if error.errno != errno.ENXIO or run.poll() is not None:
                raise AssertionError(f"lossctl ended first: {run.communicate()}") from None
            assert time.monotonic() < deadline, "lossctl never read the pipe"
            time.sleep(0.02)
    os.set_blocking(fd, True)
    return os.fdopen(fd, "w")


@pytest.mark.parametrize("deleted", ["part-0.csv", "part-2.csv"], ids=["read", "not-yet-read"])
def test_the_command_line_names_the_part_and_writes_nothing(tmp_path: Path, deleted: str) -> None:
    """part-1.csv is a named pipe: part-0.csv was opened (its header read) before lossctl
    waits on it, part-2.csv was not; either deleted then is a part that vanished."""
    folder = _parts(tmp_path, "csv")
    (folder / "part-1.csv").unlink()
    os.mkfifo(folder / "part-1.csv")
    out = tmp_path / "losses.parquet"
    command = [sys.executable, "-m", "lossctl", "eval", "preds", "--target-col", "y"]
    run = subprocess.Popen(
        [*command, "--output", str(out), "--format", "value"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with _writer(folder / "part-1.csv", run) as pipe:  # once lossctl reads it
            (folder / deleted).unlink()
            pipe.write("p,y\n" + ROWS)
        stdout, stderr = run.communicate(timeout=60)
    finally:
        run.kill()
    assert (run.returncode, stdout) == (2, "")
    assert_one_error_line(
        stderr, f"lossctl: error: preds/{deleted}: was deleted during the run (it was listed"
    )
    assert sorted(os.listdir(tmp_path)) == ["preds"]  # no output, no temporary file


@pytest.mark.parametrize("ext", ["parquet", "csv"])
def test_the_python_api_names_the_part_and_writes_nothing(tmp_path: Path, ext: str) -> None:
    folder = _parts(tmp_path, ext)
    last = folder / f"part-2.{ext}"

    class DeletesTheLastPart:
        def start(self, total: int | None, unit: str, description: str) -> None:
            pass

        def update(self, done: int) -> None:
            last.unlink(missing_ok=True)

        def stop(self) -> None:
            pass

    out = tmp_path / "losses.csv"
    with pytest.raises(PartVanished) as error:
        lossctl.evaluate(
            str(folder),
            target_cols=["y"],
            chunk_rows=10,
            output=str(out),
            progress=DeletesTheLastPart(),
        )
    assert error.value.file == str(last)
    assert sorted(os.listdir(tmp_path)) == ["preds"]


def test_a_part_that_stays_gives_its_own_error(tmp_path: Path) -> None:
    """The check is whether the part is gone: a part that is there and wrong is named for
    what is wrong with it."""
    folder = _parts(tmp_path, "csv")
    (folder / "part-2.csv").write_text("p,y\n0.5,0\n0.5,\n")
    with pytest.raises(lossctl.errors.MissingValue) as error:
        lossctl.evaluate(str(folder), target_cols=["y"])
    assert error.value.file == str(folder / "part-2.csv")
