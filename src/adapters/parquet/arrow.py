"""Arrow schemas of the projected tables, and row blocks turned into Arrow record batches."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import cache
from typing import Any, Final

import numpy as np
import pyarrow as pa

from tradingcore.domain.values import PRICE_SCALE
from tradingcore.projections.blocks import Block, Characters, Column, Constant, FlagBit
from tradingcore.projections.tables import Kind, Table

ARROW_TYPES: Final[dict[Kind, pa.DataType]] = {
    Kind.TIMESTAMP_MS: pa.timestamp("ms"),
    Kind.PRICE_UNITS: pa.float64(),
    Kind.FLOAT: pa.float64(),
    Kind.INT32: pa.int32(),
    Kind.INT64: pa.int64(),
    Kind.STRING: pa.string(),
    Kind.BOOL: pa.bool_(),
    Kind.DATE: pa.date32(),
    Kind.MONEY: pa.decimal128(18, 2),
}


@cache
def schema_of(table: Table) -> pa.Schema:
    """Return a table's Arrow schema (its columns in order, nullable)."""
    return pa.schema([pa.field(name, ARROW_TYPES[kind]) for name, kind in table.columns])


def to_batch(block: Block) -> pa.RecordBatch:
    """Convert a block to a record batch of its table's schema, column by column."""
    arrays = [_array(block.columns[name], kind, block.length) for name, kind in block.table.columns]
    return pa.RecordBatch.from_arrays(arrays, schema=schema_of(block.table))


def to_table(blocks: Sequence[Block]) -> pa.Table:
    """Concatenate blocks of one table into one Arrow table."""
    table = blocks[0].table
    return pa.Table.from_batches([to_batch(block) for block in blocks], schema=schema_of(table))


def _array(column: Column, kind: Kind, length: int) -> pa.Array:
    arrow_type = ARROW_TYPES[kind]
    if isinstance(column, Constant):
        return _constant(column.value, kind, length)
    if isinstance(column, Characters):
        return _characters(column.text, length)
    if isinstance(column, FlagBit):
        return _flag_bit(column, length)
    if isinstance(column, range):
        return pa.array(np.arange(column.start, column.stop, dtype=np.int64))
    if kind is Kind.PRICE_UNITS:
        return pa.array(_integers(column, np.int64) / PRICE_SCALE, type=pa.float64())
    if kind is Kind.TIMESTAMP_MS:
        return pa.array(_integers(column, np.int64)).view(arrow_type)
    if kind in _NUMPY_INTEGERS and isinstance(column, tuple) and len(column) > 16:
        # Large integer columns (the tape's) skip pyarrow's per-value type inference.
        return pa.array(_integers(column, _NUMPY_INTEGERS[kind]), type=arrow_type)
    return pa.array(column, type=arrow_type)


_NUMPY_INTEGERS: Final[dict[Kind, type[np.signedinteger[Any]]]] = {
    Kind.INT32: np.int32,
    Kind.INT64: np.int64,
}


def _integers(values: Sequence[int], dtype: type[np.signedinteger[Any]]) -> np.ndarray[Any, Any]:
    return np.fromiter(values, dtype=dtype, count=len(values))


def _flag_bit(column: FlagBit, length: int) -> pa.Array:
    if not any(column.flags):
        # Nearly every trade has no flags: skip the per-row work.
        return pa.array(np.zeros(length, dtype=np.bool_))
    flags = _integers(column.flags, np.int64)
    return pa.array((flags & column.bit) != 0, type=pa.bool_())


def _constant(value: Any, kind: Kind, length: int) -> pa.Array:
    """Repeat one value; built from buffers because `pa.repeat` is slow for some types."""
    arrow_type = ARROW_TYPES[kind]
    if value is None:
        return pa.nulls(length, arrow_type)
    if kind is Kind.STRING:
        data = str(value).encode()
        offsets = np.arange(length + 1, dtype=np.int32) * len(data)
        return pa.StringArray.from_buffers(
            length, pa.py_buffer(offsets), pa.py_buffer(data * length)
        )
    if kind is Kind.DATE:
        days = value.toordinal() - _EPOCH_ORDINAL
        return pa.array(np.full(length, days, dtype=np.int32)).view(arrow_type)
    if kind in _NUMPY_INTEGERS:
        return pa.array(np.full(length, value, dtype=_NUMPY_INTEGERS[kind]), type=arrow_type)
    return pa.repeat(pa.scalar(value, arrow_type), length)


_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()


def _characters(text: str, length: int) -> pa.Array:
    """Build a string array of one-character strings straight from the bytes (ASCII only)."""
    data = text.encode("ascii")
    if len(data) != length:
        raise ValueError(f"{len(data)} characters for {length} rows")
    offsets = np.arange(length + 1, dtype=np.int32)
    return pa.StringArray.from_buffers(length, pa.py_buffer(offsets), pa.py_buffer(data))
