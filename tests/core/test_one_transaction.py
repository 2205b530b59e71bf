"""A signal's fills and the order they lead to are stored in one transaction (the feed cursor's
`one_transaction`), with the same result as booking each fill at once, on a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.broker.paper import PaperBroker
from adapters.clock import FeedClock
from adapters.eventstore import open_store
from hosts.analytics.backtest_trading import trading_record
from tradingcore.application.errors import ConcurrencyConflict, DecidedOnUnstoredWrite
from tradingcore.application.feed_cursor import FeedCursor
from tradingcore.application.order_manager import OrderManager
from tradingcore.application.signal_desk import (
    AutoExecution,
    SignalBatch,
    SignalDesk,
    SignalReceived,
)
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.order import Order, OrderEvent, OrderFilled, OrderSubmitted
from tradingcore.domain.position import Position
from tradingcore.domain.signal import Direction
from tradingcore.domain.tape import Trade
from tradingcore.domain.values import Aggressor, Symbol
from tradingcore.risk.calendar import SessionCalendar
from tradingcore.risk.limits import RiskLimits

WIN = Symbol("WINZ25")
OPEN_MS = int(datetime(2025, 12, 1, 13, 0, tzinfo=UTC).timestamp() * 1000)
ACCOUNT = "acct"
LIMITS = RiskLimits(max_position=3, duplicate_window=RiskLimits().duplicate_window * 0)


@dataclass
class Desk:
    app: TradingApplication
    orders: OrderManager
    broker: PaperBroker
    desk: SignalDesk
    cursor: FeedCursor
    clock: FeedClock
    appends: list[list[object]]


def make_desk(url: str, quantity: int = 2) -> Desk:
    clock = FeedClock()
    app = open_store(url, clock)
    broker = PaperBroker()
    orders = OrderManager(app, broker, limits=LIMITS, calendar=SessionCalendar(always_open=True))
    orders.start()
    desk = SignalDesk(orders, AutoExecution(enabled=True, quantity=quantity))
    cursor = FeedCursor(orders, desk, fill=broker.on_trade, clock=clock, hold=True)
    appends: list[list[object]] = []
    app.stored_listeners.append(lambda written: appends.append([e for _, e in written]))
    return Desk(app, orders, broker, desk, cursor, clock, appends)


def trade(trade_id: int, price: int = 127_850, volume: int = 5) -> Trade:
    return Trade(WIN, trade_id, OPEN_MS + trade_id, Decimal(price), volume, Aggressor.BUY)


def received(direction: Direction, tick: Trade) -> SignalReceived:
    return SignalReceived(
        symbol=WIN,
        direction=direction,
        confidence=0.9,
        features={},
        model_version="m-1",
        tick_trade_id=tick.trade_id,
        tick_timestamp_ms=tick.timestamp_ms,
        price=float(tick.price),
    )


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    made = make_desk(f"sqlite:///{tmp_path / 'events.sqlite'}")
    yield made
    made.app.close()


def test_the_fill_a_signal_tick_brings_and_its_order_are_one_transaction(desk: Desk) -> None:
    desk.cursor.on_trade(trade(10))
    desk.cursor.take_signal(received(Direction.BUY, trade(10)), "bot", ACCOUNT)
    desk.cursor.on_trade(trade(20))  # fills the BUY, held until a signal at a later tick
    desk.appends.clear()

    taken = desk.cursor.take_signal(received(Direction.SELL, trade(20)), "bot", ACCOUNT)

    orders = [events for events in desk.appends if any(isinstance(e, OrderEvent) for e in events)]
    assert taken.result.execution is not None
    assert len(orders) == 1
    kinds = {type(event) for event in orders[0]}
    assert {OrderFilled, OrderSubmitted} <= kinds
    assert desk.app.position(ACCOUNT, WIN).net_quantity == 2  # the SELL 4 works at the venue


def session(
    moves: list[tuple[int, int, Direction]], every: int
) -> tuple[list[Trade], dict[int, Direction]]:
    """A tape from (price move in ticks, volume, direction) rows, and a signal at every
    `every`-th trade in its row's direction."""
    trades, price = [], 127_850
    for index, (points, volume, _) in enumerate(moves):
        price += 5 * points
        trades.append(trade(10 * (index + 1), price, volume))
    signals = {
        tape.trade_id: direction
        for index, (tape, (_, _, direction)) in enumerate(zip(trades, moves, strict=True))
        if index % every == 0
    }
    return trades, signals


def book_at_once(
    url: str, trades: list[Trade], signals: dict[int, Direction], quantity: int
) -> TradingApplication:
    """The reference: every trade applied, and every fill stored, the moment it comes."""
    made = make_desk(url, quantity)
    for tape in trades:
        made.clock.follow(tape.timestamp_ms)
        made.orders.on_trade(tape)
        made.broker.on_trade(tape)
        direction = signals.get(tape.trade_id)
        if direction is not None:
            made.desk.receive(received(direction, tape), "bot", ACCOUNT)
    return made.app


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    moves=st.lists(
        st.tuples(st.integers(-3, 3), st.integers(1, 4), st.sampled_from(list(Direction))),
        min_size=5,
        max_size=40,
    ),
    every=st.integers(1, 4),
    seen_ahead=st.integers(0, 6),
    quantity=st.integers(1, 2),
)
def test_one_transaction_per_signal_stores_what_booking_each_fill_at_once_stores(
    tmp_path_factory: pytest.TempPathFactory,
    moves: list[tuple[int, int, Direction]],
    every: int,
    seen_ahead: int,
    quantity: int,
) -> None:
    folder = tmp_path_factory.mktemp("one-transaction")
    trades, signals = session(moves, every)
    reference = book_at_once(f"sqlite:///{folder / 'at-once.sqlite'}", trades, signals, quantity)
    live = make_desk(f"sqlite:///{folder / 'live.sqlite'}", quantity)
    try:
        # The tape is seen a few trades ahead of the signals, as the API host's follower sees it.
        for index, tape in enumerate(trades):
            live.cursor.on_trade(tape)
            behind = index - seen_ahead
            if behind >= 0 and trades[behind].trade_id in signals:
                tick = trades[behind]
                live.cursor.take_signal(received(signals[tick.trade_id], tick), "bot", ACCOUNT)
        for tape in trades[max(0, len(trades) - seen_ahead) :]:
            if tape.trade_id in signals:
                live.cursor.take_signal(received(signals[tape.trade_id], tape), "bot", ACCOUNT)
        live.cursor.release()

        assert trading_record(live.app).sha256() == trading_record(reference).sha256()
        held = live.orders.book.watch.position(live.app, ACCOUNT, WIN)
        if held.version:
            assert held == live.app.load_fresh(Position, held.id)
    finally:
        live.app.close()
        reference.close()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    moves=st.lists(
        st.tuples(st.integers(-3, 3), st.integers(1, 4), st.sampled_from(list(Direction))),
        min_size=5,
        max_size=40,
    ),
    every=st.integers(1, 3),
    quantity=st.integers(1, 2),
    sizes=st.lists(st.integers(1, 12), min_size=1, max_size=8),
)
def test_signals_taken_in_batches_store_what_booking_each_fill_at_once_stores(
    tmp_path_factory: pytest.TempPathFactory,
    moves: list[tuple[int, int, Direction]],
    every: int,
    quantity: int,
    sizes: list[int],
) -> None:
    """A batch (one transaction, its orders filled on the next signal's tape before they
    are stored) ends as the plain path does: the same orders, fills and positions."""
    folder = tmp_path_factory.mktemp("batches")
    trades, signals = session(moves, every)
    reference = book_at_once(f"sqlite:///{folder / 'at-once.sqlite'}", trades, signals, quantity)
    live = make_desk(f"sqlite:///{folder / 'live.sqlite'}", quantity)
    try:
        # The whole tape is seen first; then the signals come in batches of `sizes` (cycled).
        for tape in trades:
            live.cursor.on_trade(tape)
        ticks = [tape for tape in trades if tape.trade_id in signals]
        taken_orders = 0
        start = 0
        for turn in range(len(ticks)):
            if start >= len(ticks):
                break
            size = sizes[turn % len(sizes)]
            batch = SignalBatch()
            chunk = ticks[start : start + size]
            taken = [
                live.cursor.take_signal(
                    received(signals[tick.trade_id], tick), "bot", ACCOUNT, batch=batch
                )
                for tick in chunk
            ]
            live.desk.finish(batch)
            settled = [live.desk.settled(batch, item.result) for item in taken]
            taken_orders += sum(1 for result in settled if result.execution is not None)
            start += size
        live.cursor.release()

        assert trading_record(live.app).sha256() == trading_record(reference).sha256()
        assert taken_orders == sum(1 for _ in _orders(reference))
        held = live.orders.book.watch.position(live.app, ACCOUNT, WIN)
        if held.version:
            assert held == live.app.load_fresh(Position, held.id)
            assert held == live.app.position(ACCOUNT, WIN)
    finally:
        live.app.close()
        reference.close()


def _orders(app: TradingApplication) -> Iterator[object]:
    topic = "tradingcore.domain.order:OrderSubmitted"
    yield from app.recorder.select_notifications(start=1, limit=100_000, topics=(topic,))


def test_an_order_decided_on_a_fill_that_fails_to_store_fails_with_it(
    desk: Desk, tmp_path: Path
) -> None:
    desk.cursor.on_trade(trade(10))
    buy = desk.cursor.take_signal(received(Direction.BUY, trade(10)), "bot", ACCOUNT)
    assert buy.result.execution is not None
    order_id = buy.result.execution.order.id

    def another_writer_fills_it_first(tape: Trade) -> None:
        # After our fill is booked in memory, before its transaction: a second process books
        # another fill of the same order, so ours conflicts.
        if tape.trade_id != 20:
            return
        other = open_store(f"sqlite:///{tmp_path / 'events.sqlite'}", FeedClock())
        try:
            other.fill_order(order_id, 999, Decimal(127_850), 2)
        finally:
            other.close()

    desk.cursor.trade_listeners.append(another_writer_fills_it_first)
    desk.cursor.on_trade(trade(20))

    with pytest.raises((DecidedOnUnstoredWrite, ConcurrencyConflict)):
        desk.cursor.take_signal(received(Direction.SELL, trade(20)), "bot", ACCOUNT)

    stored = desk.app.load_fresh(Order, order_id)
    assert list(stored.trade_ids) == [999]  # the other writer's fill, not ours
    sell_submitted = [e for events in desk.appends for e in events if isinstance(e, OrderSubmitted)]
    assert [e.side.value for e in sell_submitted] == ["BUY"]  # the SELL was never stored
    assert not desk.broker.working_orders  # and the venue no longer works it
    held = desk.orders.book.watch.position(desk.app, ACCOUNT, WIN)
    assert held == desk.app.load_fresh(Position, held.id)  # risk forgot the unstored fill
