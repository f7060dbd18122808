"""Generate the benchmark data: deterministic, written with pyarrow.

python bench/generate.py [--out bench/data] [--rows 1000000] [--seed 0] [--force]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
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


def _write(columns: dict[str, np.ndarray], n: int, path: Path, parquet: bool) -> None:
    table = pa.table({"id": np.arange(n, dtype=np.int64), **columns})
    with path.with_suffix(".csv").open("wb") as f:  # unquoted header, any pyarrow version
        f.write((",".join(table.column_names) + "\n").encode())
        options = pacsv.WriteOptions(include_header=False, batch_size=1 << 16)
        pacsv.write_csv(table, f, write_options=options)
    if parquet:
        pq.write_table(table, path.with_suffix(".parquet"))


def ensure_data(
    out: Path = DEFAULT_OUT, rows: int = DEFAULT_ROWS, seed: int = 0, force: bool = False
) -> Path:
    """Write every data set into ``out`` unless it is already there for these settings."""
    meta = {"rows": rows, "seed": seed, "version": 1}
    stamp = out / "meta.json"
    if not force and stamp.exists() and json.loads(stamp.read_text()) == meta:
        return out
    out.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    for i, (name, make, fixed, parquet) in enumerate(DATASETS):
        n = fixed or rows
        pred, true = make(np.random.default_rng([seed, i]), n)
        _write(pred, n, out / f"{name}_pred", parquet)
        _write(true, n, out / f"{name}_true", parquet)
        print(f"wrote {name}_pred/{name}_true ({n:,} rows) to {out}")
    stamp.write_text(json.dumps(meta))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="rows per large file")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="regenerate even if present")
    args = parser.parse_args()
    ensure_data(args.out, args.rows, args.seed, args.force)


if __name__ == "__main__":
    main()
