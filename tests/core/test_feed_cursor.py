"""Auto-execution as a position policy, decided on the tape as it stood at each signal's tick."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from adapters.broker.paper import PaperBroker
from adapters.clock import FeedClock
from adapters.eventstore import open_store
from tradingcore.application.feed_cursor import SIGNAL_LATE, TAPE_NOT_SEEN, FeedCursor
from tradingcore.application.order_manager import OrderManager
from tradingcore.application.signal_desk import (
    AT_TARGET,
    ORDER_IN_FLIGHT,
    AutoExecution,
    SignalDesk,
    SignalReceived,
)
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.order import Order
from tradingcore.domain.signal import Direction
from tradingcore.domain.tape import Trade
from tradingcore.domain.values import Aggressor, Symbol
from tradingcore.risk.calendar import SessionCalendar
from tradingcore.risk.limits import RiskLimits

WIN = Symbol("WINZ25")
OPEN_MS = int(datetime(2025, 12, 1, 13, 0, tzinfo=UTC).timestamp() * 1000)
ACCOUNT = "acct"


@dataclass
class Desk:
    app: TradingApplication
    orders: OrderManager
    cursor: FeedCursor
    clock: FeedClock

    def trade(self, trade_id: int, price: int = 127_850, volume: int = 5) -> Trade:
        trade = Trade(WIN, trade_id, OPEN_MS + trade_id, Decimal(price), volume, Aggressor.BUY)
        self.cursor.on_trade(trade)
        return trade

    def signal(
        self,
        direction: Direction,
        tick: int,
        wait: Callable[[threading.Condition, Callable[[], bool]], bool] | None = None,
    ) -> tuple[Order | None, str]:
        received = SignalReceived(
            symbol=WIN,
            direction=direction,
            confidence=0.9,
            features={},
            model_version="m-1",
            tick_trade_id=tick,
            tick_timestamp_ms=OPEN_MS + tick,
            price=127_850.0,
        )
        taken = self.cursor.take_signal(received, "bot", ACCOUNT, wait=wait)
        execution = taken.result.execution
        return (execution.order if execution else None), taken.skipped or taken.result.skipped

    def net(self) -> int:
        return self.app.position(ACCOUNT, WIN).net_quantity

    def fills(self, order: Order) -> list[int]:
        return list(self.app.load(Order, order.id).trade_ids)


def make_desk(*, hold: bool, quantity: int = 2, hold_closes: bool = True) -> Desk:
    clock = FeedClock()
    app = open_store("memory://", clock)
    broker = PaperBroker()
    limits = RiskLimits(duplicate_window=RiskLimits().duplicate_window * 0)
    orders = OrderManager(app, broker, limits=limits, calendar=SessionCalendar(always_open=True))
    orders.start()
    auto = AutoExecution(enabled=True, quantity=quantity, hold_closes=hold_closes)
    cursor = FeedCursor(
        orders, SignalDesk(orders, auto), fill=broker.on_trade, clock=clock, hold=hold
    )
    return Desk(app, orders, cursor, clock)


@pytest.fixture
def desk() -> Iterator[Desk]:
    made = make_desk(hold=False)
    yield made
    made.app.close()


def test_buy_targets_long_n_sell_short_n_and_hold_flat(desk: Desk) -> None:
    desk.trade(10)
    buy, _ = desk.signal(Direction.BUY, 10)
    desk.trade(20)
    sell, _ = desk.signal(Direction.SELL, 20)
    desk.trade(30)
    net_short = desk.net()
    hold, _ = desk.signal(Direction.HOLD, 30)
    desk.trade(40)

    assert buy is not None and (buy.side.value, buy.quantity) == ("BUY", 2)
    assert sell is not None and (sell.side.value, sell.quantity) == ("SELL", 4)
    assert hold is not None and (hold.side.value, hold.quantity) == ("BUY", 2)
    assert (net_short, desk.net()) == (-2, 0)


def test_a_signal_at_its_target_sends_nothing_and_hold_may_keep_the_position() -> None:
    desk = make_desk(hold=False, hold_closes=False)
    desk.trade(10)
    desk.signal(Direction.BUY, 10)
    desk.trade(20)

    again = desk.signal(Direction.BUY, 20)
    kept = desk.signal(Direction.HOLD, 20)

    assert again == (None, AT_TARGET)
    assert kept[0] is None and desk.net() == 2


def test_no_order_is_stacked_while_one_is_in_flight(desk: Desk) -> None:
    desk.trade(10)
    first, _ = desk.signal(Direction.BUY, 10)
    skipped = desk.signal(Direction.SELL, 15)  # no trade since: the BUY has not filled
    desk.trade(20)

    assert first is not None and skipped == (None, ORDER_IN_FLIGHT)
    assert desk.net() == 2


def test_a_market_order_fills_at_the_first_trade_after_its_tick_whatever_arrived_first() -> None:
    desk = make_desk(hold=True)
    for trade_id in (10, 20, 30, 40):
        desk.trade(trade_id)  # seen before the signal at tick 20 arrives

    order, _ = desk.signal(Direction.BUY, 20)
    desk.cursor.release()

    assert order is not None and order.submitted_at == datetime.fromtimestamp(
        (OPEN_MS + 20) / 1000, UTC
    )
    assert desk.fills(order) == [30]


def test_a_signal_behind_the_applied_tape_or_beyond_the_seen_tape_is_not_traded() -> None:
    desk = make_desk(hold=True)
    desk.trade(10)
    desk.trade(20)
    desk.cursor.release()

    late = desk.signal(Direction.BUY, 10)
    unseen = desk.signal(Direction.BUY, 30, wait=lambda condition, ready: False)

    assert late == (None, SIGNAL_LATE)
    assert unseen == (None, TAPE_NOT_SEEN)
    assert desk.orders.book.open_orders == {}


def test_before_any_trade_the_feed_clock_denies_as_stale(desk: Desk) -> None:
    desk.cursor.hold = True
    order, _ = desk.signal(Direction.BUY, 0, wait=None)

    assert desk.clock.now() == datetime(1970, 1, 1, tzinfo=UTC)
    assert order is None
