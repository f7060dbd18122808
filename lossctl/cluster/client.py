"""The Dask client of ``--engine dask``: of the cluster at ``--scheduler``, or of a
``LocalCluster`` started for the run."""

from __future__ import annotations

import os
from typing import Any

from lossctl.errors import MissingExtra, SchedulerUnreachable

INSTALL = "pip install 'lossctl[dask]'"


class Cluster:
    """A Dask client: of the cluster at ``scheduler`` (or ``DASK_SCHEDULER_ADDRESS``), or of
    a ``LocalCluster`` started for the run. Connected on first use; :meth:`close` ends it."""

    def __init__(self, scheduler: str | None) -> None:
        self.address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
        self._client: Any = None
        self._cluster: Any = None

    def client(self) -> Any:
        if self._client is not None:
            return self._client
        distributed = _import_distributed()
        if self.address is None:
            import logging

            self._cluster = distributed.LocalCluster(
                processes=True,
                threads_per_worker=1,
                dashboard_address=None,
                # no dashboard; its HTTP server on a free port of the loopback (the default,
                # 8787, taken by another cluster would be a warning on stderr)
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                silence_logs=logging.ERROR,
            )
            self._client = distributed.Client(self._cluster, set_as_default=False)
            return self._client
        try:
            self._client = distributed.Client(self.address, timeout=10, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as error:
            raise SchedulerUnreachable(
                f"cannot reach the Dask scheduler ({type(error).__name__})",
                file=self.address,
            ) from None
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None


def _import_distributed() -> Any:
    try:
        import dask.bag  # noqa: F401
        import distributed
    except ImportError:
        raise MissingExtra(
            "--engine dask needs Dask, which is not installed", hint=f"Install it: {INSTALL}"
        ) from None
    return distributed


def check_installed() -> None:
    """Raise :class:`MissingExtra` before any work if Dask is not installed."""
    _import_distributed()
