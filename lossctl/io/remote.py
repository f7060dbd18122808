"""Inputs in object storage (``s3://``, ``gs://``, ``az://``/``abfs://``, ``https://``),
through fsspec and the file system of each scheme, which lossctl's extras install.

Credentials are the libraries' own (environment, profiles); the endpoint of an
S3-compatible store comes from ``AWS_ENDPOINT_URL_S3`` or ``AWS_ENDPOINT_URL``. Messages
name the URL as given and the kind of failure, never a credential. Parquet is read in
place (ranges of the object); other formats are copied to a temporary file first.
"""

from __future__ import annotations

import os
from typing import Any

from lossctl.errors import FileNotFound, MissingExtra, NoCredentials, StorageUnreachable

#: The extra that installs each scheme's file system.
EXTRAS: dict[str, str] = {
    "s3": "s3",
    "s3a": "s3",
    "gs": "gcs",
    "gcs": "gcs",
    "az": "azure",
    "abfs": "azure",
    "abfss": "azure",
    "http": "cloud",
    "https": "cloud",
}


def scheme(spec: str) -> str | None:
    """The scheme of a URL that lossctl reads (``s3``), or None for a local path."""
    head, sep, _ = spec.partition("://")
    return head.lower() if sep and head.lower() in EXTRAS else None


def is_url(spec: str) -> bool:
    return scheme(spec) is not None


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec file system of ``url`` and the path within it."""
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
        fs = fsspec.filesystem("s3" if extra == "s3" else name, **options)
    except ImportError:
        raise MissingExtra(
            f"reading {name}:// paths needs lossctl's {extra} extra, which is not installed",
            file=url,
            hint=f"Install it: pip install 'lossctl[{extra}]'",
        ) from None
    if name in ("http", "https"):
        return fs, url
    return fs, url.partition("://")[2]


def failure(url: str, error: BaseException) -> Exception:
    """The error of lossctl's catalogue that an object store's exception means."""
    kind = type(error).__name__
    if isinstance(error, FileNotFoundError) or "NoSuchBucket" in str(error):
        return FileNotFound("no such object", file=url, hint="Check the bucket and the key")
    if "Credentials" in kind or isinstance(error, PermissionError):
        return NoCredentials(
            f"access refused or no credentials ({kind})",
            file=url,
        )
    if "Connect" in kind or "Endpoint" in kind or isinstance(error, (OSError, TimeoutError)):
        return StorageUnreachable(f"the storage does not answer ({kind})", file=url)
    return StorageUnreachable(f"cannot be read ({kind})", file=url)


def call(url: str, function: Any, *args: Any) -> Any:
    """``function(*args)``, with an object store's failure as lossctl's error."""
    try:
        return function(*args)
    except (MissingExtra, FileNotFound):
        raise
    except Exception as error:
        raise failure(url, error) from None


def exists_file(url: str) -> None:
    """Raise the error of a URL that names no readable object."""
    fs, path = filesystem(url)
    if not call(url, fs.isfile, path):
        raise FileNotFound("no such object", file=url, hint="Check the bucket and the key")


def listing(spec: str) -> tuple[str, list[str]] | None:
    """The objects that a glob or a "directory" (prefix) URL names, as URLs, with the
    root of their Hive partitions; None if ``spec`` names one object."""
    fs, path = filesystem(spec)
    head = spec.partition("://")[0] + "://"
    if any(c in path for c in "*?["):
        found = call(spec, fs.glob, path)
        root = path[: min(path.index(c) for c in "*?[" if c in path)].rsplit("/", 1)[0]
        return root, [head + p for p in sorted(found) if call(spec, fs.isfile, p)]
    if call(spec, fs.isdir, path):
        found = call(spec, fs.find, path)
        return path.rstrip("/"), [head + p for p in sorted(found)]
    return None


def open_binary(url: str) -> Any:
    """A file object over the object (read in ranges)."""
    fs, path = filesystem(url)
    return call(url, fs.open, path, "rb")
