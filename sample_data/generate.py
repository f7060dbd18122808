"""Regenerate the sample files: ``python sample_data/generate.py`` (deterministic).

Each task has a small, realistic pair of files: predictions from a model that
is good but not perfect, and targets drawn from the truth that model tries to
learn. Ids are shared, so lossctl matches rows by id automatically.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

HERE = Path(__file__).parent
rng = np.random.default_rng(20261125)


def write(name: str, columns: dict[str, np.ndarray | list[str]]) -> None:
    table = pa.table(columns)
    (HERE / name).parent.mkdir(exist_ok=True)
    if name.endswith(".parquet"):
        pq.write_table(table, HERE / name)
        return
    if name.endswith(".arrow"):  # the Arrow IPC file format (Feather version 2)
        with pa.ipc.new_file(HERE / name, table.schema) as writer:
            writer.write_table(table, max_chunksize=64)
        return
    if name.endswith(".jsonl"):
        lines = [json.dumps(row) for row in table.to_pylist()]
        (HERE / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        return
    options = pacsv.WriteOptions(quoting_style="none", quoting_header="none")
    with pa.output_stream(HERE / name, compression="detect") as stream:
        pacsv.write_csv(table, stream, write_options=options)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def rows_summing_to_one(p: np.ndarray, decimals: int = 6) -> np.ndarray:
    """Round every column but the last, which takes what is left, so rows sum to 1."""
    head = np.round(p[:, :-1], decimals)
    return np.column_stack([head, np.round(1.0 - head.sum(axis=1), decimals)])


def ids(n: int, prefix: str) -> list[str]:
    return [f"{prefix}{i:04d}" for i in range(1, n + 1)]


def binary(n: int = 200) -> None:
    truth = rng.normal(0.0, 1.6, n) - 0.6
    churned = (rng.random(n) < sigmoid(truth)).astype(np.int64)
    score = np.round(0.8 * truth + rng.normal(0.0, 0.7, n), 4)
    key = ids(n, "c")
    write("binary_logits.csv", {"id": key, "score": score})
    write("binary_probs.csv", {"id": key, "p_churn": np.round(sigmoid(score), 6)})
    write("binary_labels.csv", {"id": key, "churned": churned})
    # The same labels as a pipeline may write them: the README's --pos-label example.
    write("binary_labels_yes_no.csv", {"id": key, "churned": [("no", "yes")[c] for c in churned]})
    weight = np.round(rng.uniform(0.5, 3.0, n), 2)
    write(
        "binary_single.csv",
        {"id": key, "p_churn": np.round(sigmoid(score), 6), "churned": churned, "weight": weight},
    )


def multiclass(n: int = 150) -> None:
    classes = ["cat", "dog", "bird"]
    truth = rng.normal(0.0, 1.5, (n, 3)) + np.array([0.4, 0.2, -0.5])
    label = np.array([rng.choice(3, p=p) for p in softmax(truth)])
    logits = np.round(truth + rng.normal(0.0, 0.8, (n, 3)), 4)
    probs = rows_summing_to_one(softmax(logits))
    key = ids(n, "img")
    write("multiclass_logits.csv", {"id": key, **dict(zip(classes, logits.T, strict=True))})
    write("multiclass_probs.csv", {"id": key, **dict(zip(classes, probs.T, strict=True))})
    # Columns named as pipelines name them: the README's example of class names found so.
    write(
        "multiclass_probs_prefixed.csv",
        {"id": key, **{f"prob_{c}": column for c, column in zip(classes, probs.T, strict=True)}},
    )
    write("multiclass_probs.parquet", {"id": key, **dict(zip(classes, probs.T, strict=True))})
    write("multiclass_probs.arrow", {"id": key, **dict(zip(classes, probs.T, strict=True))})
    for part, rows in enumerate(np.array_split(np.arange(n), 3)):  # as a batch job writes them
        columns = {"id": [key[i] for i in rows], **dict(zip(classes, probs[rows].T, strict=True))}
        write(f"multiclass_parts/part-{part}.parquet", columns)
    # An older, less sharp model of the same images: the baseline in the README's CI example.
    older = rows_summing_to_one(softmax(0.5 * logits + np.array([0.3, 0.0, -0.3])))
    write("multiclass_baseline.csv", {"id": key, **dict(zip(classes, older.T, strict=True))})
    order = rng.permutation(n)  # the labels file lists the images in another order
    names = [classes[i] for i in label[order]]
    write("multiclass_labels.csv", {"id": [key[i] for i in order], "label": names})
    write("multiclass_labels.parquet", {"id": [key[i] for i in order], "label": names})
    write("multiclass_labels.jsonl", {"id": [key[i] for i in order], "label": names})


def multilabel(n: int = 120) -> None:
    genres = ["action", "comedy", "drama", "horror"]
    truth = rng.normal(0.0, 1.8, (n, 4)) + np.array([-0.3, 0.1, 0.5, -1.2])
    labels = (rng.random((n, 4)) < sigmoid(truth)).astype(np.int64)
    logits = np.round(0.9 * truth + rng.normal(0.0, 0.7, (n, 4)), 4)
    key = ids(n, "m")
    write("multilabel_logits.csv", {"id": key, **dict(zip(genres, logits.T, strict=True))})
    write(
        "multilabel_probs.csv",
        {"id": key, **dict(zip(genres, np.round(sigmoid(logits), 6).T, strict=True))},
    )
    write("multilabel_labels.csv", {"id": key, **dict(zip(genres, labels.T, strict=True))})


def regression(n: int = 180) -> None:
    size = rng.uniform(40.0, 220.0, n)
    price = np.round(1.1 * size + 30.0 + rng.normal(0.0, 18.0, n), 1)
    predicted = np.round(1.05 * size + 36.0 + rng.normal(0.0, 9.0, n), 1)
    key = ids(n, "h")
    write("regression_preds.csv", {"id": key, "price": predicted})
    write("regression_preds.csv.gz", {"id": key, "price": predicted})
    write("regression_targets.csv", {"id": key, "price": price})
    # The same in row order, without ids: NumPy arrays as a training script saves them.
    np.save(HERE / "regression_preds.npy", predicted)
    np.save(HERE / "regression_targets.npy", price)


def headerless(n: int = 150) -> None:
    """A pair as numpy.savetxt writes it, with no header line (read with --no-header)."""
    truth = rng.normal(0.0, 1.5, (n, 3))
    label = np.array([rng.choice(3, p=p) for p in softmax(truth)])
    probs = softmax(truth + rng.normal(0.0, 0.8, (n, 3)))
    np.savetxt(HERE / "noheader_probs.csv", probs, delimiter=",")
    np.savetxt(HERE / "noheader_labels.csv", label, fmt="%d")


def edges() -> None:
    """Probabilities on the edges, where the libraries' conventions part (--compat): exactly
    0 and 1, 1e-12 from them, and a multiclass row that sums to 0.9. Written out, no draws."""
    write(
        "multiclass_edges.csv",
        {
            "id": ["e1", "e2", "e3", "e4", "e5"],
            "cat": [0.7, 0.0, 0.2, 1.0, 1e-12],
            "dog": [0.2, 0.5, 0.2, 0.0, 1.0 - 1e-12],
            "bird": [0.1, 0.5, 0.5, 0.0, 0.0],
            "label": ["cat", "cat", "bird", "cat", "cat"],
        },
    )


def hf_lists(n: int = 50) -> None:
    """A Hugging Face style prediction file: each row's logits as one list, its label (a
    class index) beside them, as ``Trainer.predict`` outputs are dumped."""
    own = np.random.default_rng(20261206)  # (its own seed: the files above stay as they are)
    truth = own.normal(0.0, 1.5, (n, 3))
    label = np.array([own.choice(3, p=p) for p in softmax(truth)])
    logits = np.round(truth + own.normal(0.0, 0.8, (n, 3)), 4)
    rows = [
        {"id": i, "logits": row, "label": int(y)}
        for i, row, y in zip(range(1, n + 1), logits.tolist(), label, strict=True)
    ]
    text = "".join(json.dumps(row) + "\n" for row in rows)
    (HERE / "multiclass_logits_list.jsonl").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    binary()
    multiclass()
    multilabel()
    regression()
    headerless()
    edges()
    hf_lists()
