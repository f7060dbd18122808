"""az:// and abfs:// paths, against a real Azure Blob Storage server on 127.0.0.1 (Azurite,
Microsoft's emulator, in memory, started by the tests; adlfs finds it through
AZURE_STORAGE_CONNECTION_STRING, with Azurite's published development account). Azurite is
an npm package: `.ci/run` installs it; elsewhere these tests skip without `azurite-blob` on
PATH, but fail under CI. The S3 tests cover the rest of object storage (the dask engine, the
failures); here, as for gs://: a file, Parquet, a prefix and a glob of parts read as on
disk, a missing object, and --output."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lossctl
from lossctl.errors import FileNotFound
from tests.cli.helpers import assert_input_error, run_eval

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"
FILES = ("multiclass_probs.csv", "multiclass_probs.parquet", "multiclass_labels.csv")
# Azurite's development account and key, published in its documentation (not a secret)
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def _azurite() -> str:
    found = shutil.which("azurite-blob")
    if found is None:
        why = "azurite-blob is not on PATH: install it, npm install azurite@3 (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    return found


def _wait(server: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"azurite-blob exited ({server.returncode}): {log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"azurite-blob does not answer on port {port}: {log.read_text()}")


def _clear_filesystems() -> None:
    """fsspec keeps one file system a set of arguments: none made before these settings,
    or for a server that has stopped, may be used."""
    import adlfs

    adlfs.AzureBlobFileSystem.clear_instance_cache()


@pytest.fixture(scope="module")
def container(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    azurite = _azurite()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    home = tmp_path_factory.mktemp("azurite")  # (its working directory: nothing in the repo)
    log = home / "azurite.log"
    command = [azurite, "--silent", "--inMemoryPersistence", "--extentMemoryLimit", "256"]
    command += ["--blobHost", "127.0.0.1", "--blobPort", str(port)]
    command += ["--skipApiVersionCheck", "--disableTelemetry"]
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=home, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait(server, port, log)
        with pytest.MonkeyPatch.context() as monkeypatch:
            for name in list(os.environ):
                if name.startswith("AZURE_STORAGE_"):
                    monkeypatch.delenv(name)
            endpoint = f"http://127.0.0.1:{port}/{ACCOUNT}"
            connection = f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
            monkeypatch.setenv(
                "AZURE_STORAGE_CONNECTION_STRING", f"{connection}BlobEndpoint={endpoint};"
            )
            _clear_filesystems()
            import adlfs

            fs = adlfs.AzureBlobFileSystem()
            fs.mkdir("models")
            for name in FILES:
                fs.put_file(str(SAMPLES / name), f"models/run/{name}")
            for part in sorted((SAMPLES / "multiclass_parts").iterdir()):
                fs.put_file(str(part), f"models/run/parts/{part.name}")
            yield "models/run"
            _clear_filesystems()
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.mark.parametrize("scheme", ["az", "abfs"])
@pytest.mark.parametrize(
    "preds", ["multiclass_probs.csv", "multiclass_probs.parquet", "parts/", "parts/*.parquet"]
)
def test_files_and_parts_read_as_on_disk(container: str, scheme: str, preds: str) -> None:
    labels = str(SAMPLES / "multiclass_labels.csv")
    on_disk = lossctl.evaluate(
        str(SAMPLES / preds.rstrip("/").replace("parts", "multiclass_parts")), labels
    )
    url = f"{scheme}://{container}"
    remote = lossctl.evaluate(f"{url}/{preds}", f"{url}/multiclass_labels.csv")
    assert remote.n_samples == on_disk.n_samples == 150
    assert remote.mean_loss == on_disk.mean_loss
    np.testing.assert_array_equal(remote.losses, on_disk.losses)


@pytest.mark.parametrize("scheme", ["az", "abfs"])
def test_a_missing_object_is_one_line(container: str, scheme: str) -> None:
    url = f"{scheme}://{container}/nope.csv"
    labels = f"{scheme}://{container}/multiclass_labels.csv"
    result = run_eval(url, labels)
    assert_input_error(result, f"lossctl: error: {url}: no such object. Check the bucket")
    with pytest.raises(FileNotFound):
        lossctl.evaluate(url, labels)


def test_the_output_object_holds_the_rows_of_a_local_output(container: str, tmp_path: Path) -> None:
    import adlfs

    args = [f"az://{container}/multiclass_probs.csv", f"az://{container}/multiclass_labels.csv"]
    assert run_eval(*args, "--output", str(tmp_path / "local.csv")).exit_code == 0
    result = run_eval(*args, "--output", f"az://{container}/out/losses.csv")
    assert result.exit_code == 0, result.stderr
    adlfs.AzureBlobFileSystem().get_file(f"{container}/out/losses.csv", str(tmp_path / "r.csv"))
    local = pd.read_csv(tmp_path / "local.csv")
    assert len(local) == 150
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "r.csv"), local)
    assert sorted(os.listdir(tmp_path)) == ["local.csv", "r.csv"]
