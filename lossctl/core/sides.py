"""Where the rows of an input come from (:class:`Side`), and the value errors that name them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from lossctl.core.profiles import Count
from lossctl.errors import BadValueError

E = TypeVar("E", bound=BadValueError)


@dataclass(frozen=True)
class Side:
    """One input, as messages name it, and where each of its rows comes from.

    Rows are counted from 0 over the whole input; an input of several files
    (``parts``, whose first rows are ``starts``) names the file of a row and the
    row within it.
    """

    file: str
    parts: tuple[str, ...] = ()
    starts: tuple[int, ...] = ()

    def _part(self, index: int) -> int:
        return int(np.searchsorted(self.starts, index, side="right")) - 1 if self.starts else -1

    def row(self, index: int) -> int:
        """The 1-based data row, within its file, of the input's row ``index``."""
        part = self._part(index)
        return index + 1 - (self.starts[part] if part >= 0 else 0)

    def file_at(self, index: int) -> str:
        """The file that holds the input's row ``index``."""
        part = self._part(index)
        return self.parts[part] if part >= 0 and len(self.parts) > 1 else self.file

    def where(self, index: int, named: bool = True) -> str:
        """The 1-based row of the input's row ``index``, and (``named``) the part that
        holds it when the input has several: ``"7"``, ``"7 of preds/part-1.csv"``."""
        file = self.file_at(index)
        return f"{self.row(index)}" + (f" of {file}" if named and file != self.file else "")


def bad_value(
    error: type[E],
    count: Count,
    what: str,
    side: Side,
    column: str | None,
    *,
    hint: str,
) -> E:
    """An ``error`` for the first of ``count``'s rows: ``'<value>' <what>``."""
    value = "this row" if count.value is None else repr(count.value)
    first = count.first or 0
    return error(
        f"{value} {what}",
        file=side.file_at(first),
        column=column,
        row=side.row(first),
        count=count.n,
        hint=hint,
    )
