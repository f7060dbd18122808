"""Peer: pandas reads and merges on id, scikit-learn computes the loss; prints the mean loss."""

from __future__ import annotations

import numpy as np
import pandas as pd
from _common import ID, LOSS, SUFFIX, check_rows, files, parse_args, per_sample, value_columns
from sklearn.metrics import log_loss, mean_squared_error


def read(path: str) -> pd.DataFrame:
    frames = [pd.read_parquet(f) if f.endswith(".parquet") else pd.read_csv(f) for f in files(path)]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def loss(task: str, p: np.ndarray, y: np.ndarray) -> float:
    # y_pred/y_proba positionally: the keyword was renamed in scikit-learn 1.9.
    if task == "multiclass":
        return float(log_loss(y[:, 0], p, labels=np.arange(p.shape[1])))
    if task == "regression":
        return float(mean_squared_error(y[:, 0], p[:, 0]))
    # binary, multilabel: per-column log loss, summed over the columns
    return float(sum(log_loss(y[:, j], p[:, j], labels=[0, 1]) for j in range(p.shape[1])))


def main() -> None:
    args = parse_args(__doc__)
    pred, true = read(args.pred), read(args.true)
    joined = pred.merge(true, on=ID, how="inner", suffixes=("", SUFFIX))
    check_rows(len(joined), len(pred))
    pred_cols, true_cols = value_columns(list(pred.columns), list(true.columns))
    p, y = joined[pred_cols].to_numpy(), joined[true_cols].to_numpy()
    if args.output:  # scikit-learn gives the mean alone
        frame = pd.DataFrame({ID: joined[ID].to_numpy(), LOSS: per_sample(args.task, p, y)})
        frame.to_parquet(args.output, index=False)
    print(loss(args.task, p, y))


if __name__ == "__main__":
    main()
