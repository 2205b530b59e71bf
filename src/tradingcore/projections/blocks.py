"""Row blocks: the rows one event adds to one table file, kept in column form."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from tradingcore.projections.tables import Table


@dataclass(frozen=True, slots=True)
class Constant:
    """A column holding the same value on every row of a block (stored once, not per row)."""

    value: Any


@dataclass(frozen=True, slots=True)
class Characters:
    """A string column given as one string, one character per row (the tape's aggressors)."""

    text: str


@dataclass(frozen=True, slots=True)
class FlagBit:
    """A boolean column: whether `bit` is set in each of `flags`."""

    flags: Sequence[int]
    bit: int


Column = Sequence[Any] | Constant | Characters | FlagBit
"""Per-row values, or a compact form of them; the adapter turns each into one array."""


@dataclass(frozen=True, slots=True)
class Block:
    """Rows for one table file: `symbol` and `day` name the file `SYMBOL/DATE/TABLE.parquet`."""

    table: Table
    symbol: str
    day: date
    length: int
    columns: Mapping[str, Column]

    @property
    def key(self) -> tuple[str, str, date]:
        return (self.table.name, self.symbol, self.day)


def single_row(table: Table, symbol: str, day: date, values: Mapping[str, Any]) -> Block:
    """Return a one-row block; every column of the table must be given."""
    missing = set(table.column_names) - set(values)
    if missing:
        raise KeyError(f"row for table {table.name} lacks columns {sorted(missing)}")
    return Block(table, symbol, day, 1, {name: (values[name],) for name in table.column_names})
