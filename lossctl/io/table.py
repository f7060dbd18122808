"""An opened input: :class:`InputTable` streams the needed columns in batches.

An :class:`InputTable` is an opened input that knows its column names. Its
``batches`` streams the named columns: prediction and weight columns as
float64 (``numeric``), the others (targets, ids) with their types inferred;
``read`` gathers them whole. The fast path asks pyarrow for exactly that; when
pyarrow refuses the data, a slow path finds the first offending row and raises
an error that names it. The helpers below are shared by the readers of each
kind (:mod:`lossctl.io.csv`, :mod:`lossctl.io.parquet`, :mod:`lossctl.io.parts`,
:mod:`lossctl.io.memory`); :func:`lossctl.io.readers.open_table` picks one.
Memory holds one batch at a time. A column of lists of numbers is shown in ``names``,
and read, as K columns ``name[0]`` ... ``name[K-1]`` (:mod:`lossctl.io.lists`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple, NoReturn

import pyarrow as pa
import pyarrow.csv as pacsv

from lossctl.errors import DuplicateColumn, NonNumeric, UnsupportedColumnType
from lossctl.io.columns import is_number_type, is_text_type, one_type
from lossctl.io.lists import first_length, fixed_size, is_number_list, item_names, split_list

#: Cells that mean "missing", as pyarrow reads them: empty, NA, NaN, null, ...
NULL_VALUES: tuple[str, ...] = (*pacsv.ConvertOptions().null_values, "None")

#: Names that a saved DataFrame index gets: pandas' to_csv() (an empty header or
#: "Unnamed: 0" once read back) and pyarrow's from_pandas.
INDEX_NAME = re.compile(r"^(|Unnamed: \d+|__index_level_\d+__)$")


class Batch(NamedTuple):
    """Some consecutive rows of an input: ``columns`` by name, all of the same length.

    part : which of the input's ``parts`` (files) the rows come from
    start : the 0-based row of that part where the batch begins
    """

    columns: dict[str, pa.Array]
    part: int
    start: int

    @property
    def num_rows(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0


class InputTable:
    """An opened input: its column names, and a way to read some of them.

    ``index_columns`` are the columns that hold a saved pandas index (named so,
    or listed as the index in the file's pandas metadata): never data.
    ``parts`` names the files the rows come from, in order (one, except for a
    glob or a directory of parts).
    """

    #: Whether the names come from a line of the input that might have been data: True for
    #: a CSV header, False for CSV read without one (named by position), None for inputs
    #: whose names are not a line of data (Parquet, DataFrames).
    has_header: bool | None = None

    def __init__(self, label: str, names: Sequence[str], schema: pa.Schema | None = None) -> None:
        self.label = label
        check_unique(names, label)
        #: The list columns of numbers shown as K columns each (:mod:`lossctl.io.lists`):
        #: their K by name, and the list column and index of each of the K names.
        self.list_sizes: dict[str, int] = {}
        self._items: dict[str, tuple[str, int]] = {}
        self.names = self._with_items(list(names), schema)
        self.parts = [label]
        #: What the reader decided about the input, for the report's reasons.
        self.notes: list[str] = []
        check_unique(self.names, label)
        self.index_columns = [n for n in self.names if INDEX_NAME.match(n)]
        self.index_columns += [n for n in _pandas_index(schema) if n not in self.index_columns]

    def batches(
        self, numeric: Sequence[str], other: Sequence[str], text: Sequence[str] = (), rows: int = 0
    ) -> Iterator[Batch]:
        """Stream the ``numeric`` columns as float64 and the ``other`` ones as they are.

        ``text`` names ``other`` columns to keep as text where the format has no types
        (CSV): ids such as ``007`` stay ``007``. A column named twice is read once; one
        named both ``numeric`` and ``other`` is read as numbers. ``rows`` (if not 0)
        caps the rows of a batch; a batch may have fewer.
        """
        wanted = list(dict.fromkeys(numeric))
        rest = [name for name in dict.fromkeys(other) if name not in wanted]
        items = [name for name in [*wanted, *rest] if name in self._items]
        lists = list(dict.fromkeys(self._items[name][0] for name in items))
        wanted = [name for name in wanted if name not in self._items]
        rest = [name for name in rest if name not in self._items] + lists
        batches = self._batches(wanted, rest, [name for name in text if name in rest], rows)
        for batch in self._split_lists(batches, items, lists):
            if not rows or batch.num_rows <= rows:
                yield batch
                continue
            for offset in range(0, batch.num_rows, rows):
                columns = {name: c.slice(offset, rows) for name, c in batch.columns.items()}
                yield Batch(columns, batch.part, batch.start + offset)

    def _with_items(self, names: list[str], schema: pa.Schema | None) -> list[str]:
        """``names`` with each list column of numbers as its K items (``logits[0]`` ...).
        One whose first list is empty or whose lists are all null, or one named ``id`` (any
        case: the id column, which a list cannot be), stays as it is (and is refused where
        it is read)."""
        if schema is None or not any(is_number_list(field.type) for field in schema):
            return names
        shown = []
        for name in names:
            kind = schema.field(name).type if name in schema.names else None
            size = None
            if kind is not None and is_number_list(kind) and name.lower() != "id":
                size = fixed_size(kind)
                if size is None:
                    batches = self._batches([], [name], [], 0)
                    size = first_length(batch.columns[name] for batch in batches)
            if not size:  # (not a list of numbers, or none but null or empty lists)
                shown.append(name)
                continue
            self.list_sizes[name] = size
            for index, item in enumerate(item_names(name, size)):
                self._items[item] = (name, index)
                shown.append(item)
        return shown

    def _split_lists(
        self, batches: Iterable[Batch], items: list[str], lists: list[str]
    ) -> Iterator[Batch]:
        """The batches, with the list columns ``lists`` as the K columns named ``items``."""
        for batch in batches:
            if not lists:
                yield batch
                continue
            columns = dict(batch.columns)
            split = {
                name: split_list(
                    self.label, name, columns.pop(name), self.list_sizes[name], batch.start
                )
                for name in lists
            }
            for item in items:
                name, index = self._items[item]
                columns[item] = split[name][index]
            yield Batch(columns, batch.part, batch.start)

    def read(
        self, numeric: Sequence[str], other: Sequence[str], text: Sequence[str] = ()
    ) -> dict[str, pa.ChunkedArray]:
        """The columns of ``batches``, whole."""
        return gather(self.batches(numeric, other, text), [*numeric, *other])

    def _batches(
        self, numeric: list[str], other: list[str], text: list[str], rows: int
    ) -> Iterator[Batch]:
        """``batches`` with distinct names, none in two lists."""
        raise NotImplementedError

    def size(self) -> tuple[int, str] | None:
        """How much there is to read, and in what unit ("bytes" or "rows"), if known."""
        return None

    #: Whether :meth:`close` frees something that the next read opens again (a file of
    #: parts, thousands of which should not be held open at once).
    reopens = False

    def close(self) -> None:
        """Let go of the open file, if any, between reads."""

    def _record_columns(
        self, record: pa.RecordBatch, numeric: list[str], other: list[str], start: int
    ) -> dict[str, pa.Array]:
        """The columns of a record batch: ``numeric`` as float64, ``other`` of plain types
        (``start``: the row of the file where the record begins, counted from 0)."""
        columns = {name: self._as_float(name, record.column(name), start) for name in numeric}
        columns.update({name: plain(record.column(name)) for name in other})
        return columns

    def done(self) -> int:
        """How much of ``size`` the batches read so far cover."""
        return 0

    def _as_float(self, column: str, data: pa.Array, start: int = 0) -> pa.Array:
        """Cast a column to float64, or name its first value that is not a number
        (``start``: the row of the file where ``data`` begins, counted from 0)."""
        if data.type == pa.float64():
            return data  # (a cast, even to its own type, imports pyarrow.compute: 30 ms)
        if pa.types.is_dictionary(data.type):
            data = data.cast(data.type.value_type)
        if is_number_type(data.type):
            return data.cast(pa.float64(), safe=False)  # integers beyond 2**53 round
        if is_text_type(data.type):
            try:
                return data.cast(pa.float64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                values = data.to_pylist()
                if non_numbers(values):
                    raise_first_non_number(self.label, column, values, start + 1)
                # numbers and texts of missing values (NA, null, ...), as CSV reads them
                numbers = [None if v is None or v in NULL_VALUES else float(v) for v in values]
                return pa.array(numbers, pa.float64())
        raise UnsupportedColumnType(
            f"holds {data.type} values, not numbers",
            file=self.label,
            column=column,
            hint="Pick numeric columns with --pred-col",
        )


def plain(data: pa.Array) -> pa.Array:
    """A column with its view types (polars' string_view) as plain ones, and dictionaries of
    them decoded: what the rest of lossctl reads."""
    kind = data.type
    if pa.types.is_dictionary(kind) and _is_view(kind.value_type):
        values = pa.DictionaryArray.from_arrays(data.indices, plain(data.dictionary))
        return values.dictionary_decode()
    if pa.types.is_string_view(kind):
        return data.cast(pa.string())
    if pa.types.is_binary_view(kind):
        return data.cast(pa.binary())
    return data


def _is_view(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string_view(kind) or pa.types.is_binary_view(kind))


def gather(batches: Iterable[Batch], columns: Sequence[str]) -> dict[str, pa.ChunkedArray]:
    """The ``columns`` of every batch, each as one column."""
    names = list(dict.fromkeys(columns))
    chunks: dict[str, list[pa.Array]] = {name: [] for name in names}
    for batch in batches:
        for name in names:
            chunks[name].append(batch.columns[name])
    return {name: _concat(arrays) for name, arrays in chunks.items()}


def _concat(arrays: list[pa.Array]) -> pa.ChunkedArray:
    """Batches of one column as one column (see :func:`one_type`)."""
    if not arrays:
        return pa.chunked_array([], pa.null())
    return pa.chunked_array(one_type(arrays))


def _pandas_index(schema: pa.Schema | None) -> list[str]:
    """The stored index columns that pandas recorded in a schema's metadata."""
    if schema is None or not schema.metadata or b"pandas" not in schema.metadata:
        return []
    import json

    try:
        meta = json.loads(schema.metadata[b"pandas"])
    except ValueError:
        return []
    return [c for c in meta.get("index_columns", []) if isinstance(c, str) and c in schema.names]


def check_unique(names: Sequence[str], label: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DuplicateColumn(
                "this column name appears more than once",
                file=label,
                column=name,
                hint="Give every column a unique name",
            )
        seen.add(name)


def is_number(text: str) -> bool:
    """Whether pyarrow reads ``text`` as a float (Python alone also takes ``1_0``)."""
    try:
        float(text)
    except ValueError:
        return False
    return "_" not in text


def shown(value: object, limit: int = 40) -> str:
    """``repr(value)`` for a message, cut to about ``limit`` characters (a cell can be a
    whole line of binary noise)."""
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f"{len(value)} bytes" if isinstance(value, bytes) else f"{len(str(value))} characters"
    return f"{text[:limit]}... ({size})"


def non_numbers(values: Iterable[Any], first_row: int = 1) -> list[tuple[int, Any]]:
    """The rows (numbered from ``first_row``) and values that are neither missing nor
    numbers."""
    return [
        (row, value)
        for row, value in enumerate(values, start=first_row)
        if value is not None and value not in NULL_VALUES and not is_number(str(value))
    ]


def raise_first_non_number(
    label: str, column: str, values: Iterator[Any] | list[Any], first_row: int = 1
) -> NoReturn:
    bad = non_numbers(values, first_row)
    if not bad:  # pragma: no cover - pyarrow refused a value Python accepts
        raise NonNumeric("cannot read this column as numbers", file=label, column=column)
    row, value = bad[0]
    raise NonNumeric(
        f"{shown(value)} is not a number",
        file=label,
        column=column,
        row=row,
        count=len(bad),
        hint="Fix the value, or pick numeric prediction columns with --pred-col",
    )
