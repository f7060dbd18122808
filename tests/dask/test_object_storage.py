"""Inputs in S3, read from a real S3 protocol server on 127.0.0.1 (moto's server mode):
files, globs and prefixes of parts give the report of the same files on disk, on both
engines; bad input is one line naming the URL, never a credential."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import lossctl
from lossctl.errors import (
    FileNotFound,
    MissingExtra,
    NoFileMatches,
    PartVanished,
    StorageUnreachable,
)
from tests.cli.helpers import assert_one_error_line, run_eval
from tests.dask.data import assert_same, task_frames, write_parts
from tests.dask.s3 import SECRET, s3_server, without_credentials

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("local")
    preds, targets = task_frames("multiclass", seed=1)
    write_parts(root, "p", preds)
    write_parts(root, "t", targets)
    for name in ("multiclass_probs.csv", "multiclass_labels.csv"):
        shutil.copy(SAMPLES / name, root / name)
    return root


@pytest.fixture(scope="module")
def bucket(local: Path) -> Iterator[str]:
    import boto3

    with pytest.MonkeyPatch.context() as monkeypatch, s3_server(monkeypatch):
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="models")
        for path in local.rglob("*.*"):
            s3.upload_file(str(path), "models", f"run/{path.relative_to(local)}")
        s3.put_object(Bucket="models", Key="run/p/_SUCCESS", Body=b"")
        yield "s3://models/run"


@pytest.fixture(autouse=True)
def _env(bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's endpoint and credentials, for each test (the fixture above set them
    while it started the server)."""
    import boto3

    endpoint = boto3.client("s3").meta.endpoint_url
    monkeypatch.setenv("AWS_ENDPOINT_URL", os.environ.get("AWS_ENDPOINT_URL", endpoint))


def test_parts_and_files_read_as_on_disk(bucket: str, local: Path) -> None:
    cols = {"pred_cols": ["a", "b", "c"]}
    on_disk = lossctl.evaluate(str(local / "p"), str(local / "t"), **cols).to_dict()
    for preds, targets in (
        (f"{bucket}/p/*.parquet", f"{bucket}/t"),
        (f"{bucket}/p/", f"{bucket}/t/"),
    ):
        remote = lossctl.evaluate(preds, targets, **cols).to_dict()
        assert remote["n_samples"] == on_disk["n_samples"]
        assert_same(on_disk["mean_loss"], remote["mean_loss"])
    csv = lossctl.evaluate(f"{bucket}/multiclass_probs.csv", f"{bucket}/multiclass_labels.csv")
    files = (local / "multiclass_probs.csv", local / "multiclass_labels.csv")
    assert csv.mean_loss == lossctl.evaluate(*map(str, files)).mean_loss


def test_the_dask_engine_reads_parts_in_s3(bucket: str, local: Path) -> None:
    args = [f"{bucket}/p", f"{bucket}/t", "--pred-col", "a,b,c", "--format", "value"]
    on_disk = run_eval(str(local / "p"), str(local / "t"), *args[2:])
    remote = run_eval(*args, "--engine", "dask")
    assert (remote.exit_code, remote.stderr) == (0, "")
    assert float(remote.stdout) == pytest.approx(float(on_disk.stdout), rel=1e-12)


@pytest.mark.parametrize(
    ("url", "error", "words"),
    [
        ("s3://models/run/nope.parquet", FileNotFound, "no such object"),
        ("s3://no-such-bucket/p.parquet", FileNotFound, "no such object"),
        ("s3://models/nothing/*.parquet", NoFileMatches, "no object of a type lossctl reads"),
    ],
)
def test_a_missing_object_is_one_line(bucket: str, url: str, error: Any, words: str) -> None:
    result = run_eval(url, f"{bucket}/t", "--pred-col", "a,b,c", "--debug")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines()[-1].startswith(f"lossctl: error: {url}: {words}")
    assert SECRET not in result.stderr  # not even with --debug's traceback
    with pytest.raises(error):
        lossctl.evaluate(url, f"{bucket}/t", pred_cols=["a", "b", "c"])


def test_an_unreachable_endpoint_names_the_url(
    bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    with pytest.raises(StorageUnreachable) as error:
        lossctl.evaluate(f"{bucket}/multiclass_probs.csv", f"{bucket}/multiclass_labels.csv")
    assert "s3://models/run/multiclass_" in str(error.value) and SECRET not in str(error.value)


def test_no_output_is_left_when_the_input_fails(bucket: str, tmp_path: Path) -> None:
    out = tmp_path / "losses.csv"
    result = run_eval(f"{bucket}/nope.csv", f"{bucket}/t", "--output", str(out))
    assert result.exit_code == 2 and os.listdir(tmp_path) == []


def test_without_the_extra_the_path_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "fsspec", None)
    with pytest.raises(MissingExtra) as error:
        lossctl.evaluate("s3://models/run/p.parquet", "s3://models/run/t.parquet")
    assert "pip install 'lossctl[s3]'" in str(error.value)


def test_the_debug_traceback_of_an_unreachable_endpoint_holds_no_secret(
    bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    url = f"{bucket}/multiclass_labels.csv"
    result = run_eval(f"{bucket}/multiclass_probs.csv", url, "--debug")
    assert (result.exit_code, result.stdout) == (2, "")
    assert "Traceback" in result.stderr and SECRET not in result.stderr
    last = result.stderr.splitlines()[-1]
    assert last.startswith(f"lossctl: error: {url}: the storage does not answer (")


def test_missing_credentials_are_one_line_without_the_secret(bucket: str) -> None:
    """In a process of its own (credentials are looked up once a process): the secret key
    without its key id, no credentials or config file, no instance metadata. botocore finds
    no credentials (NoCredentialsError); lossctl says so in one line, and the secret is
    never printed, not even in --debug's traceback."""
    env = without_credentials()
    url = f"{bucket}/multiclass_labels.csv"
    command = [sys.executable, "-m", "lossctl", "eval", f"{bucket}/multiclass_probs.csv", url]
    for debug in ([], ["--debug"]):
        done = subprocess.run(
            [*command, *debug],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert (done.returncode, done.stdout) == (2, "")
        assert SECRET not in done.stderr
        line = f"lossctl: error: {url}: access refused or no credentials (NoCredentialsError)"
        if debug:
            assert done.stderr.splitlines()[-1].startswith(line)
        else:
            assert_one_error_line(done.stderr, line)


def test_a_part_deleted_during_the_run_is_named(bucket: str, local: Path) -> None:
    """The progress hook of the Python API (told how far the reading has got) deletes the
    last part's object when first told: chunks of 10 rows, parts of 512 rows or more, so the
    reading has not reached it then (see tests/io/test_vanished_parts.py)."""
    import boto3

    s3 = boto3.client("s3")
    for path in sorted((local / "p").iterdir()):
        s3.upload_file(str(path), "models", f"vanish/p/{path.name}")
    last = "vanish/p/part-03.parquet"

    class DeletesTheLastPart:
        def start(self, total: int | None, unit: str, description: str) -> None:
            pass

        def update(self, done: int) -> None:
            s3.delete_object(Bucket="models", Key=last)

        def stop(self) -> None:
            pass

    with pytest.raises(PartVanished) as error:
        lossctl.evaluate(
            "s3://models/vanish/p/",
            pred_cols=["a"],
            target_cols=["b"],
            task="regression",
            chunk_rows=10,
            progress=DeletesTheLastPart(),
        )
    assert error.value.file == f"s3://models/{last}"
