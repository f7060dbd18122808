"""``--output`` on the dask engine: a directory of parts, one per partition, that takes its
name once every part is written (:class:`PartsOutput`).

The engine itself is :mod:`lossctl.cluster`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lossctl.io import atomic
from lossctl.io.sources import output_suffix

# ------------------------------------------------------------------------------ output


@dataclass(frozen=True)
class PartsOutput:
    """``--output`` as a directory of parts, one per partition (``part-00000`` and so on,
    with the output's ``extension``), written into ``tmp``."""

    tmp: str
    extension: str

    @staticmethod
    @contextlib.contextmanager
    def written(path: str) -> Iterator[PartsOutput]:
        """A directory beside ``path`` that becomes ``path`` once every part is written, as
        :func:`lossctl.io.atomic.atomic_path` does with a file (held back until the command
        line commits, removed on any error)."""
        target = Path(path)
        compressed = output_suffix(target)[1] is not None
        extension = "".join(target.suffixes[-2:]) if compressed else target.suffix
        with atomic.atomic_path(path, directory=True) as tmp:
            yield PartsOutput(tmp, extension)
