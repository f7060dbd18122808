"""JSON Lines files (``.jsonl``, ``.ndjson``): one JSON object a line, read block by block.

pyarrow's streaming JSON reader (``pyarrow.json.open_json``) reads the file a
block (1 MiB) at a time, with the prediction columns as float64 and the other
columns of the types that the first block shows. When a later block holds
another type (integer targets, then a 0.5), the file is read again whole, which
unifies the types over every line. When pyarrow refuses the file, it is read
line by line with Python's ``json`` to name the first offending line. Blank
lines are skipped; rows count the objects, from 1.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any, NoReturn

import pyarrow as pa

from lossctl.errors import EmptyFile, InvalidJson, MixedJsonTypes, NonNumeric, NotJsonObject
from lossctl.io.columns import is_number_type
from lossctl.io.sources import Source
from lossctl.io.table import Batch, InputTable, shown

#: Bytes a block of the streaming reader holds (about 20,000 short lines).
BLOCK_SIZE = 1 << 20
HINT = "Give one JSON object per line"


class JsonLinesTable(InputTable):
    """A JSON Lines file: the columns are the keys of the objects in its first block."""

    def __init__(self, source: Source, block_size: int | None = None) -> None:
        assert source.path is not None
        self.source = source
        self.path = str(source.path)
        self.block_size = block_size or BLOCK_SIZE
        self._rows_done = 0
        if os.path.getsize(self.path) == 0:
            raise EmptyFile("is empty", file=source.label, hint=HINT)
        import pyarrow.json as pj

        try:
            self._types = pj.open_json(self.path, read_options=self._read_options()).schema
        except pa.ArrowInvalid as error:
            self._diagnose(error, [])
        super().__init__(source.label, self._types.names, self._types)

    def _read_options(self) -> Any:
        import pyarrow.json as pj

        return pj.ReadOptions(block_size=self.block_size)

    def _parse_options(self, numeric: list[str], other: list[str], whole: bool) -> Any:
        """The prediction columns as float64 (if the first block holds numbers in them); the
        others as the first block says (or, read ``whole``, as every line says); and no
        column besides."""
        import pyarrow.json as pj

        fields = [
            pa.field(name, pa.float64())
            if is_number_type(self._types.field(name).type)
            else self._types.field(name)  # (lists, text: _as_float says what they are)
            for name in numeric
        ]
        if not whole:
            fields += [self._types.field(name) for name in other]
        return pj.ParseOptions(
            explicit_schema=pa.schema(fields),
            unexpected_field_behavior="infer" if whole else "ignore",
        )

    def _batches(
        self, numeric: list[str], other: list[str], text: list[str], rows: int
    ) -> Iterator[Batch]:
        """Block by block; from the first block whose types differ, the rest of the file
        read whole (its types unified over every line)."""
        import pyarrow.json as pj

        self._rows_done = 0
        try:
            options = self._parse_options(numeric, other, whole=False)
            reader = pj.open_json(self.path, self._read_options(), options)
            for record in reader:
                yield self._batch(record, numeric, other)
            return
        except pa.ArrowInvalid:
            pass  # another type further down, or a line pyarrow refuses: read it whole
        try:
            options = self._parse_options(numeric, other, whole=True)
            whole = pj.read_json(self.path, self._read_options(), options)
        except pa.ArrowInvalid as error:
            self._diagnose(error, numeric)
        for record in whole.slice(self._rows_done).to_batches():
            yield self._batch(record, numeric, other)

    def _batch(self, record: pa.RecordBatch, numeric: list[str], other: list[str]) -> Batch:
        columns = self._record_columns(record, numeric, other, self._rows_done)
        batch = Batch(columns, 0, self._rows_done)
        self._rows_done += record.num_rows
        return batch

    def _diagnose(self, error: pa.ArrowInvalid, numeric: list[str]) -> NoReturn:
        """Read the file line by line and raise the error of the first offending line."""
        label = self.source.label
        diagnose_lines(self.path, label, numeric)
        if "Empty JSON" in str(error):
            raise EmptyFile("holds no JSON object", file=label, hint=HINT) from None
        raise InvalidJson(  # pragma: no cover - pyarrow refused what Python reads
            f"cannot be read as JSON Lines ({error})", file=label, hint=HINT
        ) from None

    def size(self) -> tuple[int, str] | None:
        return None

    def done(self) -> int:
        return self._rows_done


def _kind(value: object) -> str:
    """The JSON type of a value, in words."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


def diagnose_lines(path: str, label: str, numeric: list[str]) -> None:
    """Raise the error of the first line that is not JSON, not an object, or that gives a
    column another JSON type than the lines before it (a ``numeric`` column: not a number).
    Return if every line is fine."""
    seen: dict[str, tuple[str, int]] = {}
    row = 0
    with open(path, "rb") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            row += 1
            try:
                value = json.loads(line)
            except ValueError as error:  # (also UnicodeDecodeError)
                words = str(error)
                if isinstance(error, json.JSONDecodeError):
                    words = f"{error.msg}, column {error.colno}"
                raise InvalidJson(
                    f"line {number} is not valid JSON ({words})", file=label, hint=HINT
                ) from None
            if not isinstance(value, dict):
                shown = line.decode("utf-8", "replace").strip()
                shown = shown if len(shown) <= 40 else shown[:37] + "..."
                raise NotJsonObject(
                    f"line {number} is {_kind(value)}, not an object: {shown}",
                    file=label,
                    hint='Give one JSON object per line, such as {"id": 1, "p": 0.2}',
                )
            for name, cell in value.items():
                _check_cell(label, name, cell, row, seen, name in numeric)


def _check_cell(
    label: str, name: str, cell: object, row: int, seen: dict[str, tuple[str, int]], numeric: bool
) -> None:
    if cell is None:
        return
    kind = _kind(cell)
    if numeric and kind != "a number":
        raise NonNumeric(
            f"{shown(cell)} is not a number",
            file=label,
            column=name,
            row=row,
            hint="Fix the value, or pick numeric prediction columns with --pred-col",
        )
    first, first_row = seen.setdefault(name, (kind, row))
    if kind != first:
        raise MixedJsonTypes(
            f"holds {kind}, where row {first_row} holds {first}",
            file=label,
            column=name,
            row=row,
            hint="Give each column values of one JSON type (quote every id, or none)",
        )
