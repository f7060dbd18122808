"""gs:// paths, against a real Google Cloud Storage JSON API server on 127.0.0.1
(gcp-storage-emulator, in memory, started by the tests; gcsfs finds it through
STORAGE_EMULATOR_HOST, and lossctl then asks for no credentials). The S3 tests cover the
rest of object storage (the dask engine, the failures); here: a file, Parquet, a prefix
and a glob of parts read as on disk, a missing object, and --output."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import lossctl
from lossctl.errors import FileNotFound
from tests.cli.helpers import assert_input_error, run_eval

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"
FILES = ("multiclass_probs.csv", "multiclass_probs.parquet", "multiclass_labels.csv")


@pytest.fixture(scope="module")
def bucket() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        # gcsfs's experimental gRPC bucket probe (read when gcsfs is imported) does not
        # speak to an emulator: a minute's timeout for each bucket
        assert "gcsfs" not in sys.modules, "gcsfs was imported before its settings were made"
        monkeypatch.setenv("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
        # never the metadata server of a cloud machine, should anything look for credentials
        monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")
        monkeypatch.setenv("GCE_METADATA_IP", "127.0.0.1:9")
        monkeypatch.setenv("NO_GCE_CHECK", "True")
        from gcp_storage_emulator.server import create_server

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = create_server("127.0.0.1", port, in_memory=True, default_bucket="models")
        server.start()
        # (its one-thread HTTP server prints a traceback on sys.stderr, which the in-process
        # command line's stderr then is, when a client closes a connection early)
        server._api._httpd.handle_error = lambda request, address: None
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
        try:
            import gcsfs

            fs = gcsfs.GCSFileSystem(token="anon")
            for name in FILES:
                fs.put_file(str(SAMPLES / name), f"models/run/{name}")
            for part in sorted((SAMPLES / "multiclass_parts").iterdir()):
                fs.put_file(str(part), f"models/run/parts/{part.name}")
            yield "gs://models/run"
        finally:
            server.stop()


@pytest.mark.parametrize(
    "preds", ["multiclass_probs.csv", "multiclass_probs.parquet", "parts/", "parts/*.parquet"]
)
def test_files_and_parts_read_as_on_disk(bucket: str, preds: str) -> None:
    labels = str(SAMPLES / "multiclass_labels.csv")
    on_disk = lossctl.evaluate(
        str(SAMPLES / preds.rstrip("/").replace("parts", "multiclass_parts")), labels
    )
    remote = lossctl.evaluate(f"{bucket}/{preds}", f"{bucket}/multiclass_labels.csv")
    assert remote.n_samples == on_disk.n_samples
    assert remote.mean_loss == on_disk.mean_loss


def test_a_missing_object_is_one_line(bucket: str) -> None:
    url = f"{bucket}/nope.csv"
    result = run_eval(url, f"{bucket}/multiclass_labels.csv")
    assert_input_error(result, f"lossctl: error: {url}: no such object. Check the bucket")
    with pytest.raises(FileNotFound):
        lossctl.evaluate(url, f"{bucket}/multiclass_labels.csv")


def test_the_output_object_holds_the_rows_of_a_local_output(bucket: str, tmp_path: Path) -> None:
    import gcsfs

    args = [f"{bucket}/multiclass_probs.csv", f"{bucket}/multiclass_labels.csv"]
    assert run_eval(*args, "--output", str(tmp_path / "local.csv")).exit_code == 0
    assert run_eval(*args, "--output", f"{bucket}/out/losses.csv").exit_code == 0
    gcsfs.GCSFileSystem(token="anon").get_file("models/run/out/losses.csv", str(tmp_path / "r.csv"))
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "r.csv"), pd.read_csv(tmp_path / "local.csv")
    )
    assert sorted(os.listdir(tmp_path)) == ["local.csv", "r.csv"]
