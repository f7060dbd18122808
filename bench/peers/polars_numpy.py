"""Peer: polars reads and joins on id, NumPy computes the loss; prints the mean loss."""

from __future__ import annotations

import numpy as np
import polars as pl
from _common import ID, LOSS, SUFFIX, check_rows, files, parse_args, per_sample, value_columns


def scan(path: str) -> pl.LazyFrame:
    found = files(path)
    return pl.scan_parquet(found) if found[0].endswith(".parquet") else pl.scan_csv(found)


def main() -> None:
    args = parse_args(__doc__)
    pred, true = scan(args.pred), scan(args.true)
    pred_cols, true_cols = value_columns(
        pred.collect_schema().names(), true.collect_schema().names()
    )
    joined = pred.join(true, on=ID, how="left", suffix=SUFFIX).collect()
    check_rows(joined.height - joined[true_cols[0]].null_count(), joined.height)
    losses = per_sample(
        args.task, joined.select(pred_cols).to_numpy(), joined.select(true_cols).to_numpy()
    )
    if args.output:
        pl.DataFrame({ID: joined[ID], LOSS: losses}).write_parquet(args.output)
    print(float(np.mean(losses)))


if __name__ == "__main__":
    main()
