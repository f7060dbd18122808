"""Files written whole or not at all: a temporary file beside the target, renamed when done.

:func:`atomic_path` is how lossctl writes every file. On its own, the rename
happens as its block ends. Inside :func:`deferred_renames` (the command line
runs every command inside it), the renames wait for ``commit()``, which the
command line calls once the command has finished: an error or Ctrl-C at any
point, even after the last file was written, leaves no new file behind, and
every existing one untouched.

A path in object storage (``s3://...``) has no rename: the file is written to a local
temporary file, uploaded as one object when the rename would be (writers go through
:func:`lossctl.io.upload.output_path`, which chooses). Either last step is a
:class:`Placement`, which :func:`defer` carries out now or holds back for ``commit()``.

Standard library only: the command line imports it before it knows what to do.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from lossctl.errors import OutputNotWritable


class Placement(Protocol):
    """The last step of writing an output: it makes the output appear (``commit``), or
    removes what was written (``discard``). ``remote``: a step in object storage, which
    may take time (an upload) and fail (the network); it goes before the local ones."""

    remote: bool

    def commit(self) -> None: ...

    def discard(self) -> None: ...


#: The placements held by the innermost ``deferred_renames``; None when they are immediate.
_pending: list[Placement] | None = None


def _not_writable(path: str | Path, error: OSError) -> OutputNotWritable:
    return OutputNotWritable(
        f"cannot be written ({error.strerror or error})",
        file=str(path),
        hint="Check that its directory is writable and has space",
    )


def _discard(tmp: str) -> None:
    if os.path.isdir(tmp) and not os.path.islink(tmp):
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        return
    with contextlib.suppress(OSError):
        os.unlink(tmp)


class _Rename:
    """A written file or directory, renamed into place."""

    remote = False

    def __init__(self, tmp: str, target: Path) -> None:
        self.tmp, self.target = tmp, target

    def commit(self) -> None:
        try:
            os.replace(self.tmp, self.target)
        except OSError as error:
            _discard(self.tmp)
            raise _not_writable(self.target, error) from None

    def discard(self) -> None:
        _discard(self.tmp)


def defer(placement: Placement) -> None:
    """Carry out ``placement`` now, or when the innermost :func:`deferred_renames` commits
    (dropped, with ``discard()``, if it does not)."""
    if _pending is None:
        placement.commit()
    else:
        _pending.append(placement)


def place(tmp: str, target: Path) -> None:
    """Rename a written file or directory into place: now, or when the innermost
    :func:`deferred_renames` commits."""
    defer(_Rename(tmp, target))


def _mode(target: Path, directory: bool) -> int:
    """The permissions the file or directory would have had if made in place (mkstemp's
    and mkdtemp's are 0600 and 0700)."""
    with contextlib.suppress(OSError):
        return stat.S_IMODE(target.stat().st_mode)
    umask = os.umask(0o022)
    os.umask(umask)
    return (0o777 if directory else 0o666) & ~umask


@contextlib.contextmanager
def atomic_path(path: str, directory: bool = False) -> Iterator[str]:
    """Yield a temporary path beside ``path`` (a file, or with ``directory`` an empty
    directory); it becomes ``path`` only if the block succeeds.

    An operating-system error while writing (no space, no permission) is an
    :class:`~lossctl.errors.OutputNotWritable`; the temporary file or directory is
    removed whatever happens.
    """
    import tempfile

    target = Path(path)
    prefix = f".{target.name}."
    try:
        if directory:
            tmp = tempfile.mkdtemp(suffix=".tmp", prefix=prefix, dir=target.parent)
        else:
            fd, tmp = tempfile.mkstemp(suffix=".tmp", prefix=prefix, dir=target.parent)
            os.close(fd)
    except OSError as error:
        raise _not_writable(path, error) from None
    try:
        if directory:  # others (a cluster's workers) may write into it: its mode at once
            os.chmod(tmp, _mode(target, directory))
        yield tmp
        os.chmod(tmp, _mode(target, directory))
        place(tmp, target)
    except OSError as error:
        _discard(tmp)
        raise _not_writable(path, error) from None
    except BaseException:
        _discard(tmp)
        raise


class Renames:
    """The renames (and uploads) that :func:`deferred_renames` holds back, until
    :meth:`commit`."""

    def __init__(self) -> None:
        self.pending: list[Placement] = []

    def commit(self) -> None:
        """Upload every output in object storage, then rename every file written so far
        into place, with Ctrl-C held off meanwhile (an upload can take time: Ctrl-C stops
        it, and then nothing local is renamed)."""
        self.pending.sort(key=lambda placement: not placement.remote)  # (a stable sort)
        while self.pending and self.pending[0].remote:
            self.pending[0].commit()
            del self.pending[0]
        blocked = hasattr(signal, "pthread_sigmask")
        if blocked:
            old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            while self.pending:
                self.pending[0].commit()
                del self.pending[0]
        finally:
            if blocked:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def discard(self) -> None:
        for placement in self.pending:
            placement.discard()
        self.pending.clear()


@contextlib.contextmanager
def deferred_renames() -> Iterator[Renames]:
    """Hold back the renames of every :func:`atomic_path` inside the block.

    The block calls ``commit()`` when its work is complete; whatever is not
    committed when the block ends (an error, Ctrl-C) is deleted.
    """
    global _pending
    renames = Renames()
    outer, _pending = _pending, renames.pending
    try:
        yield renames
    finally:
        _pending = outer
        renames.discard()
