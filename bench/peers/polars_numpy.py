"""Peer: polars reads and joins on id, NumPy computes the loss; prints the mean loss."""

from __future__ import annotations

import numpy as np
import polars as pl
from _common import EPS, ID, SUFFIX, check_rows, parse_args, value_columns


def read(path: str) -> pl.DataFrame:
    return pl.read_parquet(path) if path.endswith(".parquet") else pl.read_csv(path)


def loss(task: str, p: np.ndarray, y: np.ndarray) -> float:
    if task == "regression":
        return float(np.mean((p[:, 0] - y[:, 0]) ** 2))
    if task == "multiclass":
        picked = p[np.arange(len(p)), y[:, 0].astype(np.intp)]
        return float(-np.mean(np.log(np.clip(picked, EPS, 1 - EPS))))
    p = np.clip(p, EPS, 1 - EPS)  # binary, multilabel: BCE summed over the columns
    return float(-np.mean(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p), axis=1)))


def main() -> None:
    args = parse_args(__doc__)
    pred, true = read(args.pred), read(args.true)
    joined = pred.join(true, on=ID, how="inner", suffix=SUFFIX)
    check_rows(joined.height, pred.height)
    pred_cols, true_cols = value_columns(pred.columns, true.columns)
    print(loss(args.task, joined.select(pred_cols).to_numpy(), joined.select(true_cols).to_numpy()))


if __name__ == "__main__":
    main()
