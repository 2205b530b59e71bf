"""The order manager routing through ProfitDLLBroker against the fake DLL (no paper venue)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.eventstore import open_store
from adapters.profitdll.broker import ProfitDLLBroker, RoutingAccount
from adapters.profitdll.fakebuild import FakeProfitDLL
from hosts.api.host import build_broker
from tests.profitdll.conftest import CREDENTIALS, fake, fake_library_path  # noqa: F401
from tradingcore.application.order_commands import ExecuteOrder
from tradingcore.application.order_manager import OrderManager
from tradingcore.domain.order import OrderStatus
from tradingcore.domain.tape import Trade
from tradingcore.domain.values import Aggressor, Side, Symbol
from tradingcore.ports.clock import ManualClock
from tradingcore.risk.calendar import SessionCalendar

ACCOUNT = RoutingAccount(broker_id=308, account_id="12345", routing_password="signature")
WIN = Symbol("WINZ25")
NOW = datetime(2025, 12, 1, 15, 0, tzinfo=UTC)


def eventually(check: Callable[[], bool], seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the condition never held")
        time.sleep(0.01)


@pytest.fixture
def routed(
    fake: FakeProfitDLL,  # noqa: F811
    fake_library_path: Path,  # noqa: F811
) -> Iterator[OrderManager]:
    clock = ManualClock(NOW)
    broker = ProfitDLLBroker(fake_library_path, CREDENTIALS, ACCOUNT)
    orders = OrderManager(
        open_store("memory://", clock), broker, calendar=SessionCalendar(always_open=True)
    )
    orders.start()
    broker.session.wait_until_connected(5)
    orders.on_trade(Trade(WIN, 1, int(NOW.timestamp() * 1000), Decimal(127_850), 5, Aggressor.BUY))
    yield orders
    broker.disconnect()


def execute(orders: OrderManager, price: int, quantity: int = 2) -> OrderStatus:
    result = orders.execute(ExecuteOrder("alice", "alice", WIN, Side.BUY, quantity, Decimal(price)))
    return result.order.status


def test_order_routed_through_profitdll_is_accepted_then_filled_into_the_position(
    routed: OrderManager,
    fake: FakeProfitDLL,  # noqa: F811
) -> None:
    status = execute(routed, 127_850)
    (order_id,) = routed.book.open_order_ids()
    broker = routed.broker
    assert isinstance(broker, ProfitDLLBroker)
    eventually(lambda: routed.app.get_order(order_id).status is OrderStatus.ACCEPTED)

    fake.fill_order(broker.local_order_id(order_id), 2, 127_845.0)

    eventually(lambda: routed.app.get_order(order_id).status is OrderStatus.FILLED)
    position = routed.app.position("alice", WIN)
    assert status in (OrderStatus.SUBMITTED, OrderStatus.ACCEPTED)
    assert (position.net_quantity, position.average_price) == (2, Decimal(127_845))
    assert not routed.book.open_orders


def test_kill_switch_cancels_orders_resting_at_profitdll(routed: OrderManager) -> None:
    execute(routed, 127_800)
    (order_id,) = routed.book.open_order_ids()
    eventually(lambda: routed.app.get_order(order_id).status is OrderStatus.ACCEPTED)

    routed.engage_kill_switch("root", "routing drill")

    eventually(lambda: routed.app.get_order(order_id).status is OrderStatus.CANCELED)
    assert not routed.book.open_orders


def test_profitdll_broker_without_settings_is_a_clear_startup_error() -> None:
    with pytest.raises(ValueError, match="broker 'profitdll' cannot start"):
        build_broker("profitdll")
