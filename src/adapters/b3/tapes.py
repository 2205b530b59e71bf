"""Turn a file's trades into MarketTape events and store them in one transaction."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from adapters.b3.errors import B3FileError
from adapters.b3.local_time import utc_ms_to_datetime
from adapters.b3.table import AGGRESSOR_CODES, TradeTable
from tradingcore.application.errors import AggregateMissing
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.aggregate import DomainEvent
from tradingcore.domain.errors import DomainError, InvalidTrade
from tradingcore.domain.tape import CANCELLED, CROSS, MarketTape, TradeColumns, session_tape_id
from tradingcore.domain.values import Symbol

DEFAULT_BATCH_SIZE: Final = 10_000
"""Trades per TradesRecorded event: big enough to store fast, small enough to stream."""
_EPOCH: Final = date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class TapeImport:
    """What one file added to one symbol's session tape."""

    symbol: str
    session: date
    trades: int
    cancelled: int
    cross: int


@dataclass(slots=True)
class TapeEvents:
    """The events of one file, built and validated in memory, not yet stored."""

    events: list[DomainEvent] = field(default_factory=list)
    tapes: list[TapeImport] = field(default_factory=list)
    already_imported: list[TapeImport] = field(default_factory=list)

    @property
    def trades(self) -> int:
        return sum(tape.trades for tape in self.tapes)


def build_events(
    app: TradingApplication,
    table: TradeTable,
    *,
    band_fraction: Decimal | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> TapeEvents:
    """Validate every trade of a file against its tape and return the events to store.

    Trades are grouped by symbol and session and ordered by time, then trade number.
    A tape that already holds every trade of its group is left alone (already imported);
    one that holds only some of them is an error.
    """
    result = TapeEvents()
    if not len(table):
        return result
    keys = table.session_days * max(len(table.symbols), 1) + table.symbol_index
    order = np.lexsort((table.trade_ids, table.timestamps_ms, keys))
    sorted_keys = keys[order]
    starts = [0, *(np.flatnonzero(np.diff(sorted_keys)) + 1).tolist(), len(order)]
    columns = _SortedColumns(table, order)
    for start, stop in itertools.pairwise(starts):
        row = int(order[start])
        name = table.symbols[int(table.symbol_index[row])]
        session = _EPOCH + timedelta(days=int(table.session_days[row]))
        tape, summary = _tape_events(
            app, table, columns, start, stop, Symbol(name), session, band_fraction, batch_size
        )
        if tape is None:
            result.already_imported.append(summary)
        else:
            result.events.extend(tape)
            result.tapes.append(summary)
    return result


def store_events(app: TradingApplication, path: Path, built: TapeEvents) -> int | None:
    """Append all events of one file in a single transaction; return the last notification."""
    try:
        return app.append(built.events)
    except Exception as error:
        raise B3FileError(
            path, f"nothing was stored: the store refused the events ({error})"
        ) from error


class _SortedColumns:
    """The table's columns in tape order, as Python lists (what the domain's batches take)."""

    def __init__(self, table: TradeTable, order: npt.NDArray[np.intp]) -> None:
        self.order = order
        self.trade_ids: list[int] = table.trade_ids[order].tolist()
        self.timestamps_ms: list[int] = table.timestamps_ms[order].tolist()
        self.prices: list[int] = table.price_units[order].tolist()
        self.volumes: list[int] = table.volumes[order].tolist()
        codes = np.frombuffer(AGGRESSOR_CODES, dtype=np.uint8)
        self.aggressors = codes[table.aggressors[order]].tobytes().decode("ascii")
        self.flag_array = table.flags[order]
        self.flags: list[int] = self.flag_array.tolist()

    def batch(self, start: int, stop: int) -> TradeColumns:
        return TradeColumns(
            trade_ids=self.trade_ids[start:stop],
            timestamps_ms=self.timestamps_ms[start:stop],
            prices=self.prices[start:stop],
            volumes=self.volumes[start:stop],
            aggressors=list(self.aggressors[start:stop]),
            flags=self.flags[start:stop],
        )


def _tape_events(
    app: TradingApplication,
    table: TradeTable,
    columns: _SortedColumns,
    start: int,
    stop: int,
    symbol: Symbol,
    session: date,
    band_fraction: Decimal | None,
    batch_size: int,
) -> tuple[list[DomainEvent] | None, TapeImport]:
    flags = columns.flag_array[start:stop]
    summary = TapeImport(
        symbol.ticker,
        session,
        stop - start,
        int(np.count_nonzero(flags & CANCELLED)),
        int(np.count_nonzero(flags & CROSS)),
    )
    tape = _existing_tape(app, symbol, session)
    if tape is None:
        tape = MarketTape.open(
            symbol,
            session,
            utc_ms_to_datetime(columns.timestamps_ms[start]),
            band_fraction=band_fraction,
        )
    elif tape.seen_trade_ids:
        ids = columns.trade_ids[start:stop]
        present = [index for index, trade_id in enumerate(ids) if trade_id in tape.seen_trade_ids]
        if len(present) == len(ids):
            return None, summary
        if present:
            line = int(table.line_numbers[columns.order[start + present[0]]])
            raise B3FileError(
                table.path,
                f"trade {ids[present[0]]} of {symbol.ticker} on {session} is already in the "
                f"store, but {len(ids) - len(present)} trades of this file are not: another "
                "file with overlapping trades was imported",
                line=line,
                field="TradeNumber",
            )
    for batch_start in range(start, stop, batch_size):
        batch_stop = min(batch_start + batch_size, stop)
        at = utc_ms_to_datetime(columns.timestamps_ms[batch_stop - 1])
        try:
            tape.record(columns.batch(batch_start, batch_stop), at)
        except DomainError as error:
            raise _located(table, columns, batch_start, symbol, session, error) from None
    return list(tape.collect_events()), summary


def _existing_tape(app: TradingApplication, symbol: Symbol, session: date) -> MarketTape | None:
    # A fresh copy: the one we change must not be the application's cached tape.
    try:
        return app.load_fresh(MarketTape, session_tape_id(symbol, session))
    except AggregateMissing:
        return None


def _located(
    table: TradeTable,
    columns: _SortedColumns,
    batch_start: int,
    symbol: Symbol,
    session: date,
    error: DomainError,
) -> B3FileError:
    row = error.row if isinstance(error, InvalidTrade) else None
    line = None
    if row is not None:
        line = int(table.line_numbers[columns.order[batch_start + row]])
    return B3FileError(table.path, f"{symbol.ticker} on {session}: {error}", line=line)
