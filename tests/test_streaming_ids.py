"""Streaming, joins by id: the three ways of joining by id (in step, by an index, by a hash of
text ids) give the same report whatever the chunks, and the same errors (item 4 of
tests/test_streaming.py).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute
import pytest

import lossctl
import lossctl.io.align
import lossctl.io.ids
from lossctl import errors
from lossctl.core.defaults import DEFAULT_CHUNK_ROWS
from tests.cli.helpers import assert_input_error, eval_json, run_eval
from tests.robust.test_catalogue import CASES as CATALOGUE
from tests.robust.test_catalogue import printed
from tests.streaming_helpers import (
    CHUNKINGS,
    N_IDS,
    REL,
    assert_same,
    columns,
    write_csv,
)

# --------------------------------------------------------------------------- 4. joins


ID_STYLES = {
    "text": [f"s{i:04d}" for i in range(N_IDS)],  # increasing as text; hashed
    "integers": [str(i) for i in range(N_IDS)],  # 0..n-1: looked up in a table
    "spread integers": [str(i * 7919 - 10**12) for i in range(N_IDS)],  # binary search
}


@pytest.fixture(params=list(ID_STYLES))
def joined(tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, Path]:
    """One predictions file and three orders of the same targets (with weights and groups),
    each in its own folder as ``targets.csv`` (so every report names the same files)."""
    rng = np.random.default_rng(31)
    ids = np.array(ID_STYLES[request.param])
    probs = rng.dirichlet(np.full(3, 1.5), N_IDS)
    write_csv(tmp_path / "preds.csv", {"id": ids, **columns(probs, "p")})
    y, w = rng.integers(0, 3, N_IDS), rng.uniform(0.1, 2.0, N_IDS)
    g = rng.choice(["a", "b", "c"], N_IDS)
    orders = {
        "same": np.arange(N_IDS),
        "shuffled": rng.permutation(N_IDS),
        "in-step-then-shuffled": np.concatenate(
            [np.arange(100), 100 + rng.permutation(N_IDS - 100)]
        ),
    }
    folders = {}
    for name, order in orders.items():
        folder = tmp_path / name
        folder.mkdir()
        write_csv(
            folder / "targets.csv", {"id": ids[order], "y": y[order], "w": w[order], "g": g[order]}
        )
        folders[name] = folder
    return folders


@pytest.mark.parametrize("chunk_rows", [7, DEFAULT_CHUNK_ROWS])
@pytest.mark.parametrize("order", ["shuffled", "in-step-then-shuffled"])
def test_every_join_gives_the_same_report(
    joined: dict[str, Path], order: str, chunk_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Targets in the predictions' order (joined in step), shuffled (joined by hash), or in
    step for 100 rows then shuffled (the pass restarts): the same JSON report."""
    args: tuple[str, ...] = ("../preds.csv", "targets.csv", "--id", "id", "--weight-col", "w")
    args += ("--by", "g", "--max-loss", "2.0", "--chunk-rows")
    monkeypatch.chdir(joined["same"])
    want = eval_json(*args, str(DEFAULT_CHUNK_ROWS))
    assert (want["task"], want["n_samples"], want["weighted"]) == ("multiclass", N_IDS, True)
    assert [group["name"] for group in want["groups"]] == ["a", "b", "c"]
    monkeypatch.chdir(joined[order])
    assert_same(eval_json(*args, str(chunk_rows)), want)


@pytest.mark.parametrize("chunk_rows", CHUNKINGS)
@pytest.mark.parametrize("style", ["text", "integers"])
def test_ids_in_the_same_order_that_do_not_increase(
    style: str, chunk_rows: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both files list the ids in one order that is not increasing (``img-9`` before
    ``img-10``, or counting down): the report of a hash join, joined in step when the
    first chunk shows it (smaller chunks that start increasing restart by hash); an id
    twice is still named."""
    ids = [f"img-{i}" if style == "text" else str(N_IDS - i) for i in range(N_IDS)]
    _ids_file(tmp_path / "preds.csv", ids, "p")
    _ids_file(tmp_path / "targets.csv", ids, "y")
    order = np.random.default_rng(3).permutation(N_IDS)
    targets = pd.read_csv(tmp_path / "targets.csv", dtype=str).iloc[order]
    targets.to_csv(tmp_path / "shuffled.csv", index=False)
    args = ("--id", "id", "--chunk-rows", str(chunk_rows))
    want = eval_json(str(tmp_path / "preds.csv"), str(tmp_path / "shuffled.csv"), *args)
    if chunk_rows == DEFAULT_CHUNK_ROWS:  # in step all the way: no hash join to fall to
        monkeypatch.setattr(lossctl.io.align.Aligner, "_past_index", None)
    got = eval_json(str(tmp_path / "preds.csv"), str(tmp_path / "targets.csv"), *args)
    assert_same(got, {**want, "inputs": got["inputs"]})
    monkeypatch.undo()
    ids[N_IDS - 3] = ids[5]
    _ids_file(tmp_path / "preds.csv", ids, "p")
    _ids_file(tmp_path / "targets.csv", ids, "y")
    result = run_eval(str(tmp_path / "preds.csv"), str(tmp_path / "targets.csv"), *args)
    assert_input_error(result, "1 ids appear more than once", f"the first, {ids[5]!r}")


def _weak_hash(text: pa.Array) -> np.ndarray:
    """A hash that only tells lengths apart: text ids collide on purpose."""
    return np.asarray(pa.compute.binary_length(text), dtype=np.int64)


@pytest.mark.parametrize("collide", ["every id", "none"])
def test_text_ids_joined_by_hash_survive_collisions(
    collide: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text ids are looked up by a hash of their bytes and each match checked against the
    text: ids of the target that share a hash are looked up another way, and a prediction
    whose id shares a hash with another target id is not matched to it."""
    ids = [f"s{i:04d}" for i in range(N_IDS)]  # one length: every hash the same
    _ids_file(tmp_path / "preds.csv", ids, "p")
    _ids_file(tmp_path / "same.csv", ids, "y")
    want = lossctl.evaluate(str(tmp_path / "preds.csv"), str(tmp_path / "same.csv"), id_col="id")
    order = np.random.default_rng(5).permutation(N_IDS)
    targets = pd.read_csv(tmp_path / "same.csv", dtype=str).iloc[order]
    targets.to_csv(tmp_path / "shuffled.csv", index=False)
    if collide == "every id":
        monkeypatch.setattr(lossctl.io.ids, "_text_hashes", _weak_hash)
    got = lossctl.evaluate(str(tmp_path / "preds.csv"), str(tmp_path / "shuffled.csv"), id_col="id")
    assert got.mean_loss == pytest.approx(want.mean_loss, rel=REL)
    assert got.n_samples == N_IDS


def test_a_prediction_id_that_shares_a_hash_is_not_matched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lossctl.io.ids, "_text_hashes", _weak_hash)
    _ids_file(tmp_path / "preds.csv", ["b", "aa", "zzz"], "p")  # "zzz": the length of "ccc"
    _ids_file(tmp_path / "targets.csv", ["aa", "ccc", "b"], "y")
    result = run_eval(str(tmp_path / "preds.csv"), str(tmp_path / "targets.csv"), "--id", "id")
    assert_input_error(result, "1 ids of", "(first: 'zzz'", "(first: 'ccc'")


@pytest.mark.parametrize(
    ("pred_ids", "target_ids", "missing"),
    [
        (["007", "8", "9"], ["9", "7", "8"], "'007'"),  # "007" is text, never 7
        (["7", "8", "9"], ["9", "+7", "8"], "'7'"),
        (["-9223372036854775808", "2", "1"], ["9223372036854775806", "1", "2"], "'-9223"),
        (["1", "2", "9223372036854775807"], ["2", "1", "-9223372036854775807"], "'9223"),
    ],
)
def test_ids_that_spell_the_same_integer_differently_do_not_match(
    pred_ids: list[str], target_ids: list[str], missing: str, tmp_path: Path
) -> None:
    """Targets in another order (joined by hash, ids read as numbers where they spell
    them the usual way): an id matches only the same text, even at the ends of int64."""
    _ids_file(tmp_path / "preds.csv", pred_ids, "p")
    _ids_file(tmp_path / "targets.csv", target_ids, "y")
    result = run_eval(str(tmp_path / "preds.csv"), str(tmp_path / "targets.csv"), "--id", "id")
    assert_input_error(result, "ids of", "are not in", f"(first: {missing}")


def _ids_file(path: Path, ids: list[str], column: str) -> None:
    rng = np.random.default_rng(len(ids))
    values = rng.uniform(0.05, 0.95, len(ids)) if column == "p" else rng.integers(0, 2, len(ids))
    write_csv(path, {"id": ids, column: values})


ONE_TO_50 = [str(i) for i in range(1, 51)]
BAD_IDS = {
    # name: (prediction ids, target ids, the message)
    "duplicate-target-id": (
        ONE_TO_50,
        [*ONE_TO_50[:39], "10", *ONE_TO_50[40:]],
        "lossctl: error: targets.csv, column 'id': 1 ids appear more than once; the first, "
        "'10', is on rows 10, 40. Every id must appear exactly once in each file",
    ),
    "duplicate-prediction-id": (
        [*ONE_TO_50[:29], "5", *ONE_TO_50[30:]],
        ONE_TO_50,
        "lossctl: error: preds.csv, column 'id': 1 ids appear more than once; the first, "
        "'5', is on rows 5, 30. Every id must appear exactly once in each file",
    ),
    "other-id": (
        ONE_TO_50,
        [*ONE_TO_50[:44], "99", *ONE_TO_50[45:]],
        "lossctl: error: column 'id': 1 ids of preds.csv are not in targets.csv (first: '45', "
        "row 45); 1 ids of targets.csv are not in preds.csv (first: '99', row 45). Every id "
        "must appear exactly once in each file; or align by row order with --no-id",
    ),
    "targets-end-early": (
        ONE_TO_50,
        ONE_TO_50[:48],
        "lossctl: error: column 'id': 2 ids of preds.csv are not in targets.csv (first: '49', "
        "row 49). Every id must appear exactly once in each file; or align by row order with "
        "--no-id",
    ),
    "predictions-end-early": (
        ONE_TO_50[:47],
        ONE_TO_50,
        "lossctl: error: column 'id': 3 ids of targets.csv are not in preds.csv (first: '48', "
        "row 48). Every id must appear exactly once in each file; or align by row order with "
        "--no-id",
    ),
}


def _parts(directory: Path, ids: list[str], column: str, cuts: list[int]) -> None:
    """The rows of ``_ids_file`` cut into part files ``directory/part-0.csv``, ... at
    ``cuts``."""
    directory.mkdir()
    _ids_file(directory / "whole.csv", ids, column)
    header, *rows = (directory / "whole.csv").read_text().splitlines()
    (directory / "whole.csv").unlink()
    edges = [0, *cuts, len(rows)]
    for k, (a, b) in enumerate(itertools.pairwise(edges)):
        (directory / f"part-{k}.csv").write_text("\n".join([header, *rows[a:b]]) + "\n")


PARTS_BAD_IDS = {
    # name: (prediction ids, target ids, the message); predictions cut after rows 20
    # and 35, targets after row 30
    "duplicate-across-target-parts": (
        ONE_TO_50,
        [*ONE_TO_50[:39], "10", *ONE_TO_50[40:]],
        "lossctl: error: t/*.csv, column 'id': 1 ids appear more than once; the first, '10', "
        "is on rows 10 of t/part-0.csv, 10 of t/part-1.csv. Every id must appear exactly once "
        "in each file",
    ),
    "duplicate-in-one-prediction-part": (
        [*ONE_TO_50[:29], "25", *ONE_TO_50[30:]],
        ONE_TO_50,
        "lossctl: error: p/part-1.csv, column 'id': 1 ids appear more than once; the first, "
        "'25', is on rows 5, 10. Every id must appear exactly once in each file",
    ),
    "other-id": (
        ONE_TO_50,
        [*ONE_TO_50[:44], "99", *ONE_TO_50[45:]],
        "lossctl: error: column 'id': 1 ids of p/*.csv are not in t/*.csv (first: '45', "
        "row 10 of p/part-2.csv); 1 ids of t/*.csv are not in p/*.csv (first: '99', row 15 "
        "of t/part-1.csv). Every id must appear exactly once in each file; or align by row "
        "order with --no-id",
    ),
    "empty-target-id": (
        ONE_TO_50,
        [*ONE_TO_50[:33], "", *ONE_TO_50[34:]],
        "lossctl: error: t/part-1.csv, column 'id', row 4: this id is empty. Every row needs "
        "an id; or align by row order with --no-id",
    ),
}


@pytest.mark.parametrize("chunk_rows", CHUNKINGS)
@pytest.mark.parametrize(
    ("layout", "name"),
    [*(("files", name) for name in BAD_IDS), *(("parts", name) for name in PARTS_BAD_IDS)],
)
def test_bad_ids_found_after_rows_in_step(
    layout: str, name: str, chunk_rows: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ids that agree for a while, then are duplicated or missing: exit 2 with the message
    that names them (the part and its row, for parts), whatever the chunks (the in-step
    join hands over to the hash join)."""
    if layout == "files":
        pred_ids, target_ids, message = BAD_IDS[name]
        _ids_file(tmp_path / "preds.csv", pred_ids, "p")
        _ids_file(tmp_path / "targets.csv", target_ids, "y")
        inputs = ("preds.csv", "targets.csv")
    else:
        pred_ids, target_ids, message = PARTS_BAD_IDS[name]
        _parts(tmp_path / "p", pred_ids, "p", [20, 35])
        _parts(tmp_path / "t", target_ids, "y", [30])
        inputs = ("p/*.csv", "t/*.csv")
    monkeypatch.chdir(tmp_path)
    result = run_eval(*inputs, "--id", "id", "--chunk-rows", str(chunk_rows))
    assert assert_input_error(result) == message


@pytest.mark.parametrize("chunk_rows", CHUNKINGS)
def test_a_missing_target_of_a_hash_joined_part_names_the_part(
    chunk_rows: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ids out of order (so the targets are read whole and indexed), and an empty target in
    the second part of the targets: the message names that part and its row."""
    _parts(tmp_path / "p", ONE_TO_50[::-1], "p", [25])
    _parts(tmp_path / "t", ONE_TO_50, "y", [30])
    part = tmp_path / "t" / "part-1.csv"
    lines = part.read_text().splitlines()
    lines[7] = lines[7].split(",")[0] + ","  # data row 7 of the part: id 37
    part.write_text("\n".join(lines) + "\n")
    monkeypatch.chdir(tmp_path)
    result = run_eval("p/*.csv", "t/*.csv", "--id", "id", "--chunk-rows", str(chunk_rows))
    assert_input_error(result, "t/part-1.csv, column 'y', row 7: this value is missing")


@pytest.mark.parametrize("chunk_rows", CHUNKINGS)
@pytest.mark.parametrize("error", ["DuplicateIds", "MissingIds"])
def test_catalogue_id_errors_for_every_chunking(
    error: str, chunk_rows: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The error catalogue's DuplicateIds and MissingIds cases print the catalogue's line."""
    case = CATALOGUE[error]
    for name, content in case.files.items():
        (tmp_path / name).write_text(str(content), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run_eval(*case.args, "--chunk-rows", str(chunk_rows))
    assert assert_input_error(result) == printed(getattr(errors, error))


def test_group_column_that_turns_to_text_further_down(tmp_path: Path) -> None:
    """A --by column of numbers for more than a CSV block (1 MiB), then a name: the groups
    are those of the column read as text, each once, as from a DataFrame."""
    n = 60_000
    rng = np.random.default_rng(41)
    p, y = rng.uniform(0.05, 0.95, n), rng.integers(0, 2, n)
    g = np.array([str(i % 3) for i in range(n)], dtype=object)
    g[-1] = "x"
    preds = write_csv(tmp_path / "preds.csv", {"p": p, "g": pa.array(g, pa.string())})
    targets = write_csv(tmp_path / "targets.csv", {"y": y})
    assert Path(preds).stat().st_size > 1 << 20
    report = lossctl.evaluate(preds, targets, by="g")
    frame = lossctl.evaluate(pd.DataFrame({"p": p, "g": g}), pd.DataFrame({"y": y}), by="g")
    assert [(group.name, group.n_samples) for group in frame.summary.by_groups] == [
        ("0", 20_000),
        ("1", 20_000),
        ("2", 19_999),
        ("x", 1),
    ]
    assert_same(report.to_dict()["groups"], frame.to_dict()["groups"])
