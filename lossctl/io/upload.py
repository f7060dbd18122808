"""Outputs in object storage (``s3://``, ``gs://``, ``az://``): written whole or not at all.

There is no rename in object storage, but a PUT is atomic: an output file (``--output``,
``--junit``, ...) is written to a local temporary file (:func:`staged`) and uploaded as
one object when the command commits (:func:`lossctl.io.atomic.defer`). A failed run
leaves no object, and an existing object is replaced only by a complete one.

The dask engine's parts (:class:`lossctl.io.parts_output.PartsOutput`) are uploaded by
the workers, each under the output's prefix; :class:`Success` writes ``_SUCCESS`` when the
command commits, after every part, as Spark and Hadoop do; until then readers must not
take the parts as complete. A failed run deletes its parts (best effort).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import PurePosixPath

from lossctl.errors import (
    OutputDirMissing,
    OutputIsInput,
    OutputNotWritable,
    UnsupportedOutput,
)
from lossctl.io import atomic
from lossctl.io.remote import call, filesystem, is_url, is_web, scheme

#: The object that marks a prefix of parts as complete.
SUCCESS = "_SUCCESS"


def _unlink(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


class Upload:
    """A local file that becomes the object ``url`` (and is then removed)."""

    remote = True

    def __init__(self, tmp: str, url: str) -> None:
        self.tmp, self.url = tmp, url

    def commit(self) -> None:
        try:
            fs, path = filesystem(self.url, "writing")
            call(self.url, fs.put_file, self.tmp, path, writing=True)
        finally:
            _unlink(self.tmp)

    def discard(self) -> None:
        _unlink(self.tmp)


@contextlib.contextmanager
def output_path(path: str) -> Iterator[str]:
    """A temporary local path that becomes ``path`` only if the block succeeds: renamed
    into place (:func:`lossctl.io.atomic.atomic_path`), or for a URL uploaded as one
    object (:func:`staged`)."""
    with staged(path) if is_url(path) else atomic.atomic_path(path) as tmp:
        yield tmp


@contextlib.contextmanager
def staged(url: str) -> Iterator[str]:
    """Yield a local temporary file, uploaded as the object ``url`` if the block succeeds
    (now, or when the command commits); removed whatever happens."""
    import tempfile

    suffix = "".join(PurePosixPath(url.partition("?")[0]).suffixes[-2:])
    try:
        fd, tmp = tempfile.mkstemp(prefix="lossctl-", suffix=f".upload{suffix}")
        os.close(fd)
    except OSError as error:
        raise _no_space(url, error) from None
    try:
        yield tmp
    except OSError as error:
        _unlink(tmp)
        raise _no_space(url, error) from None
    except BaseException:
        _unlink(tmp)
        raise
    atomic.defer(Upload(tmp, url))


def _no_space(url: str, error: OSError) -> OutputNotWritable:
    return OutputNotWritable(
        f"cannot be written to a local temporary file first ({error.strerror or error})",
        file=url,
        hint="Check the space in the temporary directory (TMPDIR)",
    )


def check_output(url: str, inputs: Sequence[str], option: str) -> None:
    """Before any work: refuse an output URL that is a web server's, that an input is or
    would read on the next run, whose bucket does not exist, or that names a prefix
    holding objects (a "directory"). An existing object is replaced, as a file is."""
    if is_web(url):
        raise UnsupportedOutput(
            f"{option} cannot write to a web server",
            file=url,
            hint="Write to s3://, gs://, az:// or a local file",
        )
    for name in inputs:
        if name == url:
            raise OutputIsInput(f"{option} names an input", file=url, hint="Write it elsewhere")
        if would_read(name, url):
            raise OutputIsInput(
                f"{option} would be read as a part of {name!r} on the next run",
                file=url,
                hint="Write it outside the prefix or pattern of the inputs",
            )
    fs, path = filesystem(url, "writing")
    bucket = path.split("/", 1)[0]
    if not call(url, fs.isdir, bucket):  # (not exists(): it takes refused access for "no")
        raise OutputDirMissing(
            f"the bucket of {option} does not exist", file=url, hint="Create it first"
        )
    if call(url, fs.isdir, path):
        raise OutputNotWritable(
            f"{option} names a prefix that holds objects (a directory)",
            file=url,
            hint="Give the name of an object",
        )


def would_read(spec: str, url: str) -> bool:
    """Whether the input ``spec`` (a glob or a prefix in object storage) reads the object
    ``url``, or the dask engine's parts under it, as parts: now or once they exist, as
    :func:`lossctl.io.sources.resolve_parts` lists a prefix or a glob there."""
    from lossctl.io.sources import glob_matches, is_ignored

    if not is_url(spec) or scheme(spec) != scheme(url):
        return False
    pattern, target = spec.partition("://")[2], url.partition("://")[2].rstrip("/")
    names = target.split("/")
    if any(c in pattern for c in "*?["):
        root = pattern[: min(pattern.index(c) for c in "*?[" if c in pattern)].rsplit("/", 1)[0]
        part = [*names, f"part-00000{parts_extension(target)}"]
        segments = pattern.split("/")
        matched = glob_matches(segments, names) or glob_matches(segments, part)
    else:
        root = pattern.rstrip("/")
        matched = target.startswith(root + "/")
    return matched and not is_ignored(os.path.relpath(target, root))


def parts_extension(path: str) -> str:
    """The extension of the parts of an output named ``path`` (``.csv.gz``, ``.parquet``)."""
    from pathlib import Path

    from lossctl.io.sources import output_suffix

    suffixes = PurePosixPath(path).suffixes
    compressed = output_suffix(Path(path))[1] is not None
    return "".join(suffixes[-2:]) if compressed else "".join(suffixes[-1:])


# ----------------------------------------------------------------- parts under a prefix


def occupied(url: str) -> str | None:
    """What is already at ``url``: ``"an object"``, ``"objects under it"``, or None."""
    fs, path = filesystem(url, "writing")
    if call(url, fs.isfile, path):
        return "an object"
    if call(url, fs.isdir, path):
        return "objects under it"
    return None


def remove_parts(prefix: str, extension: str) -> None:
    """Delete the parts (``part-NNNNN`` with ``extension``) under ``prefix``, and its
    ``_SUCCESS``: best effort (the error that stopped the run is the one to tell)."""
    with contextlib.suppress(Exception):
        fs, path = filesystem(prefix, "writing")
        name = re.compile(rf"part-\d{{5}}{re.escape(extension)}|{SUCCESS}")
        found = [p for p in fs.find(path) if name.fullmatch(p.rsplit("/", 1)[-1])]
        if found:
            fs.rm(found)


class Success:
    """The ``_SUCCESS`` object of a prefix of parts, written when the command commits (after
    every part: nothing else is written then); discarded, it deletes the parts."""

    remote = True

    def __init__(self, prefix: str, extension: str) -> None:
        self.prefix, self.extension = prefix, extension

    def commit(self) -> None:
        url = f"{self.prefix}/{SUCCESS}"
        try:
            fs, path = filesystem(url, "writing")
            call(url, fs.pipe_file, path, b"", writing=True)
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        remove_parts(self.prefix, self.extension)
