"""A strategy runs live in the API host: on the applied trades, through risk, named on orders."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from litestar.testing import TestClient
from prometheus_client import REGISTRY

from hosts.api.app import create_app
from tests.api.conftest import ALICE, WIN, HostFactory, Tape, headers
from tradingcore.domain.book import BookTop
from tradingcore.domain.book_tape import BookColumns
from tradingcore.domain.order import Order, OrderStatus
from tradingcore.ports.clock import ManualClock
from tradingcore.strategy.api import NOTHING, Commands, StrategyView
from tradingcore.strategy.examples import MovingAverageCross


def test_a_moving_average_cross_trades_the_live_tape_for_its_account(
    make_host: HostFactory,
) -> None:
    host = make_host(strategies=[MovingAverageCross(1, 3)], strategy_account="alice")
    with TestClient(app=create_app(host)) as client:
        tape = Tape(host)
        for price in (127_850, 127_855, 127_860, 127_865):  # rising: the fast mean is above
            tape.print(price)
        for price in (127_840, 127_830, 127_820):  # falling: it reverses to short
            tape.print(price)
        runner = host.strategies[0]
        orders = [host.app.load(Order, order_id) for order_id in runner.sent]
        assert [order.side.value for order in orders] == ["BUY", "SELL"]
        assert all(order.strategy_id == "ma-cross-1-3" for order in orders)
        assert all(order.status is OrderStatus.FILLED for order in orders)
        positions: Any = client.get("/api/v1/positions", headers=headers(ALICE)).json()
        assert positions["positions"][0]["net_quantity"] == -1


def test_a_failing_strategy_is_logged_and_the_tape_goes_on(make_host: HostFactory) -> None:
    class Broken(MovingAverageCross):
        def target_after(self, trade: Any) -> int | None:
            raise RuntimeError("strategy bug")

    host = make_host(strategies=[Broken(1, 3)])
    with TestClient(app=create_app(host)):
        tape = Tape(host)
        tape.print(127_850)
        tape.print(127_855)
        assert host.orders.book.last_price(WIN) == Decimal(127_855)  # both trades applied
        assert host.strategies[0].sent == []


def test_on_the_wall_clock_a_strategys_timer_fires_as_time_passes(
    make_host: HostFactory,
) -> None:
    class Counting(MovingAverageCross):
        timer_interval = timedelta(seconds=1)

        def __init__(self) -> None:
            super().__init__(1, 3)
            self.times: list[datetime] = []

        def on_timer(self, view: StrategyView) -> Commands:
            self.times.append(view.now)
            return NOTHING

    strategy = Counting()
    host = make_host(strategies=[strategy], clock="wall")
    assert host.feed_clock is None
    clock = host.app.clock
    assert isinstance(clock, ManualClock)
    with TestClient(app=create_app(host)):
        started = clock.now()
        clock.advance(timedelta(seconds=3.5))
        deadline = time.monotonic() + 10
        while len(strategy.times) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert strategy.times == [started + timedelta(seconds=3.5)] * 3  # all due by now
        assert host.timers.fired == 3


class FailsFirstTimer(MovingAverageCross):
    """Its first on_timer raises; the later ones are counted."""

    timer_interval = timedelta(seconds=1)

    def __init__(self) -> None:
        super().__init__(1, 3)
        self.calls = 0

    def on_timer(self, view: StrategyView) -> Commands:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("timer bug")
        return NOTHING


def _strategy_errors() -> float:
    return REGISTRY.get_sample_value("api_strategy_errors_total") or 0.0


@pytest.mark.parametrize("clock_kind", ["feed", "wall"])
def test_a_failing_timer_is_logged_and_counted_and_the_timers_and_tape_go_on(
    make_host: HostFactory, clock_kind: str
) -> None:
    strategy = FailsFirstTimer()
    host = make_host(strategies=[strategy], clock=clock_kind)
    clock = host.app.clock
    assert isinstance(clock, ManualClock)
    errors_before = _strategy_errors()
    with TestClient(app=create_app(host)):
        tape = Tape(host)
        tape.print(127_850)  # feed clock: the first interval starts here
        clock.advance(timedelta(seconds=2.5))
        tape.print(127_855)  # feed clock: two intervals ended before it, the first fails
        deadline = time.monotonic() + 10
        while strategy.calls < 2 and time.monotonic() < deadline:  # wall clock: the thread
            time.sleep(0.05)
        assert strategy.calls == 2
        assert host.timers.fired == 2
        assert _strategy_errors() == errors_before + 1
        assert host.orders.book.last_price(WIN) == Decimal(127_855)  # the tape went on
        clock.advance(timedelta(seconds=1))
        tape.print(127_860)
        deadline = time.monotonic() + 10
        while strategy.calls < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert strategy.calls == 3  # the timer goes on after the failure
        assert _strategy_errors() == errors_before + 1


def test_book_tops_stored_while_the_host_runs_reach_the_strategys_on_book(
    make_host: HostFactory,
) -> None:
    class Books(MovingAverageCross):
        def __init__(self) -> None:
            super().__init__(1, 3)
            self.books: list[BookTop] = []

        def on_book(self, book: BookTop, view: StrategyView) -> Commands:
            self.books.append(book)
            return NOTHING

    strategy = Books()
    host = make_host(strategies=[strategy])
    stamp = int(host.app.clock.now().timestamp() * 1000)
    before = BookColumns()
    before.append(BookTop(WIN, stamp - 10, Decimal(127_845), 3, Decimal(127_850), 4))
    host.app.record_books(WIN, host.app.clock.now().date(), before)  # before the start: old
    with TestClient(app=create_app(host)):
        tops = [
            BookTop(WIN, stamp, Decimal(127_845), 5, Decimal(127_850), 2),
            BookTop(WIN, stamp + 1, Decimal(127_850), 1, Decimal(127_855), 9),
        ]
        columns = BookColumns()
        for top in tops:
            columns.append(top)
        host.app.record_books(WIN, host.app.clock.now().date(), columns)
        host.follower.poll()
        assert strategy.books == tops
