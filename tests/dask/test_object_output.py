"""--output in S3, written to a real S3 protocol server on 127.0.0.1 (moto's server mode).

The local engine uploads one object once the command has completed: the same rows as a
local --output, and none after a failure. The dask engine's workers upload one part per
partition under the prefix and the client writes _SUCCESS last; a failure leaves neither
parts nor _SUCCESS, even a part that another worker was still writing. Existing outputs and
bad URLs are refused before any work, in one line that names the URL and no secret.

Dask is a test dependency: these tests run wherever the tests do, never skipped."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import distributed
import numpy as np
import pandas as pd
import pytest

import lossctl.report.table
from tests.cli.helpers import assert_input_error, assert_one_error_line, run_eval
from tests.dask.conftest import local_cluster
from tests.dask.data import task_frames, write_parts
from tests.dask.s3 import SECRET, s3_server, without_credentials, written

BUCKET = "scores"
COLS = ["--pred-col", "p", "--target-col", "y"]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    import boto3

    with pytest.MonkeyPatch.context() as monkeypatch, s3_server(monkeypatch) as endpoint:
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        yield endpoint


@pytest.fixture(scope="module")
def client(server: str) -> Iterator[distributed.Client]:
    """A cluster of two worker processes, started with the server's endpoint and
    credentials in their environment (as a real cluster's workers have their own)."""
    with local_cluster() as client:
        yield client


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Binary parts: good ones, ones with a missing value in the last part, and a large
    first part beside a small bad one."""
    root = tmp_path_factory.mktemp("inputs")
    preds, targets = task_frames("binary", seed=7)
    found = {"p": write_parts(root, "p", preds), "t": write_parts(root, "t", targets)}
    preds[3].loc[4, "p"] = np.nan
    found["bad_p"] = write_parts(root, "bad_p", preds)
    rng = np.random.default_rng(8)
    n = 2_000_000
    slow = [pd.DataFrame({"p": rng.uniform(0, 1, n)}), pd.DataFrame({"p": ["high", "low"]})]
    found["slow_p"] = write_parts(root, "slow_p", slow)
    labels = [pd.DataFrame({"y": rng.integers(0, 2, n)}), pd.DataFrame({"y": [0, 1]})]
    found["slow_t"] = write_parts(root, "slow_t", labels)
    return found


@pytest.fixture
def prefix(server: str) -> str:
    """A prefix of its own for each test."""
    return f"s3://{BUCKET}/{uuid.uuid4().hex[:12]}"


def objects(url: str) -> dict[str, Any]:
    """The objects under a URL's key, by name below it, with the time each was stored."""
    key = url.partition(f"s3://{BUCKET}/")[2]
    return {k[len(key) + 1 :]: t for k, t in written(BUCKET, key + "/").items()}


def download(url: str, tmp_path: Path) -> Path:
    import boto3

    path = tmp_path / "download" / url.rsplit("/", 1)[1]
    path.parent.mkdir(exist_ok=True)
    boto3.client("s3").download_file(BUCKET, url.partition(f"s3://{BUCKET}/")[2], str(path))
    return path


def read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


# ------------------------------------------------------------------------ local engine


@pytest.mark.parametrize("name", ["losses.csv", "losses.parquet", "losses.csv.gz"])
def test_one_object_with_the_rows_of_a_local_output(
    inputs: dict[str, str], prefix: str, tmp_path: Path, name: str
) -> None:
    args = [inputs["p"], inputs["t"], *COLS, "--format", "value"]
    local = run_eval(*args, "--output", str(tmp_path / name))
    remote = run_eval(*args, "--output", f"{prefix}/{name}")
    assert (remote.exit_code, remote.stderr, remote.stdout) == (0, "", local.stdout)
    assert list(objects(prefix)) == [name]
    got = read(download(f"{prefix}/{name}", tmp_path))
    pd.testing.assert_frame_equal(got, read(tmp_path / name))
    assert len(got) == 3_412


def test_nothing_is_uploaded_unless_the_command_completes(
    inputs: dict[str, str], prefix: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The losses are written before the table is printed: a failure there leaves no new
    object, and an existing one as it was; a complete run replaces it."""
    import boto3

    key = prefix.partition(f"s3://{BUCKET}/")[2] + "/losses.csv"
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=b"the old content\n")

    def render_table(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the table broke")

    with monkeypatch.context() as patch:
        patch.setattr(lossctl.report.table, "render_table", render_table)
        failed = run_eval(inputs["p"], inputs["t"], *COLS, "--output", f"{prefix}/losses.csv")
        fresh = run_eval(inputs["p"], inputs["t"], *COLS, "--output", f"{prefix}/new.csv")
    assert (failed.exit_code, fresh.exit_code) == (3, 3)
    assert list(objects(prefix)) == ["losses.csv"]
    assert download(f"{prefix}/losses.csv", tmp_path).read_bytes() == b"the old content\n"
    done = run_eval(inputs["p"], inputs["t"], *COLS, "--output", f"{prefix}/losses.csv")
    assert done.exit_code == 0
    assert len(read(download(f"{prefix}/losses.csv", tmp_path))) == 3_412


def test_a_junit_file_in_s3_is_written_for_a_failed_gate(
    inputs: dict[str, str], prefix: str, tmp_path: Path
) -> None:
    args = [*COLS, "--max-loss", "0.1", "--junit", f"{prefix}/junit.xml"]
    result = run_eval(inputs["p"], inputs["t"], *args)
    assert result.exit_code == 1
    assert b"max_loss" in download(f"{prefix}/junit.xml", tmp_path).read_bytes()


# ------------------------------------------------------------------------- dask engine


def run_dask(client: distributed.Client, *args: str) -> Any:
    address = client.scheduler_info()["address"]
    return run_eval(*args, "--engine", "dask", "--scheduler", address)


def test_the_workers_write_parts_and_success_comes_last(
    inputs: dict[str, str], client: distributed.Client, prefix: str, tmp_path: Path
) -> None:
    local = run_eval(inputs["p"], inputs["t"], *COLS, "--output", str(tmp_path / "l.parquet"))
    out = f"{prefix}/scored.parquet"
    result = run_dask(client, inputs["p"], inputs["t"], *COLS, "--output", out)
    assert (local.exit_code, result.exit_code, result.stderr) == (0, 0, "")
    stored = objects(out)
    parts = [f"part-{i:05d}.parquet" for i in range(4)]
    assert sorted(stored) == ["_SUCCESS", *parts]
    assert stored["_SUCCESS"] > max(stored[part] for part in parts)
    rows = pd.concat([read(download(f"{out}/{part}", tmp_path)) for part in parts])
    whole = read(tmp_path / "l.parquet")
    np.testing.assert_allclose(rows["loss"].to_numpy(), whole["loss"].to_numpy(), rtol=1e-12)


def test_parts_written_are_deleted_if_the_command_does_not_complete(
    inputs: dict[str, str], client: distributed.Client, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every part is written before the table is printed: a failure there leaves no part
    and no _SUCCESS."""

    def render_table(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the table broke")

    monkeypatch.setattr(lossctl.report.table, "render_table", render_table)
    out = f"{prefix}/scored.csv"
    assert run_dask(client, inputs["p"], inputs["t"], *COLS, "--output", out).exit_code == 3
    assert objects(out) == {}


def test_a_run_that_fails_midway_leaves_no_part_and_no_success(
    inputs: dict[str, str], client: distributed.Client, prefix: str
) -> None:
    out = f"{prefix}/scored.csv"
    result = run_dask(client, inputs["bad_p"], inputs["t"], *COLS, "--output", out)
    assert_input_error(result, "part-03.parquet, column 'p', row 5")
    assert objects(out) == {}


def test_a_part_still_being_written_when_another_fails_is_deleted_too(
    inputs: dict[str, str], client: distributed.Client, prefix: str
) -> None:
    """Partition 1 fails on the worker at its first row ('high' is not a number) while
    partition 0 (two million rows) is still being written on the other: the run waits for
    it before deleting the parts. A task of each worker's one thread, run after the
    failure, starts once partition 0's is over: by then a part not waited for would be
    there."""
    run_dask(client, inputs["p"], inputs["t"], *COLS)  # (the workers have imported lossctl)
    out = f"{prefix}/scored.csv"
    result = run_dask(client, inputs["slow_p"], inputs["slow_t"], *COLS, "--output", out)
    assert_input_error(result, "part-01.parquet, column 'p', row 1: 'high' is not a number")
    workers = list(client.scheduler_info()["workers"])
    assert len(workers) == 2
    after = [client.submit(time.monotonic, workers=[w], pure=False) for w in workers]
    client.gather(after)
    assert objects(out) == {}


def test_an_existing_output_is_refused_before_any_work(
    inputs: dict[str, str], client: distributed.Client, prefix: str, tmp_path: Path
) -> None:
    """Local: an existing file is replaced, a directory refused; the dask engine, which
    writes a directory of parts, refuses both. In S3 alike: an object, a prefix."""
    import boto3

    key = prefix.partition(f"s3://{BUCKET}/")[2]
    boto3.client("s3").put_object(Bucket=BUCKET, Key=f"{key}/old.csv", Body=b"x\n")
    boto3.client("s3").put_object(Bucket=BUCKET, Key=f"{key}/dir.csv/part-00000.csv", Body=b"")
    (tmp_path / "old.csv").write_text("x\n")
    args = [inputs["p"], inputs["t"], *COLS, "--output"]
    directory = "--output names a prefix that holds objects (a directory). Give the name"
    for result, words in [
        (run_eval(*args, f"{prefix}/dir.csv"), directory),
        (run_dask(client, *args, f"{prefix}/dir.csv"), directory),
        (
            run_dask(client, *args, f"{prefix}/old.csv"),
            f"{prefix}/old.csv: --output names an object, where the dask engine would write",
        ),
        (
            run_dask(client, *args, str(tmp_path / "old.csv")),
            "old.csv: --output names a file, where the dask engine would write a directory",
        ),
    ]:
        assert_input_error(result, words)
    assert sorted(objects(prefix)) == ["dir.csv/part-00000.csv", "old.csv"]
    assert os.listdir(tmp_path) == ["old.csv"]


# ----------------------------------------------------------------------- bad outputs


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("s3://no-such-bucket/losses.csv", "the bucket of --output does not exist. Create it"),
        ("https://example.org/losses.csv", "--output cannot write to a web server. Write to"),
        (f"s3://{BUCKET}/in/p/scored.csv", "--output would be read as a part of 's3://"),
        (f"s3://{BUCKET}/in/p", "unsupported output type"),
    ],
)
def test_a_bad_output_url_is_one_line_before_any_work(url: str, words: str) -> None:
    import boto3

    boto3.client("s3").upload_fileobj(io.BytesIO(b"p,y\n0.5,1\n"), BUCKET, "in/p/part-0.csv")
    result = run_eval(f"s3://{BUCKET}/in/p/", "--target-col", "y", "--output", url, "--debug")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines()[-1].startswith(f"lossctl: error: {url}: {words}")
    assert SECRET not in result.stderr
    assert sorted(written(BUCKET, "in/")) == ["in/p/part-0.csv"]


def _lossctl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """lossctl in a process of its own (credentials are looked up once a process)."""
    return subprocess.run(
        [sys.executable, "-m", "lossctl", "eval", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_refused_credentials_and_an_endpoint_that_does_not_answer(
    inputs: dict[str, str], prefix: str
) -> None:
    """No usable credentials (the secret key without its key id, no credentials file, no
    instance metadata): NoCredentials; a closed port: StorageUnreachable. Both before any
    work, and the secret is never printed, not even in --debug's traceback."""
    env = without_credentials()
    out = f"{prefix}/losses.csv"
    args = [inputs["p"], inputs["t"], *COLS, "--output", out]
    refused = _lossctl(env, *args, "--debug")
    assert (refused.returncode, refused.stdout) == (2, "")
    assert "Traceback" in refused.stderr and SECRET not in refused.stderr
    line = f"lossctl: error: {out}: access refused or no credentials (NoCredentialsError). Set"
    assert refused.stderr.splitlines()[-1].startswith(line)
    unreachable = _lossctl({**os.environ, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}, *args)
    assert (unreachable.returncode, unreachable.stdout) == (2, "")
    words = "the storage does not answer (EndpointConnectionError)"
    assert_one_error_line(unreachable.stderr, f"lossctl: error: {out}: {words}")
    assert SECRET in os.environ["AWS_SECRET_ACCESS_KEY"] and SECRET not in unreachable.stderr
    assert objects(prefix) == {}
