"""Plain converters for the option values, so that a start does not load pydantic.

Typer 0.29 and later check every value of every option with a pydantic
``TypeAdapter``, built when the command runs: loading pydantic and building the
adapters cost about 90 ms, a third of a 1,000-row evaluation. lossctl's options
are flags, text, whole numbers (some with a minimum), floats and choices (and
lists of text): :func:`install` gives each such parameter a converter of a few lines, with
the words Click (and so Typer before 0.29) uses for a bad value. A parameter of
any other kind keeps Typer's own conversion, and so does every parameter where
Typer has no place for one (before 0.29, Click's types do the work: nothing to
replace).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from enum import Enum
from typing import Any, get_args, get_origin

import typer
from typer._click.core import Command, Context, Parameter

Convert = Callable[[Any], Any]


class PlainValue:
    """What Typer asks of a parameter's converter: ``coerce(value, param=, ctx=)``."""

    def __init__(self, convert: Convert) -> None:
        self.convert = convert

    def coerce(self, value: Any, param: Any, ctx: Context) -> Any:
        many = param.multiple or param.nargs == -1
        if value is None:
            return () if many else None
        try:
            if many:
                if isinstance(value, str):
                    raise ValueError("Value must be an iterable.")
                return [self.convert(item) for item in value]
            return self.convert(value)
        except ValueError as error:
            raise typer.BadParameter(str(error), ctx=ctx, param=param) from None


def install(command: Command, ctx: Context) -> None:
    """Give every parameter of ``command`` and of its subcommands (their help options too,
    which ``ctx`` names) a plain converter, where Typer has a place for one."""
    for param in _parameters(command, ctx):
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is None or getattr(param, "_runtime_param", False) is not None:
            continue  # no place for a converter here, or one is already made
        convert = converter(descriptor.annotation, descriptor.parameter_info)
        if convert is not None:
            param._runtime_param = PlainValue(convert)  # type: ignore[attr-defined]


def _parameters(command: Command, ctx: Context) -> Iterator[Parameter]:
    yield from command.params
    help_option = command.get_help_option(ctx)  # made once, then kept by the command
    if help_option is not None:
        yield help_option
    for sub in getattr(command, "commands", {}).values():  # a group's commands
        yield from _parameters(sub, ctx)


def converter(annotation: Any, info: Any) -> Convert | None:
    """A converter for values of ``annotation`` (``list[X]``: of X), or None for Typer's own."""
    if any(getattr(info, name, None) for name in ("parser", "click_type", "clamp")):
        return None
    if get_origin(annotation) is list:
        (annotation,) = get_args(annotation)
    if annotation is str:
        return _text
    if annotation is bool:
        return _flag
    if annotation is int or annotation is float:
        return _number(annotation, getattr(info, "min", None), getattr(info, "max", None))
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _choice(annotation, bool(getattr(info, "case_sensitive", True)))
    return None


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off", ""}


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ValueError(f"{value!r} is not a valid boolean.")


def _number(kind: type[int] | type[float], low: Any, high: Any) -> Convert:
    name = "integer" if kind is int else "float"
    if low is not None and high is not None:
        bounds = f"{low}<=x<={high}"
    else:
        bounds = f"x>={low}" if low is not None else f"x<={high}"

    def convert(value: Any) -> int | float:
        if isinstance(value, kind) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = kind(value.strip() if isinstance(value, str) else value)
            except (TypeError, ValueError):
                raise ValueError(f"{value!r} is not a valid {name}.") from None
        if (low is not None and number < low) or (high is not None and number > high):
            raise ValueError(f"{number} is not in the range {bounds}.")
        return number

    return convert


def _choice(kind: type[Enum], case_sensitive: bool) -> Convert:
    def fold(text: str) -> str:
        return text if case_sensitive else text.casefold()

    members = {fold(str(member.value)): member for member in kind}

    def convert(value: Any) -> Enum:
        if isinstance(value, kind):
            return value
        found = members.get(fold(str(value)))
        if found is None:
            names = ", ".join(repr(name) for name in members)
            raise ValueError(f"{value!r} is not one of {names}.")
        return found

    return convert
