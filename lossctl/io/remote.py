"""Paths in object storage (``s3://``, ``gs://``, ``az://``/``abfs://``, and ``https://``
for inputs), through fsspec and the file system of each scheme, which lossctl's extras
install.

Credentials are the libraries' own (environment, profiles); the endpoint of an
S3-compatible store comes from ``AWS_ENDPOINT_URL_S3`` or ``AWS_ENDPOINT_URL``, that of a
Google Cloud Storage emulator from ``STORAGE_EMULATOR_HOST`` (gcsfs reads it; no credentials
are looked for then), that of Azure Blob Storage (or Azurite) from the ``BlobEndpoint`` of
``AZURE_STORAGE_CONNECTION_STRING`` (adlfs reads it). Messages
name the URL as given and the kind of failure, never a credential. Parquet in a bucket is
read in place (ranges of the object); other formats, and anything from a web server
(which need not serve ranges), are copied to a temporary file first. Writing is in
:mod:`lossctl.io.upload`.
"""

from __future__ import annotations

import os
from typing import Any

from lossctl.errors import (
    FileNotFound,
    LossctlError,
    MissingExtra,
    NoCredentials,
    OutputDirMissing,
    StorageUnreachable,
)

#: The extra that installs each scheme's file system.
EXTRAS: dict[str, str] = {
    "s3": "s3",
    "s3a": "s3",
    "gs": "gcs",
    "gcs": "gcs",
    "az": "azure",
    "abfs": "azure",
    "abfss": "azure",
    "http": "http",
    "https": "http",
}
#: The schemes of web servers: read whole, never listed but by a glob, never written.
WEB = ("http", "https")


def scheme(spec: str) -> str | None:
    """The scheme of a URL that lossctl reads (``s3``), or None for a local path."""
    head, sep, _ = spec.partition("://")
    return head.lower() if sep and head.lower() in EXTRAS else None


def is_url(spec: str) -> bool:
    return scheme(spec) is not None


def is_web(spec: str) -> bool:
    """Whether ``spec`` is an ``http://`` or ``https://`` URL."""
    return scheme(spec) in WEB


def filesystem(url: str, doing: str = "reading") -> tuple[Any, str]:
    """The fsspec file system of ``url`` and the path within it (``doing``: what the
    message of a missing extra says the path is for)."""
    name = scheme(url)
    assert name is not None
    extra = EXTRAS[name]
    try:
        import fsspec

        options: dict[str, Any] = {}
        if extra == "s3":
            endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
            options = {
                "use_listings_cache": False,
                "config_kwargs": {"retries": {"max_attempts": 2}, "connect_timeout": 5},
            }
            if endpoint:
                options["endpoint_url"] = endpoint
        elif extra == "gcs" and os.environ.get("STORAGE_EMULATOR_HOST"):
            options = {"token": "anon"}  # (an emulator takes no credentials)
        fs = fsspec.filesystem("s3" if extra == "s3" else name, **options)
    except ImportError:
        raise MissingExtra(
            f"{doing} {name}:// paths needs lossctl's {extra} extra, which is not installed",
            file=url,
            hint=f"Install it: pip install 'lossctl[{extra}]'",
        ) from None
    if name in WEB:
        return fs, url
    return fs, url.partition("://")[2]


def _not_found(url: str) -> LossctlError:
    if is_web(url):
        return FileNotFound("not found (HTTP 404)", file=url, hint="Check the URL")
    return FileNotFound("no such object", file=url, hint="Check the bucket and the key")


def failure(url: str, error: BaseException, writing: bool = False) -> LossctlError:
    """The error of lossctl's catalogue that an object store's (or a web server's)
    exception means; ``writing``: the URL is an output."""
    if isinstance(error, FileNotFoundError) and isinstance(error.__cause__, Exception):
        error = error.__cause__  # (fsspec's web file system: whatever made its last try fail)
    kind = type(error).__name__
    status = getattr(error, "status", None)  # (aiohttp's, for a web server)
    if "NoSuchBucket" in str(error) and writing:
        return OutputDirMissing("the bucket does not exist", file=url, hint="Create it first")
    if isinstance(error, FileNotFoundError) or "NoSuchBucket" in str(error) or status == 404:
        return _not_found(url)
    if status in (401, 403):
        return NoCredentials(f"access refused (HTTP {status})", file=url)
    if "Credentials" in kind or isinstance(error, PermissionError):
        return NoCredentials(f"access refused or no credentials ({kind})", file=url)
    if isinstance(status, int):
        return StorageUnreachable(f"the server answers HTTP {status}", file=url)
    unreachable = ("Connect", "Endpoint", "ServiceRequest")  # (botocore's, aiohttp's, Azure's)
    if any(word in kind for word in unreachable) or isinstance(error, (OSError, TimeoutError)):
        return StorageUnreachable(f"the storage does not answer ({kind})", file=url)
    return StorageUnreachable(f"cannot be {'written' if writing else 'read'} ({kind})", file=url)


def call(url: str, function: Any, *args: Any, writing: bool = False) -> Any:
    """``function(*args)``, with an object store's failure as lossctl's error."""
    try:
        return function(*args)
    except LossctlError:
        raise
    except Exception as error:
        raise failure(url, error, writing) from None


def exists_file(url: str) -> None:
    """Raise the error of a URL that names no readable object."""
    fs, path = filesystem(url)
    if is_web(url):
        call(url, fs.info, path)  # (a HEAD request; fsspec's isfile would GET it too)
    elif not call(url, fs.isfile, path):
        raise _not_found(url)


def listing(spec: str) -> tuple[str, list[str]] | None:
    """The objects that a glob or a "directory" (prefix) URL names, as URLs, with the
    root of their Hive partitions; None if ``spec`` names one object.

    A web server's URL names one object unless it is a glob or ends with ``/`` (a page
    of links): asking whether a URL is a page of links would download it."""
    fs, path = filesystem(spec)
    head = "" if is_web(spec) else spec.partition("://")[0] + "://"
    bare = spec.partition("://")[2]  # (the root is without the scheme, as a Source's path)
    wild = "*?["
    if is_web(spec):  # a web URL's ? starts its query (a signed URL's, say)
        bare, wild = bare.partition("?")[0], "*["
    if any(c in bare for c in wild):
        found = call(spec, fs.glob, path)
        root = bare[: min(bare.index(c) for c in wild if c in bare)].rsplit("/", 1)[0]
        return root, [head + p for p in sorted(found) if call(spec, fs.isfile, p)]
    if is_web(spec) and not bare.endswith("/"):
        return None
    if call(spec, fs.isdir, path):
        found = call(spec, fs.find, path)
        return bare.rstrip("/"), [head + p for p in sorted(found)]
    return None


def open_binary(url: str) -> Any:
    """A file object over the object: read in ranges; from a web server, read from the
    start to the end (it need not serve ranges)."""
    fs, path = filesystem(url)
    if is_web(url):
        return call(url, lambda: fs.open(path, "rb", block_size=0))
    return call(url, fs.open, path, "rb")


def gone(url: str) -> bool:
    """Whether ``url`` no longer names an object (False if that cannot be told)."""
    try:
        fs, path = filesystem(url)
        return not fs.isfile(path)
    except Exception:
        return False
