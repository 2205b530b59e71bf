"""Stub trades and a store reader for the capture tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tradingcore.application.trading import TradingApplication
from tradingcore.domain.tape import MarketTape, Trade, TradesRecorded, session_tape_id
from tradingcore.domain.values import Aggressor, Symbol
from tradingcore.simulation.market import session_open_ms

WIN = Symbol("WINZ25")
WDO = Symbol("WDOF26")
SESSION = date(2025, 12, 1)
OPEN_MS = session_open_ms(SESSION)


def trade(
    trade_id: int,
    *,
    offset_ms: int | None = None,
    price: Decimal | int = 127_850,
    volume: int = 1,
    symbol: Symbol = WIN,
    aggressor: Aggressor = Aggressor.BUY,
) -> Trade:
    timestamp = OPEN_MS + (trade_id if offset_ms is None else offset_ms)
    return Trade(symbol, trade_id, timestamp, Decimal(price), volume, aggressor)


def stored_trades(
    app: TradingApplication, symbol: Symbol = WIN, session: date = SESSION
) -> list[Trade]:
    """Every trade on a session tape, in recorded order, read back from the store."""
    tape_id = session_tape_id(symbol, session)
    if not app.exists(tape_id):
        return []
    app.load_fresh(MarketTape, tape_id)  # the tape itself must rebuild from its events
    return [
        row
        for event in app.events.get(tape_id)
        if isinstance(event, TradesRecorded)
        for row in event.trades()
    ]
