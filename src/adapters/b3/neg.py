"""Read a B3 NEG trade file into columns fast (pyarrow), falling back to the line parser.

The fast path parses the whole file with `pyarrow.csv` and checks every rule on columns.
When anything is wrong it hands the first bad line to the reference parser in
`neg_layout.py`, whose message names the file, the line and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from adapters.b3.errors import B3FileError
from adapters.b3.local_time import local_to_utc_ms
from adapters.b3.neg_layout import FIELDS, Envelope, TickUnits, parse_envelope, parse_line
from adapters.b3.source import first_line, last_line, read_bytes
from adapters.b3.table import TradeTable, aggressor_codes, keep_symbols
from tradingcore.domain.errors import DomainError
from tradingcore.domain.tape import CANCELLED, CROSS
from tradingcore.domain.values import Symbol

_TYPES: Final = {
    "SessionDate": pa.date32(),
    "InstrumentSymbol": pa.dictionary(pa.int32(), pa.string()),
    "TradeNumber": pa.int64(),
    "TradePrice": pa.decimal128(18, 6),
    "TradedQuantity": pa.int64(),
    "TradeTime": pa.time32("ms"),
    "TradeIndicator": pa.int8(),
    "AggressorBuyOrderIndicator": pa.int8(),
    "AggressorSellOrderIndicator": pa.int8(),
    "CrossTradeIndicator": pa.int8(),
}
_FIRST_DETAIL_LINE: Final = 2
_EPOCH_ORDINAL: Final = 719_163
"""date(1970, 1, 1).toordinal(): day numbers in the columns count from the epoch."""


def read_neg(path: Path, tick_units: TickUnits) -> TradeTable:
    """Read and validate a whole NEG file (zipped or plain) into a TradeTable."""
    data = read_bytes(path)
    header_text, body_start = first_line(data)
    envelope = parse_envelope(path, header_text, 1, "RH")
    trailer_text, trailer_start = last_line(data, body_start)
    if body_start >= len(data) or trailer_start < body_start:
        raise B3FileError(path, "the file ends after its header: no trailer 'RT ...'", line=2)
    body = data[body_start:trailer_start]
    if not len(body):
        trailer = parse_envelope(path, trailer_text, 2, "RT")
        _check_counts(path, envelope, trailer, 2)
        return TradeTable.empty(path)
    try:
        table = _parse(body)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        _scan(path, body, envelope, tick_units)
        raise B3FileError(path, f"unreadable NEG detail lines ({error})") from None
    lines = table.num_rows + 2
    trailer = parse_envelope(path, trailer_text, lines, "RT")
    _check_counts(path, envelope, trailer, lines)
    return _columns(path, body, table, envelope, tick_units)


def _parse(body: pa.Buffer) -> pa.Table:
    return pacsv.read_csv(
        pa.BufferReader(body),
        # One thread: on two shared cores pyarrow's thread pool costs more than it gains
        # (measured: 0.7-1.4 s single against 0.9-3.0 s threaded for 2M lines).
        read_options=pacsv.ReadOptions(
            column_names=list(FIELDS), block_size=1 << 22, use_threads=False
        ),
        parse_options=pacsv.ParseOptions(delimiter=";", quote_char=False, ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(
            column_types=_TYPES,
            include_columns=list(_TYPES),
            null_values=[],
            strings_can_be_null=False,
        ),
    )


def _check_counts(path: Path, header: Envelope, trailer: Envelope, lines: int) -> None:
    # The count in B3's header and trailer counts every line: header, details and trailer.
    if trailer.line_count != lines:
        raise B3FileError(
            path,
            f"the trailer says the file has {trailer.line_count} lines (header and trailer "
            f"included) but it has {lines}: the file is truncated or damaged",
            line=lines,
            field="trailer",
        )
    if header.line_count != trailer.line_count:
        raise B3FileError(
            path,
            f"the header's line count {header.line_count} differs from the trailer's "
            f"{trailer.line_count}",
            line=1,
            field="header",
        )


def _columns(
    path: Path, body: pa.Buffer, table: pa.Table, envelope: Envelope, tick_units: TickUnits
) -> TradeTable:
    symbols, symbol_index = _symbols(table.column("InstrumentSymbol"))
    wanted = np.array([tick_units.accepts(name) for name in symbols], dtype=np.bool_)
    bad_symbol = _bad_symbol_rows(symbols, symbol_index, wanted)
    # Unwanted symbols get tick 1 so their prices never fail a tick check.
    ticks = np.array(
        [_tick_or_zero(tick_units, name) if tick_units.accepts(name) else 1 for name in symbols],
        dtype=np.int64,
    )
    days = _int64(table.column("SessionDate"))
    prices, too_fine = _price_units(table.column("TradePrice"))
    quantities = _int64(table.column("TradedQuantity"))
    trade_numbers = _int64(table.column("TradeNumber"))
    times = _int64(table.column("TradeTime"))
    indicator = _int8(table.column("TradeIndicator"))
    buy = _int8(table.column("AggressorBuyOrderIndicator"))
    sell = _int8(table.column("AggressorSellOrderIndicator"))
    cross = _int8(table.column("CrossTradeIndicator"))
    row_ticks = ticks[symbol_index]
    bad = (
        (days < envelope.first_date.toordinal() - _EPOCH_ORDINAL)
        | (days > envelope.last_date.toordinal() - _EPOCH_ORDINAL)
        | (trade_numbers < 0)
        | (prices <= 0)
        | (row_ticks <= 0)
        | (quantities < 1)
        | (indicator < 1)
        | (indicator > 2)
        | (buy < 0)
        | (buy > 2)
        | (sell < 0)
        | (sell > 2)
        | (cross < 0)
        | (cross > 1)
        | too_fine
    )
    bad[bad_symbol] = True
    tick_safe = np.where(row_ticks > 0, row_ticks, 1)
    bad |= prices % tick_safe != 0
    if bad.any():
        _raise_for_row(path, body, int(np.argmax(bad)), envelope, tick_units)
    flags = np.where(indicator == 2, CANCELLED, 0) | np.where(cross == 1, CROSS, 0)
    table_of_file = TradeTable(
        path=path,
        symbols=symbols,
        symbol_index=symbol_index,
        session_days=days,
        trade_ids=trade_numbers,
        timestamps_ms=local_to_utc_ms(days, times),
        price_units=prices,
        volumes=quantities,
        aggressors=aggressor_codes(buy, sell),
        flags=flags.astype(np.int64),
        line_numbers=np.arange(_FIRST_DETAIL_LINE, table.num_rows + _FIRST_DETAIL_LINE),
    )
    if wanted.all():
        return table_of_file
    return keep_symbols(table_of_file, wanted)


def _symbols(column: pa.ChunkedArray) -> tuple[list[str], npt.NDArray[np.int64]]:
    """Return the trimmed distinct symbols and each row's index into them."""
    encoded = column.unify_dictionaries() if column.num_chunks > 1 else column
    if encoded.num_chunks == 0:
        return [], np.zeros(0, dtype=np.int64)
    dictionary = encoded.chunk(0).dictionary
    indices = np.concatenate(
        [chunk.indices.to_numpy(zero_copy_only=False) for chunk in encoded.chunks]
    ).astype(np.int64)
    # Trim the few distinct padded names, not the million rows that point at them.
    trimmed = pc.utf8_trim_whitespace(dictionary).to_pylist()
    names = sorted(set(trimmed))
    position = {name: number for number, name in enumerate(names)}
    remap = np.array([position[name] for name in trimmed], dtype=np.int64)
    return names, remap[indices] if len(remap) else indices


def _bad_symbol_rows(
    symbols: list[str], symbol_index: npt.NDArray[np.int64], wanted: npt.NDArray[np.bool_]
) -> list[int]:
    """Return the first row of each wanted symbol that is not a valid B3 ticker."""
    bad = []
    for number, name in enumerate(symbols):
        if not wanted[number]:
            continue
        try:
            Symbol(name)
        except DomainError:
            bad.append(int(np.flatnonzero(symbol_index == number)[0]))
    return bad


def _tick_or_zero(tick_units: TickUnits, symbol: str) -> int:
    try:
        return tick_units(symbol)
    except LookupError:
        return 0


def _int64(column: pa.ChunkedArray) -> npt.NDArray[np.int64]:
    if column.type == pa.date32() or column.type == pa.time32("ms"):
        column = column.cast(pa.int32())
    values: npt.NDArray[np.int64] = column.to_numpy().astype(np.int64, copy=False)
    return values


def _int8(column: pa.ChunkedArray) -> npt.NDArray[np.int8]:
    values: npt.NDArray[np.int8] = column.to_numpy()
    return values


def _price_units(
    column: pa.ChunkedArray,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Return prices in units of 1/10,000, and which rows are finer than that."""
    try:
        scaled = pc.cast(column, pa.decimal128(18, 4))
        too_fine = np.zeros(len(column), dtype=np.bool_)
    except pa.ArrowInvalid:
        scaled = pc.cast(column, pa.decimal128(18, 4), safe=False)
        exact = pc.equal(pc.cast(scaled, column.type), column)
        too_fine = ~exact.to_numpy(zero_copy_only=False)
    return _unscaled(scaled), too_fine


def _unscaled(column: pa.ChunkedArray) -> npt.NDArray[np.int64]:
    """Return a decimal128 column's unscaled integers (price x 10,000), without arithmetic.

    Each value is a little-endian 128-bit integer; below 10**18 in magnitude (18 digits)
    its low 64 bits, read as a signed int64, are the value itself.
    """
    parts = []
    for chunk in column.chunks:
        words = np.frombuffer(chunk.buffers()[1], dtype="<i8")
        parts.append(words[2 * chunk.offset : 2 * (chunk.offset + len(chunk)) : 2])
    if not parts:
        return np.zeros(0, dtype=np.int64)
    values: npt.NDArray[np.int64] = np.concatenate(parts).astype(np.int64, copy=False)
    return values


def _raise_for_row(
    path: Path, body: pa.Buffer, row: int, envelope: Envelope, tick_units: TickUnits
) -> None:
    text = _line_text(body, row)
    line = row + _FIRST_DETAIL_LINE
    parse_line(path, text, line, envelope, tick_units)
    raise B3FileError(path, f"line rejected by the columnar checks: {text[:80]!r}", line=line)


def _line_text(body: pa.Buffer, row: int) -> str:
    # Split on LF only, as pyarrow does (splitlines would also split on form feeds etc.).
    text: str = body.to_pybytes().decode("latin-1")
    return text.split("\n")[row].rstrip("\r")


def _scan(path: Path, body: pa.Buffer, envelope: Envelope, tick_units: TickUnits) -> None:
    """Name the first line pyarrow cannot read; return if the line parser accepts them all.

    Halving the body with pyarrow finds the failing region in about two parses of the file;
    only that region (a few thousand lines) goes through the slow line parser.
    """
    start, stop, first_line = 0, len(body), _FIRST_DETAIL_LINE
    while stop - start > _SCAN_BYTES:
        middle = _next_line_start(body, start + (stop - start) // 2, stop)
        if middle >= stop:
            break
        if _readable(body[start:middle]):
            first_line += body[start:middle].to_pybytes().count(b"\n")
            start = middle
        else:
            stop = middle
    lines = body[start:stop].to_pybytes().decode("latin-1").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, text in enumerate(lines, start=first_line):
        parse_line(path, text, number, envelope, tick_units)


_SCAN_BYTES: Final = 1 << 20


def _next_line_start(body: pa.Buffer, offset: int, stop: int) -> int:
    while offset < stop:
        found: int = body[offset : min(offset + 4096, stop)].to_pybytes().find(b"\n")
        if found >= 0:
            return offset + found + 1
        offset += 4096
    return stop


def _readable(part: pa.Buffer) -> bool:
    try:
        _parse(part)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return False
    return True
