"""Peer: DuckDB reads, joins on id and computes the loss in SQL; prints the mean loss."""

from __future__ import annotations

import duckdb
from _common import EPS, ID, LOSS, check_rows, files, parse_args


def quote(text: str) -> str:
    return f"'{text.replace(chr(39), chr(39) * 2)}'"


def source(path: str) -> str:
    found = files(path)
    reader = "read_parquet" if found[0].endswith(".parquet") else "read_csv"
    paths = quote(found[0]) if len(found) == 1 else f"[{', '.join(map(quote, found))}]"
    return f"{reader}({paths})"


def col(table: str, name: str) -> str:
    return f'{table}."{name.replace(chr(34), chr(34) * 2)}"'


def clip(expr: str) -> str:
    return f"greatest(least({expr}, 1 - $eps), $eps)"


def per_row_loss(task: str, pred: list[str], true: list[str]) -> str:
    """SQL for one row's loss over ``p`` (predictions) joined with ``t`` (targets)."""
    p, t = [col("p", c) for c in pred], [col("t", c) for c in true]
    if task == "regression":
        return f"pow({p[0]} - {t[0]}, 2)"
    if task == "multiclass":
        cases = " ".join(f"WHEN {k} THEN {c}" for k, c in enumerate(p))
        return f"-ln({clip(f'CASE {t[0]} {cases} END')})"
    # binary, multilabel: BCE summed over the columns
    return " + ".join(
        f"-({y} * ln({clip(x)}) + (1 - {y}) * ln(1 - {clip(x)}))" for x, y in zip(p, t, strict=True)
    )


def main() -> None:
    args = parse_args(__doc__)
    con = duckdb.connect()
    pred, true = source(args.pred), source(args.true)
    pred_cols = [c for c in con.sql(f"SELECT * FROM {pred} LIMIT 0").columns if c != ID]
    true_cols = [c for c in con.sql(f"SELECT * FROM {true} LIMIT 0").columns if c != ID]
    loss = per_row_loss(args.task, pred_cols, true_cols)
    joined = f"FROM {pred} AS p LEFT JOIN {true} AS t ON p.{ID} = t.{ID}"
    params = {"eps": EPS} if "$eps" in loss else {}
    if args.output:  # write the losses, NULL where a target is missing; then read them back
        out, matched = quote(args.output), f"t.{ID} IS NOT NULL"  # (least/greatest skip NULLs)
        select = f"SELECT p.{ID}, CASE WHEN {matched} THEN {loss} END AS {LOSS} {joined}"
        con.execute(f"COPY ({select}) TO {out} (FORMAT parquet)", params)
        row = con.execute(
            f"SELECT avg({LOSS}), count({LOSS}), count(*) FROM read_parquet({out})"
        ).fetchone()
    else:
        row = con.execute(
            f"SELECT avg({loss}), count(t.{ID}), count(*) {joined}", params
        ).fetchone()
    assert row is not None
    check_rows(row[1], row[2])
    print(row[0])


if __name__ == "__main__":
    main()
