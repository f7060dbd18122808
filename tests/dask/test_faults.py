"""The dask engine under a cluster's faults, each on a LocalCluster of its own: a worker
killed from inside one of its tasks mid-run (Dask starts it again and retries its tasks:
the report is the local engine's), and workers with a memory limit far below the input's
size (the run ends, and no worker's memory went past the limit)."""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import distributed
import numpy as np
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

import lossctl
from tests.dask.conftest import local_cluster
from tests.dask.data import write_parts
from tests.dask.test_ids import OPTIONS, N, _one_file, frames, same


class KillOnce(distributed.WorkerPlugin):
    """Ends its worker's process (``os._exit``: no clean-up, as a machine that dies) when
    the task of one partition's pass starts; once (``marker``), not on the retry."""

    def __init__(self, marker: str, partition: int) -> None:
        self.marker = marker
        self.partition = partition

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        """(Dask fuses the pass with the task before it: ``from_sequence-partition_pass``.)"""
        if finish != "executing" or not isinstance(key, tuple):
            return
        if "partition_pass" not in key[0] or key[1] != self.partition:
            return
        try:
            os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
        os._exit(1)


def _pids(client: distributed.Client) -> set[int]:
    return set(client.run(os.getpid).values())


def test_a_worker_killed_mid_run(tmp_path: Path) -> None:
    """Rows matched by id through Dask (so that the lost worker's share of the join is
    made again too); the worker dies as partition 2's pass starts, after the first
    passes' partials were held on it."""
    preds, targets = frames(np.random.default_rng(11).permutation(N), seed=11)
    p = write_parts(tmp_path, "p", preds)
    t = _one_file(targets, tmp_path / "t.parquet", 11)
    marker = tmp_path / "killed"
    local = lossctl.evaluate(p, t, **OPTIONS)
    with local_cluster() as client:
        before = _pids(client)
        client.register_plugin(KillOnce(str(marker), partition=2))
        dask = lossctl.evaluate(p, t, engine="dask", scheduler=client.scheduler.address, **OPTIONS)
        client.wait_for_workers(2)
        after = _pids(client)
    assert marker.exists()
    assert len(before - after) == 1  # one worker died and was started again
    same(local, dask)


#: The memory limit of each worker, and the input: far larger once read.
LIMIT = 300 * 2**20
ROWS, PARTS = 40_000_000, 20


def _big_parts(root: Path) -> tuple[str, str, float]:
    """ROWS rows of binary predictions (with weights) and targets, in PARTS Parquet parts
    each; and their weighted mean binary cross-entropy, summed here by NumPy."""
    rng = np.random.default_rng(12)
    per = ROWS // PARTS
    for side in ("p", "t"):
        (root / side).mkdir()
    total = weights = 0.0
    for i in range(PARTS):
        y = rng.integers(0, 2, per)
        prob = np.clip(0.35 * y + rng.random(per) * 0.6, 1e-6, 1 - 1e-6)
        weight = rng.random(per) + 0.5
        pq.write_table(pa.table({"p": prob, "w": weight}), root / "p" / f"part-{i:02d}.parquet")
        pq.write_table(pa.table({"y": y}), root / "t" / f"part-{i:02d}.parquet")
        total += float(np.sum(weight * -np.where(y == 1, np.log(prob), np.log1p(-prob))))
        weights += float(np.sum(weight))
    return str(root / "p"), str(root / "t"), total / weights


@contextmanager
def peak_rss(pids: set[int]) -> Iterator[dict[int, int]]:
    """The largest resident memory of each process, sampled every 10 ms meanwhile."""
    peaks = dict.fromkeys(pids, 0)
    processes = [psutil.Process(pid) for pid in pids]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for process in processes:
                peaks[process.pid] = max(peaks[process.pid], process.memory_info().rss)
            time.sleep(0.01)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peaks
    finally:
        done.set()
        thread.join()


def test_workers_with_a_memory_limit_far_below_the_input(tmp_path: Path) -> None:
    """One worker of LIMIT, and an input of 3.2 times that once read (float64 and int64
    columns, 24 bytes a row; the per-sample losses alone, 8 bytes a row, are more than
    LIMIT, were the worker to hold them): the run ends, its worker never restarted, its
    peak memory under the limit. (An idle worker with lossctl imported holds some 145 MiB,
    and this run's peak was some 220 MiB; with keep_losses=True the worker holds the
    losses of its partitions until the client takes them, and Dask kills it.)"""
    p, t, expected = _big_parts(tmp_path)
    assert ROWS * 24 > 3 * LIMIT and ROWS * 8 > LIMIT
    with local_cluster(1, memory_limit=LIMIT) as client:
        pids = _pids(client)
        with peak_rss(pids) as peaks:
            report = lossctl.evaluate(
                p,
                t,
                weight_col="w",
                engine="dask",
                scheduler=client.scheduler.address,
                keep_losses=False,
            )
        assert _pids(client) == pids  # (a worker past its limit is killed and restarted)
    assert report.n_samples == ROWS
    assert max(peaks.values()) < LIMIT, {pid: peak / 2**20 for pid, peak in peaks.items()}
    assert math.isclose(report.mean_loss, expected, rel_tol=1e-10)
