"""``--output`` as a directory of parts, one per partition, which the dask engine's workers
write (``part-00000.parquet`` and so on).

On a local disk (or one that the workers share), the parts go into a temporary
directory that takes the output's name once every part is written
(:func:`lossctl.io.atomic.atomic_path`). In object storage there is no rename: each part
is uploaded under the output's prefix when complete, and ``_SUCCESS`` is written last,
once the run has succeeded (:mod:`lossctl.io.upload`). Either way, a failed run leaves
nothing: its parts are deleted, and :func:`stop_writing` first waits until no worker
still writes one (a task that was running when another one failed goes on to its end).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from lossctl.errors import OutputNotWritable
from lossctl.io import atomic
from lossctl.io.remote import is_url
from lossctl.io.upload import Success, occupied, parts_extension, remove_parts
from lossctl.io.writers import LossWriter


@dataclass(frozen=True)
class PartsOutput:
    """Where the parts go (``root``: a temporary directory, or the output's URL), their
    ``extension``, and the ``run`` they belong to (see :func:`stop_writing`)."""

    root: str
    extension: str
    run: str

    def path(self, index: int) -> str:
        name = f"part-{index:05d}{self.extension}"
        return f"{self.root}/{name}" if is_url(self.root) else os.path.join(self.root, name)

    @contextlib.contextmanager
    def writer(self, index: int) -> Iterator[LossWriter]:
        """The writer of partition ``index``'s part (on a worker), which is complete (renamed
        or uploaded) when the block ends; :class:`Stopped` once the run has failed."""
        with _writing(self.run), LossWriter(self.path(index)) as writer:
            yield writer

    @staticmethod
    @contextlib.contextmanager
    def written(path: str) -> Iterator[PartsOutput]:
        """The parts of ``path``: complete when the command commits (renamed into place, or
        marked by ``_SUCCESS``), deleted on any error."""
        extension = parts_extension(path)
        run = uuid.uuid4().hex
        if not is_url(path):
            if os.path.lexists(path):
                raise _existing(path, "a directory" if os.path.isdir(path) else "a file")
            with atomic.atomic_path(path, directory=True) as tmp:
                yield PartsOutput(tmp, extension, run)
            return
        prefix = path.rstrip("/")
        found = occupied(prefix)
        if found is not None:
            raise _existing(path, found)
        try:
            yield PartsOutput(prefix, extension, run)
        except BaseException:
            remove_parts(prefix, extension)
            raise
        atomic.defer(Success(prefix, extension))


def _existing(path: str, what: str) -> OutputNotWritable:
    return OutputNotWritable(
        f"--output names {what}, where the dask engine would write a directory of parts",
        file=path,
        hint="Remove it first, or give another name",
    )


# ------------------------------------------------ the parts being written, on each worker


class Stopped(Exception):
    """A part of a run that has failed is not written (see :func:`stop_writing`)."""


_lock = threading.Lock()
_writers: dict[str, int] = {}  # run -> the parts of it being written in this process
_stopped: set[str] = set()


@contextlib.contextmanager
def _writing(run: str) -> Iterator[None]:
    with _lock:
        if run in _stopped:
            raise Stopped(run)
        _writers[run] = _writers.get(run, 0) + 1
    try:
        yield
    finally:
        with _lock:
            _writers[run] -= 1
            if not _writers[run]:
                del _writers[run]


async def stop_writing(run: str) -> None:
    """In each worker (``Client.run``), once ``run`` has failed: no part of it is written
    from now on, and this returns when the parts being written are done (complete, or
    removed), so that the client can then delete every part there is."""
    with _lock:
        _stopped.add(run)
    while True:
        with _lock:
            if run not in _writers:
                return
        await asyncio.sleep(0.05)
