"""Inputs in S3, read from a real S3 protocol server on 127.0.0.1 (moto's server mode):
files, globs and prefixes of parts give the report of the same files on disk, on both
engines; bad input is one line naming the URL, never a credential."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import lossctl
from lossctl.errors import FileNotFound, MissingExtra, NoFileMatches, StorageUnreachable
from tests.cli.helpers import run_eval
from tests.dask.data import assert_same, task_frames, write_parts
from tests.dask.s3 import SECRET, s3_server

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
