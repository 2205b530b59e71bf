"""Backtest trading: the same ticks and signals through the API host's desk, risk and paper venue.

`run_pipeline` is the in-process twin of `capture -> analytics -> api --auto-execute`: the
trades go through a FeedCursor (feed clock, market data, paper fills) in feed order, and each
signal is taken at its own tick by the same SignalDesk, OrderManager and PaperBroker the API
host runs. `trading_record` reads signals, orders, fills and positions back from any store,
so a backtest and a live store compare field by field (and by one hash).
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from adapters.broker.paper import PaperBroker
from adapters.clock import FeedClock
from adapters.eventstore import open_store
from tradingcore.analytics.decision import SignalDecision
from tradingcore.application.feed_cursor import FeedCursor
from tradingcore.application.order_manager import OrderManager
from tradingcore.application.signal_desk import AutoExecution, SignalDesk, SignalReceived
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.order import OrderDenied, OrderFilled, OrderSubmitted
from tradingcore.domain.signal import SignalGenerated
from tradingcore.domain.tape import Trade, TradesRecorded
from tradingcore.domain.values import Symbol
from tradingcore.ports.fees import FeeModel
from tradingcore.risk.calendar import SessionCalendar
from tradingcore.risk.limits import RiskLimits

RECORD_TOPICS: Final = tuple(
    f"{cls.__module__}:{cls.__qualname__}"
    for cls in (SignalGenerated, OrderSubmitted, OrderDenied, OrderFilled)
)
PAGE: Final = 2_000


@dataclass(frozen=True, slots=True)
class TradingConfig:
    """What the API host is run with: the account its key trades, auto-execution and risk."""

    account: str = "backtest"
    actor: str = "backtest"
    auto: AutoExecution = field(default_factory=lambda: AutoExecution(enabled=True))
    limits: RiskLimits = field(default_factory=RiskLimits)
    calendar: SessionCalendar = field(default_factory=SessionCalendar)


@dataclass(frozen=True, slots=True)
class TradingRecord:
    """Signals, orders, fills and final positions, as plain comparable rows."""

    signals: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    fills: list[dict[str, Any]]
    positions: list[dict[str, Any]]

    def sha256(self) -> str:
        """One hash of every signal, order, fill and position field."""
        digest = hashlib.sha256()
        for kind in ("signals", "orders", "fills", "positions"):
            for row in getattr(self, kind):
                digest.update(repr((kind, sorted(row.items()))).encode())
        return digest.hexdigest()

    def events(self) -> Iterator[dict[str, Any]]:
        """Every row with its kind: what `--events-out` writes, one JSON object a line."""
        for kind in ("signals", "orders", "fills", "positions"):
            for row in getattr(self, kind):
                yield {"kind": kind[:-1], **row}

    @property
    def realized_pnl(self) -> Decimal:
        """Net realized P&L (gross minus fees) of every position."""
        return sum((Decimal(row["net_realized"]) for row in self.positions), Decimal(0))


def feed_order(events: Iterable[TradesRecorded]) -> Iterator[Trade]:
    """Yield every symbol's trades merged in time order (ties: the symbols' first-seen order),
    each symbol's in tape order: the order one feed delivers them in."""
    tapes: dict[Symbol, list[Trade]] = {}
    for event in events:
        tapes.setdefault(event.symbol, []).extend(event.trades())
    yield from heapq.merge(*tapes.values(), key=lambda trade: trade.timestamp_ms)


def run_pipeline(
    trades: Iterable[Trade],
    signals: Mapping[str, list[SignalDecision]],
    config: TradingConfig,
    app: TradingApplication | None = None,
    *,
    fees: FeeModel | None = None,
) -> TradingApplication:
    """Trade `signals` (per symbol ticker) on `trades` (feed order) as the API host would,
    charging `fees` on fills (None: the store's fee model); return the store it wrote (in
    memory unless `app` is given, which must run on a FeedClock)."""
    if app is None:
        app = open_store("memory://", FeedClock())
    if fees is not None:
        app.fee_model = fees
    clock = app.clock
    if not isinstance(clock, FeedClock):
        raise ValueError("run_pipeline needs a store on a FeedClock")
    broker = PaperBroker()
    orders = OrderManager(app, broker, limits=config.limits, calendar=config.calendar)
    orders.start()
    desk = SignalDesk(orders, config.auto)
    cursor = FeedCursor(orders, desk, fill=broker.on_trade, clock=clock)
    at_tick = {
        (ticker, decision.trade_id, decision.timestamp_ms): decision
        for ticker, decisions in signals.items()
        for decision in decisions
    }
    for trade in trades:
        cursor.on_trade(trade)
        decision = at_tick.get((trade.symbol.ticker, trade.trade_id, trade.timestamp_ms))
        if decision is not None:
            cursor.take_signal(received_of(trade.symbol, decision), config.actor, config.account)
    orders.writes.flush()
    return app


def received_of(symbol: Symbol, decision: SignalDecision) -> SignalReceived:
    """The signal as the analytics host posts it."""
    return SignalReceived(
        symbol=symbol,
        direction=decision.direction,
        confidence=decision.confidence,
        features=decision.feature_map(),
        model_version=decision.model_version,
        tick_trade_id=decision.trade_id,
        tick_timestamp_ms=decision.timestamp_ms,
        price=decision.price,
    )


def trading_record(app: TradingApplication) -> TradingRecord:
    """Read signals, orders (with the risk decision), fills and positions from a store."""
    signals: list[dict[str, Any]] = []
    orders: dict[str, dict[str, Any]] = {}
    fills: list[dict[str, Any]] = []
    position = 0
    while page := app.recorder.select_notifications(
        start=position + 1, limit=PAGE, topics=RECORD_TOPICS
    ):
        for notification in page:
            event = app.mapper.to_domain_event(notification)
            if isinstance(event, SignalGenerated):
                signals.append(
                    {
                        "signal_id": str(event.originator_id),
                        "symbol": event.symbol.ticker,
                        "direction": event.direction.value,
                        "confidence": event.confidence.hex(),
                        "tick_trade_id": event.tick_trade_id,
                        "model_version": event.model_version,
                    }
                )
            elif isinstance(event, OrderSubmitted):
                orders[str(event.originator_id)] = {
                    "order_id": str(event.originator_id),
                    "client_order_id": event.client_order_id,
                    "account": event.account,
                    "symbol": event.symbol.ticker,
                    "side": event.side.value,
                    "quantity": event.quantity,
                    "price": str(event.price),
                    "signal_id": str(event.signal_id) if event.signal_id else None,
                    "submitted_at": event.timestamp.isoformat(),
                    "denied": "",
                }
            elif isinstance(event, OrderDenied):
                orders[str(event.originator_id)]["denied"] = event.reason_code
            elif isinstance(event, OrderFilled):
                fills.append(
                    {
                        "order_id": str(event.originator_id),
                        "trade_id": event.trade_id,
                        "side": event.side.value,
                        "price": str(event.price),
                        "quantity": event.quantity,
                        "fees": str(event.fees.amount),
                        "filled_at": event.timestamp.isoformat(),
                    }
                )
        position = page[-1].id
    held = sorted({(row["account"], row["symbol"]) for row in orders.values()})
    positions = []
    for account, ticker in held:
        current = app.position(account, Symbol(ticker))
        positions.append(
            {
                "account": account,
                "symbol": ticker,
                "net_quantity": current.net_quantity,
                "gross_realized": str(current.gross_realized_pnl.amount),
                "fees": str(current.fees.amount),
                "net_realized": str(current.net_realized_pnl.amount),
            }
        )
    signals.sort(key=lambda row: (row["symbol"], row["tick_trade_id"], row["signal_id"]))
    fills.sort(key=lambda row: (row["filled_at"], row["trade_id"], row["order_id"]))
    return TradingRecord(signals, sorted(orders.values(), key=_order_key), fills, positions)


def _order_key(row: dict[str, Any]) -> tuple[str, str, str]:
    return (row["symbol"], row["submitted_at"], row["order_id"])
