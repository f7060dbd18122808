"""Bad values, bad options, bad alignment: exit 2, nothing on stdout, one helpful line.

Every test asserts: exit code 2, empty stdout, exactly one stderr line starting
with ``lossctl: error:``, no traceback, and that the line names the file, the
column and the row where there is one (rows count data rows from 1).
File-level problems (missing, unreadable, unparsable files) are in
``tests/io/test_readers.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

import lossctl.engine
from tests.cli.helpers import (
    assert_input_error,
    assert_one_error_line,
    csv_text,
    run_eval,
    sample_path,
)

Write = Callable[[str, str], str]

IDS = ["a1", "a2", "a3", "a4", "a5"]
PROBS = [0.1, 0.8, 0.3, 0.6, 0.4]
LABELS = [0, 1, 0, 1, 1]
WEIGHTS = [1.0, 2.0, 0.5, 1.5, 1.0]


def _without(line: str, *paths: str) -> str:
    """The message with the file paths taken out (they hold digits of their own)."""
    for path in paths:
        line = line.replace(path, "<file>")
    return line


def _numbers(line: str) -> list[str]:
    return re.findall(r"\d+", line)


@pytest.fixture
def pair(write: Write) -> tuple[str, str]:
    """A valid binary pair with ids and a weight column in the targets."""
    preds = write("preds.csv", csv_text(["id", "p"], zip(IDS, PROBS, strict=True)))
    targets = write(
        "targets.csv", csv_text(["id", "y", "w"], zip(IDS, LABELS, WEIGHTS, strict=True))
    )
    return preds, targets


def test_the_valid_pair_is_valid(pair: tuple[str, str]) -> None:
    """The base of every case below evaluates cleanly; each case breaks one thing."""
    result = run_eval(*pair, "--weight-col", "w", "--format", "value")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""


# --------------------------------------------------------------------------- missing values

# (column, file index (0 preds, 1 targets), cell text): the cell replaces rows 3 and 5
MISSING = [
    ("p", 0, ""),
    ("p", 0, "NaN"),
    ("p", 0, "inf"),
    ("p", 0, "-inf"),
    ("y", 1, ""),
    ("y", 1, "NaN"),
    ("y", 1, "inf"),
    ("w", 1, ""),
    ("w", 1, "nan"),
    ("w", 1, "inf"),
]


def _with_bad_cells(write: Write, column: str, cell: str) -> tuple[str, str]:
    def value(name: str, row: int, good: object) -> object:
        return cell if name == column and row in (3, 5) else good

    preds = write(
        "preds.csv",
        csv_text(
            ["id", "p"],
            [(i, value("p", n, p)) for n, (i, p) in enumerate(zip(IDS, PROBS, strict=True), 1)],
        ),
    )
    targets = write(
        "targets.csv",
        csv_text(
            ["id", "y", "w"],
            [
                (i, value("y", n, y), value("w", n, w))
                for n, (i, y, w) in enumerate(zip(IDS, LABELS, WEIGHTS, strict=True), 1)
            ],
        ),
    )
    return preds, targets


@pytest.mark.parametrize(
    ("column", "side", "cell"), MISSING, ids=[f"{c}={v!r}" for c, _, v in MISSING]
)
def test_missing_or_infinite_value(write: Write, column: str, side: int, cell: str) -> None:
    files = _with_bad_cells(write, column, cell)
    result = run_eval(*files, "--weight-col", "w")
    line = assert_input_error(result, files[side], f"'{column}'", "row 3", "--drop-missing")
    assert "2 rows" in _without(line, *files)  # how many rows are affected


@pytest.mark.parametrize(
    ("column", "side", "cell"), MISSING, ids=[f"{c}={v!r}" for c, _, v in MISSING]
)
def test_drop_missing_turns_it_into_a_success(
    write: Write, column: str, side: int, cell: str
) -> None:
    files = _with_bad_cells(write, column, cell)
    result = run_eval(*files, "--weight-col", "w", "--drop-missing", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert '"n_dropped": 2' in result.stdout
    assert '"n_samples": 3' in result.stdout


# --------------------------------------------------------------------------- alignment


def test_length_mismatch_without_ids_gives_both_counts(write: Write) -> None:
    preds = write("preds.csv", csv_text(["p"], [[p] for p in PROBS]))  # 5 rows
    targets = write("targets.csv", csv_text(["y"], [[y] for y in LABELS[:3]]))  # 3 rows
    line = assert_input_error(run_eval(preds, targets), preds, targets)
    assert sorted(_numbers(_without(line, preds, targets))) == ["3", "5"]


def test_length_mismatch_with_no_id(pair: tuple[str, str], write: Write) -> None:
    preds = write("short.csv", csv_text(["id", "p"], zip(IDS[:4], PROBS, strict=False)))
    line = assert_input_error(run_eval(preds, pair[1], "--no-id"), preds, pair[1])
    assert sorted(_numbers(_without(line, preds, pair[1]))) == ["4", "5"]


def test_duplicated_ids_are_counted(pair: tuple[str, str], write: Write) -> None:
    ids = ["a1", "a1", "a2", "a3", "a3", "a3"]
    targets = write("dup.csv", csv_text(["id", "y"], [(i, 0) for i in ids]))
    line = assert_input_error(run_eval(pair[0], targets), targets, "'id'", "'a1'")
    assert "2 ids" in line  # a1 and a3


def test_duplicated_ids_in_predictions(pair: tuple[str, str], write: Write) -> None:
    preds = write("dup.csv", csv_text(["id", "p"], [("a1", 0.1), ("a2", 0.2), ("a2", 0.3)]))
    assert_input_error(run_eval(preds, pair[1]), preds, "'id'", "'a2'", "1 ids")


def test_ids_missing_on_either_side_are_counted_per_side(write: Write) -> None:
    preds = write(
        "preds.csv", csv_text(["id", "p"], [(i, 0.5) for i in ["a1", "a2", "a3", "a4", "a5"]])
    )
    targets = write(
        "targets.csv", csv_text(["id", "y"], [(i, 1) for i in ["a1", "a2", "a3", "z9"]])
    )
    line = assert_input_error(run_eval(preds, targets), preds, targets, "'id'", "'a4'", "'z9'")
    message = _without(line, preds, targets)
    assert "2 ids of <file> are not in <file>" in message  # a4, a5 have no target
    assert "1 ids of <file> are not in <file>" in message  # z9 has no prediction
    assert message.index("2 ids") < message.index("1 ids")  # predictions' side first


def test_ids_missing_only_in_targets(pair: tuple[str, str], write: Write) -> None:
    targets = write("targets.csv", csv_text(["id", "y"], [(i, 1) for i in IDS[:3]]))
    line = assert_input_error(run_eval(pair[0], targets), pair[0], targets, "'a4'")
    assert "2 ids" in _without(line, pair[0], targets)


def test_empty_id(pair: tuple[str, str], write: Write) -> None:
    targets = write("targets.csv", csv_text(["id", "y"], [("a1", 0), ("", 1), ("a3", 0)]))
    assert_input_error(run_eval(pair[0], targets), targets, "'id'", "row 2")


# --------------------------------------------------------------------------- values


def test_probability_outside_unit_interval_with_from_probs(write: Write) -> None:
    preds = write("preds.csv", csv_text(["p"], [[0.2], [0.9], [1.5], [-0.1]]))
    targets = write("targets.csv", csv_text(["y"], [[0], [1], [1], [0]]))
    line = assert_input_error(
        run_eval(preds, targets, "--from-probs"), preds, "'p'", "row 3", "1.5"
    )
    assert "2 rows" in _without(line, preds, targets)


def test_multiclass_probability_outside_unit_interval_names_its_column(write: Write) -> None:
    preds = write("preds.csv", csv_text(["a", "b", "c"], [[0.2, 0.3, 0.5], [0.1, 1.2, -0.3]]))
    targets = write("targets.csv", csv_text(["y"], [["a"], ["b"]]))
    assert_input_error(run_eval(preds, targets, "--from-probs"), preds, "'b'", "row 2", "1.2")


MC_PREDS = [[0.2, 0.3, 0.5]] * 4


def test_class_index_out_of_range(write: Write) -> None:
    preds = write("preds.csv", csv_text(["a", "b", "c"], MC_PREDS))
    targets = write("targets.csv", csv_text(["y"], [[0], [2], [3], [1]]))
    assert_input_error(run_eval(preds, targets), targets, "'y'", "row 3", "3")


def test_unknown_class_name(write: Write) -> None:
    preds = write("preds.csv", csv_text(["cat", "dog", "bird"], MC_PREDS))
    targets = write("targets.csv", csv_text(["y"], [["cat"], ["dog"], ["fish"], ["bird"]]))
    line = assert_input_error(run_eval(preds, targets), targets, "'y'", "row 3", "fish")
    assert "cat, dog, bird" in line  # says which names are classes


def test_binary_label_2_with_task_binary(write: Write) -> None:
    preds = write("preds.csv", csv_text(["p"], [[0.2], [0.9], [0.4]]))
    targets = write("targets.csv", csv_text(["y"], [[0], [2], [1]]))
    assert_input_error(run_eval(preds, targets, "--task", "binary"), targets, "'y'", "row 2", "2")


def test_negative_weight(pair: tuple[str, str], write: Write) -> None:
    weights = [1, 2, -1, 1, -3]
    targets = write(
        "targets.csv", csv_text(["id", "y", "w"], zip(IDS, LABELS, weights, strict=True))
    )
    line = assert_input_error(
        run_eval(pair[0], targets, "--weight-col", "w"), targets, "'w'", "row 3"
    )
    assert "2 rows" in line


def test_all_zero_weights(pair: tuple[str, str], write: Write) -> None:
    targets = write(
        "targets.csv",
        csv_text(["id", "y", "w"], [(i, y, 0) for i, y in zip(IDS, LABELS, strict=True)]),
    )
    assert_input_error(run_eval(pair[0], targets, "--weight-col", "w"), targets, "'w'")


def test_non_numeric_default_prediction_column_is_named(write: Write) -> None:
    """SPEC: a default column that is not numeric is an error naming it and its first bad row."""
    rows = [
        (i, "m1" if n != 2 else "m2", p) for n, (i, p) in enumerate(zip(IDS, PROBS, strict=True))
    ]
    preds = write("preds.csv", csv_text(["id", "model", "p"], rows))
    targets = write("targets.csv", csv_text(["id", "y"], zip(IDS, LABELS, strict=True)))
    line = assert_input_error(run_eval(preds, targets), preds, "'model'", "row 1", "--pred-col")
    assert "'m1'" in line
    fixed = run_eval(preds, targets, "--pred-col", "p", "--format", "value")
    assert fixed.exit_code == 0, fixed.stderr


# --------------------------------------------------------------------------- options


def test_unknown_task() -> None:
    args = [sample_path("binary_probs.csv"), sample_path("binary_labels.csv")]
    assert_input_error(run_eval(*args, "--task", "foo"), "--task", "foo")


@pytest.mark.parametrize("option", ["--pred-col", "--target-col", "--weight-col", "--id"])
def test_named_column_that_does_not_exist(pair: tuple[str, str], option: str) -> None:
    line = assert_input_error(run_eval(*pair, option, "nope"), "'nope'", option)
    files = {"--pred-col": [pair[0]], "--target-col": [pair[1]]}.get(option, list(pair))
    assert any(f in line for f in files), line


def test_one_of_several_named_columns_does_not_exist(pair: tuple[str, str]) -> None:
    assert_input_error(run_eval(*pair, "--pred-col", "p,nope"), pair[0], "'nope'", "--pred-col")


def test_target_col_missing_in_single_file_mode(pair: tuple[str, str]) -> None:
    assert_input_error(run_eval(pair[1], "--target-col", "nope"), pair[1], "'nope'")


def test_id_missing_in_the_targets_only(pair: tuple[str, str], write: Write) -> None:
    preds = write("k.csv", csv_text(["key", "p"], zip(IDS, PROBS, strict=True)))
    assert_input_error(run_eval(preds, pair[1], "--id", "key"), pair[1], "'key'", "--id")


def test_from_logits_and_from_probs_together(pair: tuple[str, str]) -> None:
    assert_input_error(
        run_eval(*pair, "--from-logits", "--from-probs"), "--from-logits", "--from-probs"
    )


def test_id_and_no_id_together(pair: tuple[str, str]) -> None:
    assert_input_error(run_eval(*pair, "--id", "id", "--no-id"), "--id", "--no-id")


def test_from_probs_with_task_regression(pair: tuple[str, str]) -> None:
    assert_input_error(
        run_eval(*pair, "--weight-col", "w", "--task", "regression", "--from-probs"), "--from-probs"
    )


def test_both_inputs_on_stdin() -> None:
    result = run_eval("-", "-", input="p\n0.5\n")
    assert_input_error(result, "-", "standard input")


def test_stdin_without_targets_or_target_col() -> None:
    result = run_eval("-", input="p,y\n0.5,1\n")
    assert_input_error(result, "--target-col")


def test_single_file_without_target_col(pair: tuple[str, str]) -> None:
    assert_input_error(run_eval(pair[1]), "--target-col")


# --------------------------------------------------------------------------- --output


@pytest.mark.parametrize("name", ["out.xlsx", "out.json", "out.parquet.gz", "out"])
def test_output_with_an_unsupported_extension(
    pair: tuple[str, str], tmp_path: Path, name: str
) -> None:
    out = tmp_path / name
    assert_input_error(run_eval(*pair, "--output", str(out)), str(out), "--output")
    assert not out.exists()


@pytest.mark.parametrize("which", [0, 1])
def test_output_naming_an_input_file(pair: tuple[str, str], which: int) -> None:
    before = [Path(p).read_bytes() for p in pair]
    assert_input_error(run_eval(*pair, "--output", pair[which]), pair[which], "input")
    assert [Path(p).read_bytes() for p in pair] == before


def test_output_in_a_missing_directory(pair: tuple[str, str], tmp_path: Path) -> None:
    out = tmp_path / "nowhere" / "losses.csv"
    assert_input_error(run_eval(*pair, "--output", str(out)), str(out))
    assert not out.parent.exists()


@pytest.mark.parametrize("name", ["losses.csv", "losses.parquet"])
def test_failed_run_leaves_no_output_file(write: Write, tmp_path: Path, name: str) -> None:
    files = _with_bad_cells(write, "y", "")
    out = tmp_path / name
    assert_input_error(run_eval(*files, "--output", str(out)), files[1])
    assert not out.exists()
    leftovers = {p.name for p in tmp_path.iterdir()} - {"preds.csv", "targets.csv"}
    assert leftovers == set()


def test_failed_run_keeps_an_existing_output_file(write: Write, tmp_path: Path) -> None:
    files = _with_bad_cells(write, "p", "abc")
    out = tmp_path / "losses.csv"
    out.write_text("id,loss\nold,1.0\n")
    result = run_eval(*files, "--output", str(out))
    assert result.exit_code == 2
    assert out.read_text() == "id,loss\nold,1.0\n"


# --------------------------------------------------------------------------- exit 3


def _boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("kaboom")


def test_internal_error_exits_3_and_asks_for_debug(
    pair: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lossctl.engine, "evaluate", _boom)
    result = run_eval(*pair)
    assert result.exit_code == 3
    assert result.stdout == ""
    line = assert_one_error_line(result.stderr, "--debug", "kaboom", prefix="lossctl: ")
    assert "error" in line
    assert "bug" in line  # it must not look like bad input or a failed gate


def test_internal_error_with_debug_shows_the_traceback(
    pair: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lossctl.engine, "evaluate", _boom)
    result = run_eval(*pair, "--debug")
    assert result.exit_code == 3
    assert result.stdout == ""
    assert "Traceback (most recent call last)" in result.stderr
    assert "RuntimeError: kaboom" in result.stderr
    assert "_boom" in result.stderr


def test_debug_does_not_change_an_input_error(pair: tuple[str, str]) -> None:
    result = run_eval(*pair, "--pred-col", "nope", "--debug")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "'nope'" in result.stderr


def test_unknown_option(pair: tuple[str, str]) -> None:
    assert_input_error(run_eval(*pair, "--bogus"), "--bogus")


def test_unknown_command() -> None:
    from tests.cli.helpers import run

    result = run("evaluate", "x.csv")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert_one_error_line(result.stderr, "evaluate")
