"""Inputs from a web server, read from a real HTTP server on 127.0.0.1 (python's
http.server, started by the tests), which serves no byte ranges, as many do not: CSV,
compressed CSV, Parquet and a page of links to parts give the report of the same files on
disk; a 404 or a 403 is one line naming the URL; without aiohttp, the message names the
extra that installs it."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import lossctl
from lossctl.errors import FileNotFound, NoCredentials
from tests.cli.helpers import assert_input_error, run_eval

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"
FILES = (
    "multiclass_probs.csv",
    "multiclass_probs.parquet",
    "multiclass_labels.csv",
    "regression_preds.csv.gz",
    "regression_targets.csv",
)


class Files(http.server.SimpleHTTPRequestHandler):
    """The files of a directory; any name starting with ``forbidden`` is refused (403)."""

    def do_GET(self) -> None:
        if self.path.rsplit("/", 1)[-1].startswith("forbidden"):
            self.send_error(403)
        else:
            super().do_GET()

    def do_HEAD(self) -> None:
        if self.path.rsplit("/", 1)[-1].startswith("forbidden"):
            self.send_error(403)
        else:
            super().do_HEAD()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # (a client that closes the connection early: nothing to report)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("site")
    for name in FILES:
        shutil.copy(SAMPLES / name, root / name)
    shutil.copytree(SAMPLES / "multiclass_parts", root / "parts")
    server = Server(("127.0.0.1", 0), functools.partial(Files, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize(
    ("preds", "targets"),
    [
        ("multiclass_probs.csv", "multiclass_labels.csv"),
        ("multiclass_probs.parquet", "multiclass_labels.csv"),
        ("regression_preds.csv.gz", "regression_targets.csv"),
    ],
)
def test_a_file_over_http_reads_as_on_disk(site: str, preds: str, targets: str) -> None:
    on_disk = lossctl.evaluate(str(SAMPLES / preds), str(SAMPLES / targets))
    remote = lossctl.evaluate(f"{site}/{preds}", f"{site}/{targets}")
    assert (remote.task, remote.n_samples) == (on_disk.task, on_disk.n_samples)
    assert remote.mean_loss == on_disk.mean_loss
    assert remote.losses is not None and on_disk.losses is not None
    np.testing.assert_array_equal(remote.losses, on_disk.losses)
    assert remote.to_dict()["inputs"]["predictions"] == f"{site}/{preds}"


def test_a_page_of_links_reads_as_a_directory_of_parts(site: str) -> None:
    labels = str(SAMPLES / "multiclass_labels.csv")
    on_disk = lossctl.evaluate(str(SAMPLES / "multiclass_parts"), labels)
    remote = lossctl.evaluate(f"{site}/parts/", labels)
    assert remote.mean_loss == on_disk.mean_loss


def test_a_missing_file_is_one_line_naming_the_url(site: str, tmp_path: Path) -> None:
    url = f"{site}/nope.csv"
    out = tmp_path / "losses.csv"
    result = run_eval(url, f"{site}/multiclass_labels.csv", "--output", str(out))
    assert_input_error(result, f"lossctl: error: {url}: not found (HTTP 404). Check the URL")
    assert os.listdir(tmp_path) == []
    with pytest.raises(FileNotFound):
        lossctl.evaluate(url, f"{site}/multiclass_labels.csv")


def test_a_refused_file_is_one_line_naming_the_url(site: str) -> None:
    url = f"{site}/forbidden.csv"
    result = run_eval(url, f"{site}/multiclass_labels.csv")
    assert_input_error(result, f"lossctl: error: {url}: access refused (HTTP 403). Set")
    with pytest.raises(NoCredentials):
        lossctl.evaluate(url, f"{site}/multiclass_labels.csv")


def test_a_server_that_does_not_answer_is_one_line_naming_the_url() -> None:
    url = "http://127.0.0.1:9/preds.csv"
    result = run_eval(url, str(SAMPLES / "multiclass_labels.csv"))
    assert_input_error(result, f"lossctl: error: {url}: the storage does not answer (Client")


def test_without_aiohttp_the_message_names_the_http_extra(site: str) -> None:
    """In a process of its own, where aiohttp cannot be imported (fsspec's web file system
    needs it): what a user without the extra sees."""
    code = (
        "import sys; sys.modules['aiohttp'] = None; from lossctl.cli import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    url = f"{site}/multiclass_labels.csv"  # (TARGETS are opened first)
    done = subprocess.run(
        [sys.executable, "-c", code, "eval", f"{site}/multiclass_probs.csv", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"lossctl: error: {url}: reading http:// paths needs lossctl's http extra, which is "
        "not installed. Install it: pip install 'lossctl[http]'\n"
    )


SIGNED = "?X-Amz-Credential=AKIDEXAMPLE%2F20261206&X-Amz-Signature=f00dfeed5ec12e7&sig=5ec12e7"


def test_a_signed_url_is_read_and_its_secrets_never_printed(site: str) -> None:
    """The query string of a presigned URL authorises the read; the report and every message,
    even --debug's traceback, name the object with the signature's values as ***."""
    url = f"{site}/multiclass_probs.csv{SIGNED}"
    doc = lossctl.evaluate(url, f"{site}/multiclass_labels.csv").to_dict()
    assert doc["inputs"]["predictions"] == (
        f"{site}/multiclass_probs.csv?X-Amz-Credential=***&X-Amz-Signature=***&sig=***"
    )
    for args in ([], ["--debug"], ["--format", "json"]):
        for preds in (url, f"{site}/nope.csv{SIGNED}"):
            result = run_eval(preds, f"{site}/multiclass_labels.csv", *args)
            printed = result.stdout + result.stderr
            assert "5ec12e7" not in printed and "AKIDEXAMPLE" not in printed
            if result.exit_code or "--format" in args:  # (a table may fold the URL)
                assert "X-Amz-Signature=***" in printed, printed[-300:]
