"""The LocalCluster of two worker processes that the dask tests share (one per module), and
a record of the tasks that a run makes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import distributed
import pytest
from distributed.utils import key_split


@contextmanager
def local_cluster(n_workers: int = 2, **options: Any) -> Iterator[distributed.Client]:
    """A client of a LocalCluster of ``n_workers`` worker processes of one thread each
    (``options``: LocalCluster's, such as ``memory_limit``), its servers on free ports."""
    with (
        distributed.LocalCluster(
            processes=True,
            n_workers=n_workers,
            threads_per_worker=1,
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},  # (8787 may be taken)
            **options,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert len(client.scheduler_info()["workers"]) == n_workers
        yield client


@pytest.fixture(scope="module")
def dask_client() -> Iterator[distributed.Client]:
    with local_cluster() as client:
        yield client


@pytest.fixture(scope="module")
def scheduler(dask_client: distributed.Client) -> str:
    return str(dask_client.scheduler.address)


@pytest.fixture
def tasks(
    dask_client: distributed.Client,
) -> Callable[[], AbstractContextManager[set[str]]]:
    """``with tasks() as names:`` the names of the tasks that ran on the cluster inside
    (``join_bucket``, ``partition_pass``, ...), once the block ends."""

    @contextmanager
    def record() -> Iterator[set[str]]:
        names: set[str] = set()
        with distributed.get_task_stream(dask_client) as stream:
            yield names
        names.update(key_split(task["key"]) for task in stream.data)

    return record
