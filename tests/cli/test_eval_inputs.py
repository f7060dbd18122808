"""``lossctl eval`` end to end (in-process): columns, ids, stdin, file formats, missing values,
numerics, sample rows, target encodings and chunks.

The numbers are checked against the oracles of tests/cli/sample_oracles.py, never against
lossctl itself (except where the point is that two lossctl runs agree).
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import log_loss

from tests.cli.helpers import (
    assert_one_error_line,
    csv_text,
    eval_json,
    eval_value,
    run_eval,
    sample_path,
)
from tests.cli.sample_oracles import (
    CLASSES,
    GENRES,
    aligned,
    bce_from_logits,
    binary_logits,
    binary_probs,
    multiclass_logits,
    multiclass_probs,
    multiclass_y,
    multilabel_probs,
    regression,
    write_aligned_multiclass_labels,
)

# --------------------------------------------------------------------------- columns


def test_pred_and_target_cols_repeatable_and_comma_separated() -> None:
    args = [sample_path("multilabel_logits.csv"), sample_path("multilabel_labels.csv")]
    default = eval_json(*args)
    named = eval_json(
        *args,
        "--pred-col", "action,comedy", "--pred-col", "drama",
        "--pred-col", "horror",
        "--target-col", "action", "--target-col", "comedy,drama,horror",
    )  # fmt: skip
    assert named["inputs"]["pred_columns"] == GENRES
    assert named["inputs"]["target_columns"] == GENRES
    assert named["mean_loss"] == default["mean_loss"]


def test_pred_and_target_cols_pick_a_subset() -> None:
    p, t = aligned("multilabel_logits.csv", "multilabel_labels.csv")
    args = [sample_path("multilabel_logits.csv"), sample_path("multilabel_labels.csv")]
    one = eval_json(*args, "--pred-col", "drama", "--target-col", "drama")
    assert one["task"] == "binary"
    expected = bce_from_logits(p["drama"].to_numpy(), t["drama"].to_numpy()).mean()
    assert one["mean_loss"] == pytest.approx(expected, rel=1e-12)
    two = eval_json(*args, "--pred-col", "horror, action", "--target-col", "horror,action")
    assert two["task"] == "multilabel"
    assert two["inputs"]["pred_columns"] == ["horror", "action"]
    cols = ["horror", "action"]
    expected = bce_from_logits(p[cols].to_numpy(), t[cols].to_numpy()).sum(axis=1).mean()
    assert two["mean_loss"] == pytest.approx(expected, rel=1e-12)


def test_single_file_mode_with_weights() -> None:
    frame = pd.read_csv(sample_path("binary_single.csv"))
    expected = log_loss(frame["churned"], frame["p_churn"], sample_weight=frame["weight"])
    doc = eval_json(
        sample_path("binary_single.csv"), "--target-col", "churned", "--weight-col", "weight"
    )
    assert doc["task"] == "binary"
    assert doc["inputs"]["pred_columns"] == ["p_churn"]
    assert doc["inputs"]["target_columns"] == ["churned"]
    assert doc["inputs"]["targets"] is None
    assert doc["weighted"] is True
    assert doc["mean_loss"] == pytest.approx(expected, rel=1e-12)
    assert doc["unweighted_mean_loss"] == pytest.approx(binary_probs().mean(), rel=1e-12)
    assert doc["sum_weights"] == pytest.approx(frame["weight"].sum())


def _labels_with_weights(tmp_path: Path, weights: np.ndarray, name: str = "w") -> str:
    labels = pd.read_csv(sample_path("binary_labels.csv"))
    labels[name] = weights
    path = tmp_path / "labels_w.csv"
    labels.to_csv(path, index=False)
    return str(path)


def test_weight_col_in_targets_is_sklearn_sample_weight(tmp_path: Path) -> None:
    p, t = aligned("binary_probs.csv", "binary_labels.csv")
    weights = np.linspace(0.0, 3.0, len(t))  # includes a zero weight
    labels = _labels_with_weights(tmp_path, weights)
    doc = eval_json(sample_path("binary_probs.csv"), labels, "--weight-col", "w")
    expected = log_loss(t["churned"], p["p_churn"], sample_weight=weights)
    assert doc["weighted"] is True
    assert doc["inputs"]["weight_column"] == "w"
    assert doc["inputs"]["target_columns"] == ["churned"]  # the weight is not a target
    assert doc["mean_loss"] == pytest.approx(expected, rel=1e-12)


def test_weights_of_one_equal_no_weights(tmp_path: Path) -> None:
    labels = _labels_with_weights(tmp_path, np.ones(200))
    weighted = eval_value(sample_path("binary_probs.csv"), labels, "--weight-col", "w")
    plain = eval_value(sample_path("binary_probs.csv"), sample_path("binary_labels.csv"))
    assert weighted == pytest.approx(plain, rel=1e-14)


def test_weight_col_from_targets_when_both_files_have_it(tmp_path: Path) -> None:
    p, t = aligned("binary_probs.csv", "binary_labels.csv")
    target_w = np.linspace(0.5, 2.0, 200)
    labels = _labels_with_weights(tmp_path, target_w)
    preds = p.assign(w=np.linspace(5.0, 0.1, 200))  # different weights: must be ignored
    preds_path = tmp_path / "preds_w.csv"
    preds.to_csv(preds_path, index=False)
    doc = eval_json(str(preds_path), labels, "--weight-col", "w")
    assert doc["inputs"]["pred_columns"] == ["p_churn"]
    expected = log_loss(t["churned"], p["p_churn"], sample_weight=target_w)
    assert doc["mean_loss"] == pytest.approx(expected, rel=1e-12)


def test_weight_col_from_the_predictions_file(tmp_path: Path) -> None:
    p, t = aligned("binary_probs.csv", "binary_labels.csv")
    weights = np.linspace(0.5, 2.0, 200)
    preds_path = tmp_path / "preds_w.csv"
    p.assign(w=weights).to_csv(preds_path, index=False)
    doc = eval_json(str(preds_path), sample_path("binary_labels.csv"), "--weight-col", "w")
    assert doc["inputs"]["pred_columns"] == ["p_churn"]
    expected = log_loss(t["churned"], p["p_churn"], sample_weight=weights)
    assert doc["mean_loss"] == pytest.approx(expected, rel=1e-12)


# --------------------------------------------------------------------------- ids


def test_the_sample_labels_really_are_shuffled() -> None:
    preds = pd.read_csv(sample_path("multiclass_probs.csv"))
    labels = pd.read_csv(sample_path("multiclass_labels.csv"))
    assert sorted(preds["id"]) == sorted(labels["id"])
    assert preds["id"].tolist() != labels["id"].tolist()


def test_automatic_id_join_equals_row_aligned_copy(tmp_path: Path) -> None:
    preds = sample_path("multiclass_probs.csv")
    joined = run_eval(preds, sample_path("multiclass_labels.csv"), "--format", "csv")
    aligned = run_eval(
        preds, write_aligned_multiclass_labels(tmp_path), "--no-id", "--format", "csv"
    )
    assert joined.exit_code == aligned.exit_code == 0
    joined_losses = pd.read_csv(io.StringIO(joined.stdout))
    aligned_losses = pd.read_csv(io.StringIO(aligned.stdout))
    np.testing.assert_array_equal(joined_losses["loss"], aligned_losses["loss"])
    doc = eval_json(preds, sample_path("multiclass_labels.csv"))
    assert "'id'" in doc["detection"]["alignment"]
    assert any("id" in reason for reason in doc["detection"]["reasons"])
    assert doc["inputs"]["id_column"] == "id"
    assert doc["inputs"]["pred_columns"] == CLASSES  # the id is never a prediction column


def test_explicit_id_column_with_another_name(tmp_path: Path) -> None:
    preds = pd.read_csv(sample_path("multiclass_probs.csv")).rename(columns={"id": "key"})
    labels = pd.read_csv(sample_path("multiclass_labels.csv")).rename(columns={"id": "key"})
    preds.to_csv(tmp_path / "p.csv", index=False)
    labels.to_csv(tmp_path / "y.csv", index=False)
    doc = eval_json(str(tmp_path / "p.csv"), str(tmp_path / "y.csv"), "--id", "key")
    assert doc["inputs"]["id_column"] == "key"
    assert doc["inputs"]["pred_columns"] == CLASSES
    assert doc["mean_loss"] == pytest.approx(multiclass_probs().mean(), rel=1e-12)
    result = run_eval(
        str(tmp_path / "p.csv"), str(tmp_path / "y.csv"), "--id", "key", "--format", "csv"
    )
    assert result.stdout.splitlines()[0] == "key,loss,predicted"


def test_automatic_id_column_in_any_case(tmp_path: Path) -> None:
    preds = pd.read_csv(sample_path("multiclass_probs.csv")).rename(columns={"id": "ID"})
    labels = pd.read_csv(sample_path("multiclass_labels.csv")).rename(columns={"id": "Id"})
    preds.to_csv(tmp_path / "p.csv", index=False)
    labels.to_csv(tmp_path / "y.csv", index=False)
    doc = eval_json(str(tmp_path / "p.csv"), str(tmp_path / "y.csv"))
    assert doc["inputs"]["pred_columns"] == CLASSES
    assert doc["mean_loss"] == pytest.approx(multiclass_probs().mean(), rel=1e-12)


def test_no_id_aligns_by_position_and_says_so() -> None:
    args = [sample_path("multiclass_probs.csv"), sample_path("multiclass_labels.csv")]
    doc = eval_json(*args, "--no-id")
    assert "position" in doc["detection"]["alignment"]
    assert doc["inputs"]["pred_columns"] == CLASSES  # the id column is still set aside
    preds = pd.read_csv(args[0])
    labels = pd.read_csv(args[1])
    by_position = -np.log(preds[CLASSES].to_numpy()[np.arange(150), multiclass_y(labels)]).mean()
    assert doc["mean_loss"] == pytest.approx(by_position, rel=1e-12)
    assert doc["mean_loss"] != pytest.approx(multiclass_probs().mean())


# --------------------------------------------------------------------------- stdin


def test_predictions_on_stdin() -> None:
    text = Path(sample_path("binary_logits.csv")).read_text()
    result = run_eval("-", sample_path("binary_labels.csv"), "--format", "value", input=text)
    assert result.exit_code == 0, result.stderr
    assert float(result.stdout) == pytest.approx(binary_logits().mean(), rel=1e-12)


def test_targets_on_stdin() -> None:
    text = Path(sample_path("multiclass_labels.csv")).read_text()
    result = run_eval(sample_path("multiclass_probs.csv"), "-", "--format", "json", input=text)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["inputs"]["targets"] == "-"
    assert doc["mean_loss"] == pytest.approx(multiclass_probs().mean(), rel=1e-12)


def test_single_file_on_stdin() -> None:
    text = Path(sample_path("binary_single.csv")).read_text()
    result = run_eval(
        "-", "--target-col", "churned", "--weight-col", "weight", "--format", "value", input=text
    )
    assert result.exit_code == 0, result.stderr
    frame = pd.read_csv(sample_path("binary_single.csv"))
    expected = log_loss(frame["churned"], frame["p_churn"], sample_weight=frame["weight"])
    assert float(result.stdout) == pytest.approx(expected, rel=1e-12)


# --------------------------------------------------------------------------- file formats


def _convert(source: str, target: Path) -> str:
    """Rewrite a sample CSV as ``target`` (format and compression from its name)."""
    table = pacsv.read_csv(source)
    name = target.name
    if name.endswith(".parquet"):
        pq.write_table(table, target)
    else:
        delimiter = "\t" if name.endswith(".tsv") else ","
        options = pacsv.WriteOptions(delimiter=delimiter, quoting_style="none")
        with pa.output_stream(str(target), compression="detect") as stream:
            pacsv.write_csv(table, stream, write_options=options)
    return str(target)


FORMATS = ["csv.gz", "csv.bz2", "csv.zst", "tsv", "parquet"]


@pytest.mark.parametrize("side", ["predictions", "targets"])
@pytest.mark.parametrize("suffix", FORMATS)
def test_other_formats_give_the_same_mean(tmp_path: Path, suffix: str, side: str) -> None:
    preds, targets = sample_path("multiclass_logits.csv"), sample_path("multiclass_labels.csv")
    baseline = eval_json(preds, targets)
    if side == "predictions":
        preds = _convert(preds, tmp_path / f"preds.{suffix}")
    else:
        targets = _convert(targets, tmp_path / f"labels.{suffix}")
    doc = eval_json(preds, targets)
    assert doc["n_samples"] == baseline["n_samples"] == 150
    assert doc["mean_loss"] == baseline["mean_loss"]
    assert doc["mean_loss"] == pytest.approx(multiclass_logits().mean(), rel=1e-12)


def test_bundled_compressed_and_parquet_samples() -> None:
    gz = eval_value(sample_path("regression_preds.csv.gz"), sample_path("regression_targets.csv"))
    assert gz == pytest.approx(regression().mean(), rel=1e-12)
    pqv = eval_value(
        sample_path("multiclass_probs.parquet"), sample_path("multiclass_labels.parquet")
    )
    assert pqv == pytest.approx(multiclass_probs().mean(), rel=1e-12)


# --------------------------------------------------------------------------- --drop-missing


def test_drop_missing_reports_the_count_and_excludes_the_rows(tmp_path: Path) -> None:
    p, t = aligned("binary_probs.csv", "binary_labels.csv")
    preds = p.astype({"p_churn": object})
    preds.loc[4, "p_churn"] = ""  # an empty prediction
    preds.loc[9, "p_churn"] = "NaN"
    labels = t.astype({"churned": object})
    labels.loc[14, "churned"] = ""  # an empty target
    preds.to_csv(tmp_path / "p.csv", index=False)
    labels.to_csv(tmp_path / "y.csv", index=False)
    out = tmp_path / "losses.csv"
    args = [str(tmp_path / "p.csv"), str(tmp_path / "y.csv"), "--drop-missing"]
    result = run_eval(*args, "--format", "json", "--output", str(out))
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["n_dropped"] == 3
    assert doc["n_samples"] == 197
    assert any("3" in w and "dropped" in w for w in doc["warnings"])
    keep = np.setdiff1d(np.arange(200), [4, 9, 14])
    expected = binary_probs()[keep]
    assert doc["mean_loss"] == pytest.approx(expected.mean(), rel=1e-12)
    written = pd.read_csv(out)
    assert written["id"].tolist() == p["id"][keep].tolist()
    np.testing.assert_allclose(written["loss"].to_numpy(), expected, rtol=1e-12)
    table = run_eval(*args)
    assert table.exit_code == 0
    assert "dropped" in table.stdout
    assert "3 rows" in table.stdout


# --------------------------------------------------------------------------- numerics


def test_label_reduction_mean_divides_by_the_number_of_labels() -> None:
    args = [sample_path("multilabel_probs.csv"), sample_path("multilabel_labels.csv")]
    summed = eval_json(*args)
    mean = eval_json(*args, "--label-reduction", "mean")
    assert summed["label_reduction"] == "sum"
    assert mean["label_reduction"] == "mean"
    assert mean["mean_loss"] == pytest.approx(multilabel_probs().mean() / 4, rel=1e-12)
    assert mean["mean_loss"] == pytest.approx(summed["mean_loss"] / 4, rel=1e-12)
    table = run_eval(*args, "--label-reduction", "mean")
    assert "mean over 4 labels" in table.stdout


def test_default_eps_clips_certain_mistakes_to_the_spec_maximum(write: Callable[..., str]) -> None:
    preds = write("p.csv", csv_text(["p"], [[0.0], [1.0], [0.5], [1.0]]))
    targets = write("y.csv", csv_text(["y"], [[1], [0], [1], [1]]))
    result = run_eval(preds, targets, "--format", "csv")
    losses = pd.read_csv(io.StringIO(result.stdout))["loss"].to_numpy()
    assert losses[0] == losses[1] == 36.04365338911715
    assert losses[2] == pytest.approx(math.log(2), rel=1e-15)
    doc = eval_json(preds, targets)
    assert doc["n_clipped"] == 3  # 0 and 1 (twice) are clipped; 0.5 is not
    wide = eval_json(preds, targets, "--eps", "1e-7")
    assert wide["max_loss"] == pytest.approx(-math.log(1e-7), rel=1e-9)


# --------------------------------------------------------------------------- --head / --worst


def test_head_and_worst_choose_the_rows_shown() -> None:
    args = [sample_path("multiclass_probs.csv"), sample_path("multiclass_labels.csv")]
    losses = multiclass_probs()
    result = run_eval(*args, "--head", "3", "--worst", "2")
    assert result.exit_code == 0
    out = result.stdout
    assert "First 3 rows" in out
    assert "Worst 2 rows" in out
    ids = pd.read_csv(args[0])["id"].tolist()
    head_part = out.split("First 3 rows", 1)[1].split("Worst 2 rows", 1)[0]
    assert [i for i in ids if i in head_part] == ids[:3]
    worst_part = out.split("Worst 2 rows", 1)[1].split("Loss histogram", 1)[0]
    order = np.argsort(-losses)
    assert sorted(i for i in ids if i in worst_part) == sorted(ids[i] for i in order[:2])
    assert worst_part.index(ids[order[0]]) < worst_part.index(ids[order[1]])
    assert not any(ids[i] in worst_part for i in order[2:])


def test_head_and_worst_zero_hide_the_sections() -> None:
    args = [sample_path("multiclass_probs.csv"), sample_path("multiclass_labels.csv")]
    result = run_eval(*args, "--head", "0", "--worst", "0")
    assert result.exit_code == 0
    assert "First" not in result.stdout
    assert "Worst" not in result.stdout
    assert "mean loss" in result.stdout


def test_worst_sets_the_worst_rows_of_the_json_report() -> None:
    args = [sample_path("regression_preds.csv"), sample_path("regression_targets.csv")]
    losses = regression()
    doc = eval_json(*args, "--worst", "7")
    worst = doc["worst"]
    assert len(worst) == 7
    assert [r["loss"] for r in worst] == sorted(np.sort(losses)[::-1][:7].tolist(), reverse=True)
    for r in worst:
        assert r["loss"] == pytest.approx(losses[r["row"] - 1], rel=1e-12)


def test_unreadable_option_values_are_usage_errors() -> None:
    args = [sample_path("binary_probs.csv"), sample_path("binary_labels.csv")]
    for extra in (["--head", "-1"], ["--format", "xml"], ["--max-loss", "abc"], ["--eps", "0"]):
        result = run_eval(*args, *extra)
        assert result.exit_code == 2, extra
        assert result.stdout == ""
        assert_one_error_line(result.stderr, extra[0])


def test_max_loss_gates_the_weighted_mean() -> None:
    """The gate compares the weighted mean (0.5138) not the unweighted one (0.5339)."""
    args = [sample_path("binary_single.csv"), "--target-col", "churned", "--weight-col", "weight"]
    doc = eval_json(*args)
    assert doc["mean_loss"] < 0.52 < doc["unweighted_mean_loss"]
    assert run_eval(*args, "--max-loss", "0.52", "--format", "value").exit_code == 0
    assert run_eval(*args, "--max-loss", "0.51", "--format", "value").exit_code == 1


def test_format_csv_equals_the_output_file(tmp_path: Path) -> None:
    args = [sample_path("multilabel_logits.csv"), sample_path("multilabel_labels.csv")]
    out = tmp_path / "losses.csv"
    result = run_eval(*args, "--format", "csv", "--output", str(out))
    assert result.exit_code == 0
    assert result.stdout == out.read_text()


def test_format_csv_without_ids_is_a_loss_column(tmp_path: Path) -> None:
    aligned = write_aligned_multiclass_labels(tmp_path)
    result = run_eval(sample_path("multiclass_probs.csv"), aligned, "--no-id", "--format", "csv")
    lines = result.stdout.splitlines()
    assert lines[0] == "loss,predicted"
    assert len(lines) == 151
    losses = [float(x.split(",")[0]) for x in lines[1:]]
    np.testing.assert_allclose(losses, multiclass_probs(), rtol=1e-12)


# --------------------------------------------------------------------------- target encodings


def test_multiclass_targets_as_indices_names_and_one_hot_agree(tmp_path: Path) -> None:
    _, targets = aligned("multiclass_probs.csv", "multiclass_labels.csv")
    y = multiclass_y(targets)
    pd.DataFrame({"id": targets["id"], "label": y}).to_csv(tmp_path / "idx.csv", index=False)
    one_hot = pd.DataFrame(np.eye(3, dtype=int)[y], columns=CLASSES).assign(id=targets["id"])
    one_hot.to_csv(tmp_path / "onehot.csv", index=False)
    preds = sample_path("multiclass_probs.csv")
    expected = multiclass_probs().mean()
    by_name = eval_json(preds, sample_path("multiclass_labels.csv"))
    by_index = eval_json(preds, str(tmp_path / "idx.csv"))
    by_one_hot = eval_json(preds, str(tmp_path / "onehot.csv"))
    for doc in (by_name, by_index, by_one_hot):
        assert doc["task"] == "multiclass"
        assert doc["mean_loss"] == pytest.approx(expected, rel=1e-12)
    encodings = {d["detection"]["target_encoding"] for d in (by_name, by_index, by_one_hot)}
    assert len(encodings) == 3  # the detection says which reading it used


def test_numeric_class_names_are_names_when_all_targets_are_column_names(
    write: Callable[..., str],
) -> None:
    """Columns 1,2,3 with labels in 1..3 mean those columns, not indices (SPEC)."""
    preds = write("p.csv", csv_text(["1", "2", "3"], [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]]))
    targets = write("y.csv", csv_text(["y"], [[1], [3]]))
    doc = eval_json(preds, targets)
    assert doc["mean_loss"] == pytest.approx(-(math.log(0.7) + math.log(0.6)) / 2, rel=1e-12)


def test_boolean_binary_targets_equal_0_1(write: Callable[..., str]) -> None:
    preds = write("p.csv", csv_text(["p"], [[0.9], [0.2], [0.6]]))
    bools = write("b.csv", csv_text(["y"], [["true"], ["false"], ["True"]]))
    ints = write("i.csv", csv_text(["y"], [[1], [0], [1]]))
    assert eval_json(preds, bools)["task"] == "binary"
    assert eval_value(preds, bools) == eval_value(preds, ints)
    assert eval_value(preds, ints) == pytest.approx(log_loss([1, 0, 1], [0.9, 0.2, 0.6]), rel=1e-12)


def test_multilabel_targets_matched_by_name_not_position(tmp_path: Path) -> None:
    labels = pd.read_csv(sample_path("multilabel_labels.csv"))
    labels[["id", *reversed(GENRES)]].to_csv(tmp_path / "y.csv", index=False)
    doc = eval_json(sample_path("multilabel_probs.csv"), str(tmp_path / "y.csv"))
    assert doc["mean_loss"] == pytest.approx(multilabel_probs().mean(), rel=1e-12)
