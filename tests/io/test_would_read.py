"""An output that a glob or a directory of inputs would read as a part on the next run.

``would_read(spec, path)`` decides from the pattern alone (the output does not
exist yet), so it is checked against the real thing: ``resolve_parts``, which
runs ``glob.glob`` and ``os.walk``. For every pattern below, it must agree with
what ``resolve_parts`` returns for every file of a tree, and predict what it
returns once a new file has been created. The command line refuses such an
output (exit 2) before it writes anything.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import lossctl
from lossctl.errors import (
    MixedPartFormats,
    NoFileMatches,
    NoPartFiles,
    OutputIsInput,
    UnsupportedFormat,
)
from lossctl.io.sources import resolve_parts, would_read
from tests.cli.helpers import assert_input_error, csv_text, eval_value, run_eval

#: Every file is of the CSV format (compressions may differ) or has a name that is skipped,
#: so that resolve_parts refuses nothing here: a new file of another type is the only one
#: it can refuse.
TREE = [
    "top.csv",
    "_top.csv",
    "p/part-0.csv",
    "p/part-1.csv.gz",
    "p/part-10.csv",
    "p/_SUCCESS",
    "p/.part-0.csv.crc",
    "p/_temporary/0/part-0.csv",
    "p/.hidden/part-0.csv",
    "p/.hidden/d/x.csv",
    "p/date=1/part-0.csv",
    "p/date=1/sub/part-0.csv.bz2",
    "p/date=2/part-0.csv",
    "p/date=2/_part-1.csv",
    "p/x/a.csv",
    "p/x/b/a.csv",
    "p/y/a.csv",
    "p/y/b/c/a.csv",
    "p/a.csv/inner.csv",  # a directory named like a part
    "q/0.csv",
    "q/1.csv",
    "q/a.csv",
    "q/.x.csv",
    "q/_x.csv",
]

SPECS = [
    # directories
    "p",
    "p/",
    "./p",
    "p/x",
    "p/date=1",
    "p/a.csv",
    "p/.hidden",
    "p/_temporary",
    "q",
    # one level
    "p/*.csv",
    "p/*",
    "p/*/",
    "p/*/.",
    "*",
    "*.csv",
    "*/*.csv",
    "./p/*.csv",
    "p/*.csv/",
    "p/part-?.csv",
    "p/part-?.csv*",
    "p/part-[01].csv",
    "p/part-[!0]*",
    "p/date=?",
    "p/date=[1]",
    "p/date=*",
    "q/[0-9].csv",
    "q/*.csv",
    "q/?.csv",
    "q/[._]*",
    "p/.*",
    "p/_*",
    "p/.hidden/*.csv",
    "p/_temporary/*",
    # deeper
    "p/*/a.csv",
    "p/*/*/a.csv",
    "p/*/b/*",
    "p/date=*/*.csv",
    "p/x/../y/*.csv",
    "p/*/../*.csv",
    "p/*/b/..",
    "p/*/./a.csv",
    # back up from a wildcard: only below the root is anything read, and glob's rules still hold
    "p/x/*/../..",
    "p/x/*/../../x",
    "p/x/*/../../*",
    "p/.hidden/*/../../*/d/x.csv",
    "p/.hidden/*/../../**/x.csv",
    "p/.hidden/*/../../.*/d/x.csv",
    "p/*/b/../.*/a.csv",  # (.* matches no .. in a directory listing)
    # recursive
    "p/**",
    "p/**/",
    "p/**/*.csv",
    "p/**/a.csv",
    "p/**/b/**",
    "p/**/*.csv*",
    "p/x**",
    "**/*.csv",
    "**",
    "**/a.csv",
    "p/_temporary/**",
]

#: New files, of the types an output may have, inside and outside the tree.
NEW = [
    "new.csv",
    "_new.csv",
    "p/new.csv",
    "p/new.csv.gz",
    "p/part-2.csv",
    "p/part-11.csv",
    "p/_new.csv",
    "p/.new.csv",
    "p/x/new.csv",
    "p/x/b/new.csv",
    "p/x/b/c/new.csv",
    "p/y/b/c/a.csv.gz",
    "p/date=1/new.csv",
    "p/date=3/new.csv",
    "p/_temporary/new.csv",
    "p/.hidden/new.csv",
    "p/a.csv/new.csv",
    "p/sub/.new/x.csv",
    "q/2.csv",
    "q/b.csv",
    "q/10.csv",
    "r/new.csv",
    # other types: a directory skips them, a glob that matches them refuses them
    "p/new.parquet",
    "p/new.tsv",
    "p/junit.xml",
    "p/x/summary.md",
    "q/3.txt",
]


def _make(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in TREE:
        _make(tmp_path / name)
    return tmp_path


def _parts(spec: str) -> set[str]:
    """The absolute paths of the parts that resolve_parts finds (none if nothing matches)."""
    try:
        parts = resolve_parts(spec)
    except (NoFileMatches, NoPartFiles):
        return set()
    assert parts is not None, spec
    return {os.path.abspath(str(source.path)) for source in parts.sources}


def _files(root: Path) -> Iterator[str]:
    """Every file below ``root``, relative to it."""
    for parent, _, names in os.walk(root):
        for name in names:
            yield os.path.relpath(os.path.join(parent, name), root)


# --------------------------------------------------------------------------- against resolve_parts


@pytest.mark.parametrize("spec", SPECS)
def test_it_agrees_with_resolve_parts_on_every_file(tree: Path, spec: str) -> None:
    parts = _parts(spec)
    for name in _files(tree):
        read = os.path.abspath(name) in parts
        assert would_read(spec, name) == read, (spec, name, read)
        assert would_read(spec, str(tree / name)) == read, (spec, name, "absolute")


@pytest.mark.parametrize("new", NEW)
def test_it_predicts_what_resolve_parts_reads_once_the_file_exists(tree: Path, new: str) -> None:
    predicted = {spec: would_read(spec, new) for spec in SPECS}
    _make(tree / new)
    for spec in SPECS:
        try:
            read = os.path.abspath(new) in _parts(spec)
        except (UnsupportedFormat, MixedPartFormats):
            read = True  # (the new file is the only one that it can refuse)
        assert predicted[spec] == read, (spec, new, read)
        assert would_read(spec, new) == read, (spec, new, "once it exists")


def test_every_pattern_reads_some_files_and_leaves_others(tree: Path) -> None:
    """(So that no check above is trivially true.)"""
    everything = {os.path.abspath(name) for name in _files(tree)}
    skipped = (  # (what they match is skipped, outside the root, or hidden from a wildcard)
        "p/.*",
        "p/_*",
        "q/[._]*",
        "p/x/*/../..",
        "p/.hidden/*/../../*/d/x.csv",
        "p/.hidden/*/../../**/x.csv",
        "p/*/b/../.*/a.csv",
    )
    for spec in SPECS:
        assert set() < _parts(spec) < everything or spec in skipped, spec
    assert not any(map(_parts, skipped))


def test_a_single_file_and_stdin_read_no_other_path(tree: Path) -> None:
    _make(tree / "p" / "preds[1].csv")  # glob characters, but an existing file
    for spec in ("-", "top.csv", "p/preds[1].csv", "missing.csv"):
        assert resolve_parts(spec) is None
        assert not would_read(spec, "p/new.csv")
        assert not would_read(spec, spec)


# --------------------------------------------------------------------------- symbolic links


@pytest.fixture
def linked(tree: Path) -> Path:
    """``data -> p`` (a link to the whole input) and ``p/link -> ../elsewhere`` (inside it)."""
    (tree / "elsewhere").mkdir()
    try:
        (tree / "data").symlink_to("p", target_is_directory=True)
        (tree / "p" / "link").symlink_to(Path("..") / "elsewhere", target_is_directory=True)
    except OSError:
        pytest.skip("cannot make symbolic links here")
    return tree


@pytest.mark.parametrize(
    ("spec", "new", "read"),
    [
        ("data/*.csv", "p/new.csv", True),
        ("data", "p/x/new.csv", True),
        ("p/*.csv", "data/new.csv", True),
        ("p", "data/x/new.csv", True),
        ("p/**/*.csv", "p/link/new.csv", True),  # a glob follows links to directories
        ("p/*/new.csv", "p/link/new.csv", True),
        ("p/*", "p/link/new.csv", True),  # (the link matches, and is searched)
        ("p/link", "p/link/new.csv", True),
        ("p", "p/link/new.csv", False),  # os.walk does not follow them
    ],
)
def test_symbolic_links(linked: Path, spec: str, new: str, read: bool) -> None:
    predicted = would_read(spec, new)
    _make(linked / new)
    found = {os.path.realpath(path) for path in _parts(spec)}
    assert (os.path.realpath(new) in found) == read
    assert predicted == read


def test_a_link_in_the_place_of_the_file_is_replaced_so_is_not_followed(linked: Path) -> None:
    (linked / "p" / "x" / "out.csv").symlink_to(linked / "elsewhere" / "out.csv")
    assert would_read("p/x/*.csv", "p/x/out.csv")
    assert not would_read("elsewhere/*.csv", "p/x/out.csv")


# --------------------------------------------------------------------------- the command line

PREDS = csv_text(["id", "p"], [["a", 0.2], ["b", 0.7], ["c", 0.4], ["d", 0.9]])
TARGETS = csv_text(["id", "y"], [["a", 0], ["b", 1], ["c", 0], ["d", 1]])


@pytest.fixture
def split(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Predictions and targets as whole files, and each in two parts: ``preds/``, ``targets/``."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "preds.csv").write_text(PREDS)
    (tmp_path / "targets.csv").write_text(TARGETS)
    for name, text in (("preds", PREDS), ("targets", TARGETS)):
        header, *rows = text.splitlines(keepends=True)
        (tmp_path / name / "sub").mkdir(parents=True)
        (tmp_path / name / "part-0.csv").write_text(header + "".join(rows[:2]))
        (tmp_path / name / "part-1.csv").write_text(header + "".join(rows[2:]))
    return tmp_path


@pytest.mark.parametrize(
    ("args", "option", "output", "spec"),
    [
        (["preds/*.csv", "targets.csv"], "--output", "preds/losses.csv", "preds/*.csv"),
        (["preds", "targets.csv"], "--output", "preds/sub/losses.parquet", "preds"),
        (["preds.csv", "targets/*.csv"], "--output", "targets/losses.csv", "targets/*.csv"),
        (["preds.csv", "targets"], "--output", "targets/losses.csv.gz", "targets"),
        (["preds.csv", "targets/**"], "--output", "targets/sub/losses.tsv", "targets/**"),
        (["preds/*", "targets.csv"], "--junit", "preds/junit.xml", "preds/*"),
        (["preds/*", "targets.csv"], "--markdown", "preds/summary.md", "preds/*"),
        (["preds.csv", "targets.csv", "--baseline", "preds"], "--output", "preds/x.csv", "preds"),
    ],
    ids=[
        "glob-predictions",
        "directory-predictions",
        "glob-targets",
        "directory-targets",
        "recursive-targets",
        "junit",
        "markdown",
        "baseline",
    ],
)
def test_an_output_that_the_next_run_would_read_is_refused(
    split: Path, args: list[str], option: str, output: str, spec: str
) -> None:
    result = run_eval(*args, option, output)
    line = assert_input_error(
        result, f"{output}: {option} would be read as a part of '{spec}' on the next run"
    )
    assert line.endswith(". Write it outside the directory or pattern of the inputs")
    assert not (split / output).exists()


@pytest.mark.parametrize(
    ("args", "option", "output"),
    [
        (["preds/*.csv", "targets.csv"], "--output", "losses.csv"),
        (["preds/*.csv", "targets.csv"], "--output", "preds/losses.parquet"),
        (["preds/*.csv", "targets.csv"], "--output", "preds/sub/losses.csv"),
        (["preds", "targets"], "--output", "preds/_losses.csv"),
        (["preds", "targets"], "--output", "preds/sub/.losses.csv"),
        (["preds", "targets"], "--junit", "preds/junit.xml"),
    ],
)
def test_an_output_that_the_inputs_do_not_read_is_written(
    split: Path, args: list[str], option: str, output: str
) -> None:
    """Twice: the second run reads the same parts as the first, beside the new file."""
    expected = eval_value("preds.csv", "targets.csv")
    for _ in range(2):
        assert eval_value(*args, option, output) == pytest.approx(expected, rel=1e-12)
        assert (split / output).exists()


@pytest.mark.parametrize(
    ("predictions", "targets", "output"),
    [
        ("preds.csv", "targets.csv", "preds.csv"),
        ("preds.csv", "targets.csv", "targets.csv"),
        ("preds/*.csv", "targets.csv", "preds/losses.csv"),
        ("preds.csv", "targets", "targets/losses.parquet"),
    ],
)
def test_the_python_api_refuses_the_same_outputs(
    split: Path, predictions: str, targets: str, output: str
) -> None:
    before = {path: path.read_bytes() for path in split.rglob("*") if path.is_file()}
    with pytest.raises(OutputIsInput):
        lossctl.evaluate(predictions, targets, output=output)
    with pytest.raises(OutputIsInput):
        lossctl.evaluate(Path(predictions), targets, output=[io.BytesIO(), Path(output)])
    assert {path: path.read_bytes() for path in split.rglob("*") if path.is_file()} == before
