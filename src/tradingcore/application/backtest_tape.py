"""The backtest's input: each symbol's trades as columns, merged into one time order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from tradingcore.domain.tape import (
    BRASILIA_OFFSET_MS,
    CANCELLED,
    CROSS,
    DAY_MS,
    Trade,
    TradeColumns,
    TradesRecorded,
)
from tradingcore.domain.values import Aggressor, Symbol, units_to_price

Int64s = np.ndarray[Any, np.dtype[np.int64]]


@dataclass(frozen=True, slots=True)
class SymbolTrades:
    """One symbol's trades in tape order, as integer columns (prices in price units)."""

    symbol: Symbol
    trade_ids: Int64s
    timestamps_ms: Int64s
    price_units: Int64s
    volumes: Int64s
    aggressors: np.ndarray[Any, np.dtype[np.uint8]]
    """ASCII codes of 'B', 'S', 'N'."""
    flags: Int64s

    def __len__(self) -> int:
        return len(self.trade_ids)

    @classmethod
    def of(cls, symbol: Symbol, trades: Iterable[Trade]) -> SymbolTrades:
        columns = TradeColumns()
        for trade in trades:
            columns.append(trade)
        return cls.of_columns(symbol, columns)

    @classmethod
    def of_columns(cls, symbol: Symbol, columns: TradeColumns) -> SymbolTrades:
        return cls(
            symbol,
            np.array(columns.trade_ids, dtype=np.int64),
            np.array(columns.timestamps_ms, dtype=np.int64),
            np.array(columns.prices, dtype=np.int64),
            np.array(columns.volumes, dtype=np.int64),
            np.frombuffer("".join(columns.aggressors).encode("ascii"), dtype=np.uint8).copy(),
            np.array(columns.flags, dtype=np.int64),
        )

    def take(self, keep: np.ndarray[Any, Any]) -> SymbolTrades:
        """Return the rows selected by a boolean mask or an index array."""
        return SymbolTrades(
            self.symbol,
            self.trade_ids[keep],
            self.timestamps_ms[keep],
            self.price_units[keep],
            self.volumes[keep],
            self.aggressors[keep],
            self.flags[keep],
        )

    def columns(self, start: int, stop: int) -> TradeColumns:
        """Return rows [start, stop) as the tape's column batch."""
        return TradeColumns(
            self.trade_ids[start:stop].tolist(),
            self.timestamps_ms[start:stop].tolist(),
            self.price_units[start:stop].tolist(),
            self.volumes[start:stop].tolist(),
            list(self.aggressors[start:stop].tobytes().decode("ascii")),
            self.flags[start:stop].tolist(),
        )

    def sessions(self) -> Int64s:
        """Return each trade's B3 session day number (days since the epoch, Brasília)."""
        return (self.timestamps_ms + BRASILIA_OFFSET_MS) // DAY_MS


def of_recorded(
    events: Iterable[TradesRecorded],
    *,
    symbols: Iterable[str] | None = None,
    start_ms: int | None = None,
    end_ms: int | None = None,
) -> dict[Symbol, SymbolTrades]:
    """Group stored trade batches by symbol; cancelled trades, other symbols and times out of
    [start_ms, end_ms) are left out."""
    wanted = None if symbols is None else {ticker.upper() for ticker in symbols}
    batches: dict[Symbol, TradeColumns] = {}
    for event in events:
        if wanted is not None and event.symbol.ticker not in wanted:
            continue
        columns = batches.setdefault(event.symbol, TradeColumns())
        columns.trade_ids.extend(event.trade_ids)
        columns.timestamps_ms.extend(event.timestamps_ms)
        columns.prices.extend(event.prices)
        columns.volumes.extend(event.volumes)
        columns.aggressors.extend(event.aggressors)
        columns.flags.extend(event.flags)
    tapes: dict[Symbol, SymbolTrades] = {}
    for symbol in sorted(batches, key=lambda item: item.full_symbol):
        tape = SymbolTrades.of_columns(symbol, batches[symbol])
        keep = (tape.flags & CANCELLED) == 0
        if start_ms is not None:
            keep &= tape.timestamps_ms >= start_ms
        if end_ms is not None:
            keep &= tape.timestamps_ms < end_ms
        tape = tape.take(keep)
        if len(tape):
            tapes[symbol] = tape
    return tapes


def merged_order(tapes: Mapping[Symbol, SymbolTrades]) -> tuple[Int64s, Int64s]:
    """Return (symbol index, row) of every trade in time order; ties keep symbol order."""
    if not tapes:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    stamps = np.concatenate([tape.timestamps_ms for tape in tapes.values()])
    owners = np.concatenate(
        [np.full(len(tape), index, dtype=np.int64) for index, tape in enumerate(tapes.values())]
    )
    rows = np.concatenate([np.arange(len(tape), dtype=np.int64) for tape in tapes.values()])
    order = np.lexsort((rows, owners, stamps))
    return owners[order], rows[order]


class PriceCache:
    """Price units to Decimal prices, each converted once (a tape repeats few prices)."""

    def __init__(self) -> None:
        self._prices: dict[int, Decimal] = {}

    def __call__(self, units: int) -> Decimal:
        price = self._prices.get(units)
        if price is None:
            price = self._prices[units] = units_to_price(units)
        return price


AGGRESSORS: dict[int, Aggressor] = {ord(item.value): item for item in Aggressor}


def trade_at(tape: SymbolTrades, row: int, prices: PriceCache) -> Trade:
    """Build the domain Trade of one row."""
    flags = int(tape.flags[row])
    return Trade(
        tape.symbol,
        int(tape.trade_ids[row]),
        int(tape.timestamps_ms[row]),
        prices(int(tape.price_units[row])),
        int(tape.volumes[row]),
        AGGRESSORS[int(tape.aggressors[row])],
        cancelled=bool(flags & CANCELLED),
        cross=bool(flags & CROSS),
    )
