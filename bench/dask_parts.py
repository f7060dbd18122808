"""The dask engine against the local engine: N rows of binary Parquet parts (predictions and
targets), wall time and the peak RSS of the largest process of each run.

    python bench/dask_parts.py [--rows 10000000] [--parts 10] [--workers 2] [--ids MODE]

``--ids`` matches the rows: ``none`` by position (the default); ``step`` by an id column that
increases across parts side by side (joined in step on the workers); ``unordered`` by ids in
no order, the same in each pair of parts (joined in step, after the check in buckets that
no id is in two parts); ``shuffled`` by ids whose targets are in half as many parts, in
another order (joined through Dask).

The dask run starts its LocalCluster (``--workers`` processes, one thread each) inside the
measured command, as ``lossctl eval --engine dask`` does without --scheduler; the rows per
second per worker of the report are over the whole command, start-up included. The peak RSS
is each process's own (``getrusage(RUSAGE_SELF)``): of the process that calls lossctl (the
client), and of the largest worker; the workers' seconds are the time they spent in each kind
of task (``partition_pass``: the passes; ``read``, ``split``, ``unique_bucket``,
``join_bucket``, ``aligned``: the join by id), from Dask's task stream.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUN = """
import collections, json, resource, sys, time, distributed, lossctl
from distributed.utils import key_split
def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t = time.perf_counter()
workers, seconds = 0.0, collections.Counter()
if {workers}:
    with distributed.LocalCluster(n_workers={workers}, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as c, distributed.Client(c) as client:
        up = time.perf_counter() - t
        with distributed.get_task_stream(client) as stream:
            r = lossctl.evaluate({p!r}, {t!r}, engine="dask", scheduler=c.scheduler_address,
                                 keep_losses=False, **{options!r})
        wall = time.perf_counter() - t
        workers = max(client.run(peak).values())
    for task in stream.data:
        for step in task["startstops"]:
            if step["action"] == "compute":
                name = "partition_pass" if "partition_pass" in str(task["key"]) else None
                seconds[name or key_split(task["key"])] += step["stop"] - step["start"]
else:
    up = 0.0
    r = lossctl.evaluate({p!r}, {t!r}, keep_losses=False, **{options!r})
    wall = time.perf_counter() - t
print(repr(r.mean_loss), up, wall, peak(), workers, json.dumps(seconds))
"""


def write(root: Path, rows: int, parts: int, ids: str) -> tuple[str, str]:
    import numpy as np  # (here: the process that measures stays small, see main)
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    for side in ("p", "t"):
        (root / side).mkdir(parents=True, exist_ok=True)
    per = rows // parts
    keys = np.arange(rows, dtype=np.int64)
    if ids == "unordered":
        keys = rng.permutation(10 * rows)[:rows].astype(np.int64)
    targets = []
    for i in range(parts):
        y = rng.integers(0, 2, per)
        p = np.clip(0.3 * y + rng.uniform(0, 0.7, per), 1e-6, 1 - 1e-6)
        own = {"id": keys[i * per : (i + 1) * per]} if ids != "none" else {}
        pq.write_table(pa.table({**own, "p": p}), root / "p" / f"part-{i:03d}.parquet")
        if ids == "shuffled":
            targets.append(pa.table({**own, "y": y}))
        else:
            pq.write_table(pa.table({**own, "y": y}), root / "t" / f"part-{i:03d}.parquet")
    if targets:
        whole = pa.concat_tables(targets)
        whole = whole.take(pa.array(rng.permutation(len(whole))))
        half = max(1, parts // 2)
        size = -(-len(whole) // half)
        for i in range(half):
            part = whole.slice(i * size, size)
            pq.write_table(part, root / "t" / f"part-{i:03d}.parquet")
    return str(root / "p"), str(root / "t")


def measure(p: str, t: str, workers: int, ids: str) -> tuple[str, float, float, float, float, str]:
    """mean loss, cluster start-up, wall (s), peak RSS of the client and of the largest
    worker (MiB), and the seconds that the workers spent in each kind of task."""
    options = {} if ids == "none" else {"id_col": "id"}
    code = RUN.format(p=p, t=t, workers=workers, options=options)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loss, up, wall, client, worker, tasks = out.stdout.split(maxsplit=5)
    seconds = sorted(json.loads(tasks).items(), key=lambda item: -item[1])
    spent = ", ".join(f"{name} {s:.2f}" for name, s in seconds if s >= 0.05)
    return loss, float(up), float(wall), float(client), float(worker), spent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--parts", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ids", choices=["none", "step", "unordered", "shuffled"], default="none")
    parser.add_argument("--write", help=argparse.SUPPRESS)  # (the data, into this directory)
    args = parser.parse_args()
    if args.write:
        write(Path(args.write), args.rows, args.parts, args.ids)
        return
    with tempfile.TemporaryDirectory() as tmp:
        # (written by a process of its own: a process that this one starts counts this
        # one's memory at its start in its peak, and the data would be most of it)
        writer = [sys.executable, __file__, "--write", tmp, *sys.argv[1:]]
        subprocess.run(writer, check=True)
        p, t = str(Path(tmp) / "p"), str(Path(tmp) / "t")
        size = sum(f.stat().st_size for f in Path(tmp).rglob("*.parquet"))
        print(
            f"{args.rows:,} rows in {args.parts} parts ({size / 2**20:.0f} MiB of Parquet), "
            f"{os.cpu_count()} cores, rows matched: {args.ids}"
        )
        for name, workers in (("local", 0), (f"dask, {args.workers} workers", args.workers)):
            started = time.perf_counter()
            loss, up, wall, client, worker, spent = measure(p, t, workers, args.ids)
            rate = args.rows / (wall - up) / max(workers, 1)
            memory = f"peak RSS {client:.0f} MiB"
            if workers:
                memory = f"peak RSS {client:.0f} MiB client, {worker:.0f} MiB worker"
            print(
                f"{name:16} mean {loss}  wall {wall:.2f} s (cluster start {up:.2f} s)  "
                f"{rate / 1e6:.2f} M rows/s per core  {memory}"
                f"  [{time.perf_counter() - started:.1f} s with Python's start]"
            )
            if spent:
                print(f"{'':16} seconds in tasks: {spent}")


if __name__ == "__main__":
    main()
