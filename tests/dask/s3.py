"""A real S3 protocol server on 127.0.0.1 (moto's server mode), started by the tests."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import pytest

#: Credentials that the moto server takes (any are accepted); never printed by lossctl.
SECRET = "s3cr3t-never-printed"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def s3_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    for name, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing-key",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    try:
        yield endpoint
    finally:
        server.stop()


def without_credentials() -> dict[str, str]:
    """The environment of a process that finds no usable credentials: the server's endpoint
    and the secret key without its key id, no credentials or config file, no instance
    metadata (botocore raises NoCredentialsError). Credentials are looked up once a process:
    run lossctl in a process of its own with it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO"))}
    env.update(
        AWS_ENDPOINT_URL=os.environ["AWS_ENDPOINT_URL"],
        AWS_SECRET_ACCESS_KEY=SECRET,
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
        AWS_CONFIG_FILE="/nonexistent",
        BOTO_CONFIG="/nonexistent",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_DEFAULT_REGION="us-east-1",
    )
    return env


def written(bucket: str, prefix: str = "") -> dict[str, datetime]:
    """The objects under ``prefix`` in the server's bucket, with the time the server stored
    each (to the microsecond; S3's LastModified says the second). The server runs in this
    process: this reads its own record of the bucket."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    keys = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].buckets[bucket].keys
    return {key: value.last_modified for key, value in keys.items() if key.startswith(prefix)}
