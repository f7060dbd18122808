"""Generate the benchmark data: deterministic, written with pyarrow.

python bench/generate.py [--out bench/data] [--rows 1000000] [--seed 0] [--force] [--scale]
                         [--memory]
"""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

DEFAULT_OUT = Path(__file__).resolve().parent / "data"
DEFAULT_ROWS = 1_000_000
SMALL_ROWS = 1_000
CLASSES = 10
LABELS = 5

Pair = tuple[dict[str, np.ndarray], dict[str, np.ndarray]]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    p: np.ndarray = 1.0 / (1.0 + np.exp(-z))
    return p


def multiclass(rng: np.random.Generator, n: int) -> Pair:
    logits = rng.standard_normal((n, CLASSES)) * 1.5  # mean loss ~1.6
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    # Draw each label from its row's predicted distribution (inverse CDF).
    u = rng.random((n, 1))
    label = np.minimum((p.cumsum(axis=1) < u).sum(axis=1), CLASSES - 1)
    return {f"c{k}": p[:, k] for k in range(CLASSES)}, {"label": label}


def binary(rng: np.random.Generator, n: int) -> Pair:
    p = _sigmoid(rng.standard_normal(n) * 2.0)
    return {"p": p}, {"y": (rng.random(n) < p).astype(np.int64)}


def multilabel(rng: np.random.Generator, n: int) -> Pair:
    p = _sigmoid(rng.standard_normal((n, LABELS)) * 2.0)
    y = (rng.random((n, LABELS)) < p).astype(np.int64)
    return (
        {f"l{k}": p[:, k] for k in range(LABELS)},
        {f"l{k}": y[:, k] for k in range(LABELS)},
    )


def regression(rng: np.random.Generator, n: int) -> Pair:
    yhat = rng.standard_normal(n) * 3.0
    return {"yhat": yhat}, {"y": yhat + rng.standard_normal(n)}


Maker = Callable[[np.random.Generator, int], Pair]
# (file prefix, generator, fixed row count or None for --rows, also write Parquet)
DATASETS: list[tuple[str, Maker, int | None, bool]] = [
    ("mc", multiclass, None, True),
    ("bin", binary, None, False),
    ("ml", multilabel, None, False),
    ("reg", regression, None, False),
    ("small", multiclass, SMALL_ROWS, False),
]
#: The data set also written with its targets shuffled (``mc_true_shuffled.csv``), and
#: with the predictions of a second model, drawn alike, as a baseline (``mc_base.parquet``).
SHUFFLED = "mc"
#: The data set also written with a value that is not a number near its end
#: (``mc_pred_bad.csv``: BAD_VALUE in column BAD_COLUMN, BAD_FROM_END rows before the
#: last, so row 999,996 of 1,000,000), and both files of predictions also gzipped.
BAD, BAD_COLUMN, BAD_VALUE, BAD_FROM_END = "mc", "c4", b"oops", 4
# Multiclass in Parquet parts for the scale cases: (directory prefix, rows as a multiple
# of --rows). The predictions are split into PRED_PARTS files and the targets, differently,
# into TRUE_PARTS files; the ids run 0..n-1 in the same order on both sides.
SCALE_SETS = [("mc1m", 1), ("mc10m", 10)]
PRED_PARTS, TRUE_PARTS = 10, 4
#: The files of the metrics' memory bound (``--memory``): ``many_*.parquet``, MANY_CLASSES
#: classes on --rows / MANY_FEWER rows (20,000), written MANY_GROUP rows to a row group; and
#: ``groups_*.csv``, --rows binary rows with a ``group`` column of GROUPS values.
MANY_CLASSES, MANY_LIKELY, MANY_FEWER, MANY_GROUP, GROUPS = 5_000, 20, 50, 1_000, 20_000


def _write(
    columns: dict[str, np.ndarray],
    n: int,
    path: Path,
    parquet: bool,
    order: np.ndarray | None = None,
    csv: bool = True,
) -> None:
    """Columns with ids 0..n-1, in the row ``order`` given (default: as they are)."""
    table = pa.table({"id": np.arange(n, dtype=np.int64), **columns})
    if order is not None:
        table = table.take(pa.array(order))
    if csv:
        with path.with_suffix(".csv").open("wb") as f:  # unquoted header, any pyarrow version
            f.write((",".join(table.column_names) + "\n").encode())
            options = pacsv.WriteOptions(include_header=False, batch_size=1 << 16)
            pacsv.write_csv(table, f, write_options=options)
    if parquet:
        pq.write_table(table, path.with_suffix(".parquet"))


def bad_row(n: int) -> int:
    """The data row (from 1, the header not counted) of the bad value in ``n`` rows."""
    return max(n - BAD_FROM_END, 1)


def _write_bad(good: Path, n: int) -> None:
    """``good``'s CSV with BAD_VALUE in column BAD_COLUMN of row ``bad_row(n)``, as
    ``mc_pred_bad.csv``; both files also gzipped (``.csv.gz``)."""
    import gzip

    lines = good.read_bytes().split(b"\n")
    column = lines[0].split(b",").index(BAD_COLUMN.encode())
    cells = lines[bad_row(n)].split(b",")
    cells[column] = BAD_VALUE
    lines[bad_row(n)] = b",".join(cells)
    bad = good.with_name(good.stem + "_bad.csv")
    bad.write_bytes(b"\n".join(lines))
    for path in (good, bad):
        with path.open("rb") as f, gzip.open(path.with_suffix(".csv.gz"), "wb", 6) as out:
            shutil.copyfileobj(f, out, 1 << 20)


def _bounds(n: int, parts: int) -> list[int]:
    return [n * k // parts for k in range(parts + 1)]


def _write_parts(out: Path, name: str, n: int, seed: list[int]) -> None:
    """Write ``n`` multiclass rows to ``name_pred/part-NN.parquet`` and ``name_true/...``,
    and a baseline model's predictions to ``name_base/`` (parts as the predictions').

    One predictions part at a time, so that no more than n / PRED_PARTS rows are in
    memory; each predictions part has its own generator, seeded with ``[*seed, part]``.
    """
    pred_dir, true_dir = out / f"{name}_pred", out / f"{name}_true"
    base_dir = out / f"{name}_base"
    for folder in (pred_dir, true_dir, base_dir):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
    true_ends = iter(enumerate(_bounds(n, TRUE_PARTS)[1:]))
    part, end = next(true_ends)
    writer: pq.ParquetWriter | None = None
    for i, (lo, hi) in enumerate(pairwise(_bounds(n, PRED_PARTS))):
        pred, true = multiclass(np.random.default_rng([*seed, i]), hi - lo)
        ids = {"id": np.arange(lo, hi, dtype=np.int64)}
        pq.write_table(pa.table({**ids, **pred}), pred_dir / f"part-{i:02d}.parquet")
        base, _ = multiclass(np.random.default_rng([*seed, i, 1]), hi - lo)
        pq.write_table(pa.table({**ids, **base}), base_dir / f"part-{i:02d}.parquet")
        labels = pa.table({**ids, **true})
        start = lo
        while start < hi:  # the targets parts end elsewhere: split the chunk at their ends
            if writer is None:
                writer = pq.ParquetWriter(true_dir / f"part-{part:02d}.parquet", labels.schema)
            stop = min(hi, end)
            writer.write_table(labels.slice(start - lo, stop - start))
            start = stop
            if stop == end:
                writer.close()
                writer = None
                part, end = next(true_ends, (part + 1, n))


def many_classes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` rows of MANY_CLASSES probabilities and a label drawn from each: MANY_LIKELY
    classes of a row share 95 % of it (Dirichlet), every other class has 1e-5, so that a
    row sums to 1 and a column is mostly one value (the file stays small)."""
    rest = 1e-5
    p = np.full((n, MANY_CLASSES), rest)
    likely = np.argpartition(rng.random((n, MANY_CLASSES)), MANY_LIKELY, axis=1)
    share = rng.dirichlet(np.full(MANY_LIKELY, 0.5), n) * (1 - rest * (MANY_CLASSES - MANY_LIKELY))
    np.put_along_axis(p, likely[:, :MANY_LIKELY], share, axis=1)
    u = rng.random((n, 1))
    return p, np.minimum((p.cumsum(axis=1) < u).sum(axis=1), MANY_CLASSES - 1)


def _write_many(out: Path, n: int, seed: list[int]) -> None:
    """``many_pred.parquet`` / ``many_true.parquet``, a row group at a time."""
    labels = []
    writer: pq.ParquetWriter | None = None
    for i, lo in enumerate(range(0, n, MANY_GROUP)):
        hi = min(n, lo + MANY_GROUP)
        p, label = many_classes(np.random.default_rng([*seed, i]), hi - lo)
        columns = {"id": np.arange(lo, hi, dtype=np.int64)}
        table = pa.table({**columns, **{f"c{k}": p[:, k] for k in range(MANY_CLASSES)}})
        if writer is None:
            writer = pq.ParquetWriter(out / "many_pred.parquet", table.schema)
        writer.write_table(table)
        labels.append(label)
    if writer is not None:
        writer.close()
    true = {"id": np.arange(n, dtype=np.int64), "label": np.concatenate(labels)}
    pq.write_table(pa.table(true), out / "many_true.parquet")


def groups(rng: np.random.Generator, n: int) -> Pair:
    pred, true = binary(rng, n)
    return {**pred, "group": rng.integers(0, GROUPS, n)}, true


def _fresh(stamp: Path, meta: dict[str, int], force: bool) -> bool:
    return not force and stamp.exists() and json.loads(stamp.read_text()) == meta


def ensure_data(
    out: Path = DEFAULT_OUT,
    rows: int = DEFAULT_ROWS,
    seed: int = 0,
    force: bool = False,
    scale: bool = False,
    memory: bool = False,
) -> Path:
    """Write every data set into ``out`` unless it is already there for these settings.

    With ``scale``, also the scale sets (stamped apart, in meta-scale.json); with
    ``memory``, the memory bound's (in meta-memory.json).
    """
    meta = {"rows": rows, "seed": seed, "version": 4}
    out.mkdir(parents=True, exist_ok=True)
    stamp = out / "meta.json"
    if not _fresh(stamp, meta, force):
        stamp.unlink(missing_ok=True)
        for i, (name, make, fixed, parquet) in enumerate(DATASETS):
            n = fixed or rows
            pred, true = make(np.random.default_rng([seed, i]), n)
            _write(pred, n, out / f"{name}_pred", parquet)
            _write(true, n, out / f"{name}_true", parquet)
            print(f"wrote {name}_pred/{name}_true ({n:,} rows) to {out}")
            if name == SHUFFLED:  # the same targets in another order: joined by hash
                order = np.random.default_rng([seed, i, 1]).permutation(n)
                _write(true, n, out / f"{name}_true_shuffled", False, order)
                base, _ = make(np.random.default_rng([seed, i, 2]), n)
                _write(base, n, out / f"{name}_base", True, csv=False)
            if name == BAD:
                _write_bad(out / f"{name}_pred.csv", n)
        stamp.write_text(json.dumps(meta))
    stamp = out / "meta-scale.json"
    if scale and not _fresh(stamp, meta, force):
        stamp.unlink(missing_ok=True)
        for i, (name, factor) in enumerate(SCALE_SETS, start=len(DATASETS)):
            n = factor * rows
            _write_parts(out, name, n, [seed, i])
            print(
                f"wrote {name}_pred/ ({PRED_PARTS} parts), {name}_true/ ({TRUE_PARTS} parts)"
                f" ({n:,} rows) to {out}"
            )
        stamp.write_text(json.dumps(meta))
    stamp = out / "meta-memory.json"
    if memory and not _fresh(stamp, meta, force):
        stamp.unlink(missing_ok=True)
        first = len(DATASETS) + len(SCALE_SETS)
        _write_many(out, max(rows // MANY_FEWER, 1), [seed, first])
        pred, true = groups(np.random.default_rng([seed, first + 1]), rows)
        _write(pred, rows, out / "groups_pred", False)
        _write(true, rows, out / "groups_true", False)
        print(f"wrote many_pred/many_true ({MANY_CLASSES:,} classes), groups_pred/groups_true")
        stamp.write_text(json.dumps(meta))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="rows per large file")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="regenerate even if present")
    parser.add_argument(
        "--scale",
        action="store_true",
        help="also the scale sets: --rows and 10 x --rows multiclass rows in Parquet parts",
    )
    parser.add_argument(
        "--memory",
        action="store_true",
        help="also the memory bound's: 5,000 classes on --rows / 50 rows, and a --by column "
        "of 20,000 groups on --rows binary rows",
    )
    args = parser.parse_args()
    ensure_data(args.out, args.rows, args.seed, args.force, args.scale, args.memory)


if __name__ == "__main__":
    main()
