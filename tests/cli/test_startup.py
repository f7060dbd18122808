"""Start-up: what a run loads, and the plain option converters that keep pydantic out.

Typer 0.29 reads every option through pydantic; ``lossctl.cli._coerce`` gives
lossctl's options converters of their own. They must agree with Typer's on every
value Typer accepts, and refuse what it refuses.
"""

from __future__ import annotations

import subprocess
import sys
from enum import Enum
from typing import Any

import pytest
import typer
from typer._click.core import Context

from lossctl.cli import app
from lossctl.cli._coerce import PlainValue, install

SAMPLES = ("sample_data/multiclass_probs.csv", "sample_data/multiclass_labels.csv")

LOADED = """
import sys
from lossctl.cli import main
code = main({argv!r})
heavy = sorted({{m.split('.')[0] for m in sys.modules}} & {{'pydantic', {extra}}})
print(code, *heavy, file=sys.stderr)
"""


def _loaded(argv: list[str], extra: str = "") -> list[str]:
    """The exit code and which of pydantic (and ``extra``) a run of ``argv`` loaded."""
    done = subprocess.run(
        [sys.executable, "-c", LOADED.format(argv=argv, extra=extra)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return done.stderr.split()


def test_an_evaluation_does_not_load_pydantic() -> None:
    assert _loaded(["eval", *SAMPLES, "--format", "value", "--head", "3"]) == ["0"]


def test_an_evaluation_loads_neither_dask_nor_fsspec() -> None:
    """The extras are not weight: a plain run (and --help) imports none of them."""
    extra = "'dask', 'distributed', 'fsspec', 's3fs', 'boto3', 'botocore'"
    assert _loaded(["eval", *SAMPLES, "--format", "value"], extra=extra) == ["0"]
    assert _loaded(["eval", "--help"], extra=extra) == ["0"]


def test_help_loads_no_numerical_library() -> None:
    assert _loaded(["eval", "--help"], extra="'numpy', 'pyarrow'") == ["0"]


def test_a_bad_option_value_is_refused_with_clicks_words() -> None:
    from tests.cli.helpers import run_eval

    for option, value, words in (
        ("--head", "-1", "-1 is not in the range x>=0."),
        ("--eps", "abc", "'abc' is not a valid float."),
        ("--chunk-rows", "x", "'x' is not a valid int"),  # 'integer', or 'int range' (Click)
        ("--task", "binomial", "'binomial' is not one of 'auto', 'binary', 'multiclass'"),
    ):
        result = run_eval(*SAMPLES, option, value)
        assert result.exit_code == 2, result.stderr
        assert f"Invalid value for '{option}': {words}" in result.stderr


def _typers_own(param: Any) -> Any:
    from typer._coercion import build_runtime_param  # Typer >= 0.29 only

    return build_runtime_param(param.type_descriptor)


def _values(param: Any) -> list[Any]:
    """Values to convert: the default, typical text, and text that should be refused."""
    annotation = param.type_descriptor.annotation
    values: list[Any] = [None, param.default, "", " 7 ", "-1", "0", "2.5", "1e-3", "abc", "nan"]
    values += ["true", "no", "On", b"bytes"]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        values += [member.value for member in annotation]
        values += [member.value.upper() for member in annotation] + list(annotation)
    if param.multiple:
        values = [None, (), ("a", "b,c"), ["x"], "text"]
    return values


def _convert(runtime: Any, value: Any, param: Any, ctx: Context) -> tuple[str, Any]:
    try:
        return "value", runtime.coerce(value, param=param, ctx=ctx)
    except typer.BadParameter:
        return "refused", None


def test_the_plain_converters_agree_with_typers_own() -> None:
    pytest.importorskip("pydantic")
    command = typer.main.get_command(app)
    ctx = Context(command, info_name="lossctl")
    install(command, ctx)
    params = [
        p
        for sub in [command, *command.commands.values()]  # type: ignore[attr-defined]
        for p in [*sub.params, sub.get_help_option(ctx)]
        if p is not None
    ]
    if not hasattr(params[0], "type_descriptor"):
        pytest.skip("this Typer converts with Click's types: nothing is replaced")
    checked = 0
    for param in params:
        ours = param._runtime_param
        assert isinstance(ours, PlainValue), (
            f"{param.name}: no plain converter for this type; add one to lossctl/cli/_coerce.py, "
            "or Typer loads pydantic at every start"
        )
        theirs = _typers_own(param)
        for value in _values(param):
            mine, expected = _convert(ours, value, param, ctx), _convert(theirs, value, param, ctx)
            assert repr(mine) == repr(expected), (param.name, value)  # repr: nan == nan
            assert type(mine[1]) is type(expected[1]), (param.name, value)
            checked += 1
    assert checked > 200
