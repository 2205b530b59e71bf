"""The order manager: risk decisions become events, fills become positions, retries stay single."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.risk.desk import Desk
from tests.risk.factories import NOW, WIN
from tradingcore.application.errors import IdempotencyConflict
from tradingcore.application.order_commands import (
    ExecuteOrder,
    OrderNotCancelable,
    OrderNotFound,
)
from tradingcore.application.order_manager import DecidedOrder
from tradingcore.application.position_views import positions_of
from tradingcore.domain.audit import AuditEntry, audit_id_for
from tradingcore.domain.kill_switch import InvalidKillSwitchChange
from tradingcore.domain.money import Money
from tradingcore.domain.order import Order, OrderDenied, OrderStatus
from tradingcore.domain.values import Side
from tradingcore.risk.limits import RiskLimits


def test_execute_with_fresh_market_sends_and_fills_at_the_next_trade() -> None:
    desk = Desk()
    desk.trade(127_850)

    result = desk.execute(quantity=2)
    acknowledged = result.order.status
    desk.trade(127_860)

    order = desk.app.get_order(result.order.id)
    assert result.created and acknowledged is OrderStatus.ACCEPTED
    assert order.status is OrderStatus.FILLED
    assert order.average_fill_price == Decimal(127_860)
    assert desk.app.position("alice", WIN).net_quantity == 2


def test_execute_denied_by_risk_stores_order_denied_with_the_reason_code() -> None:
    desk = Desk()

    result = desk.execute()  # no trade seen yet: fail closed

    stored = list(desk.app.events.get(result.order.id))
    assert result.order.status is OrderStatus.DENIED
    assert isinstance(stored[-1], OrderDenied)
    assert stored[-1].reason_code == "MARKET_DATA_MISSING"
    assert desk.broker.working_orders == []
    assert [order.reason_code for order in desk.observer.denied] == ["MARKET_DATA_MISSING"]


def test_execute_stores_its_audit_entry_in_the_same_store() -> None:
    desk = Desk()
    desk.trade(127_850)

    result = desk.execute()

    entry = desk.app.load(AuditEntry, audit_id_for("ORDER_EXECUTED", result.order.id))
    assert (entry.actor, entry.result) == ("alice", "SUCCESS")
    assert entry.details["order_id"] == str(result.order.id)


def test_execute_retried_with_same_client_order_id_returns_the_original_once() -> None:
    desk = Desk()
    desk.trade(127_850)

    first = desk.execute(client_order_id="c-1")
    second = desk.execute(client_order_id="c-1")

    assert second.order.id == first.order.id
    assert not second.created
    assert len(desk.observer.sent) == 1


def test_execute_reusing_client_order_id_for_another_order_conflicts() -> None:
    desk = Desk()
    desk.trade(127_850)
    desk.execute(client_order_id="c-1")

    with pytest.raises(IdempotencyConflict, match="c-1"):
        desk.execute(client_order_id="c-1", quantity=3)


def test_execute_from_many_threads_with_one_client_order_id_sends_once() -> None:
    desk = Desk()
    desk.trade(127_850)
    results = []

    def send() -> None:
        results.append(desk.execute(client_order_id="same"))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len({result.order.id for result in results}) == 1
    assert sum(result.created for result in results) == 1
    assert len(desk.observer.sent) == 1


def test_execute_without_client_order_id_generates_a_deterministic_one() -> None:
    first, second = Desk(), Desk()
    for desk in (first, second):
        desk.trade(127_850)

    ids = [desk.execute().order.client_order_id for desk in (first, second)]

    assert ids[0] == ids[1]
    assert ids[0].startswith("gen-")


def test_execute_same_order_twice_quickly_is_denied_as_duplicate() -> None:
    desk = Desk()
    desk.trade(127_850)
    desk.execute(client_order_id="a")

    second = desk.execute(client_order_id="b")

    assert second.order.reason_code == "DUPLICATE_ORDER"


def test_orders_acting_on_two_signals_are_two_decisions_the_same_signal_twice_is_not() -> None:
    desk = Desk()
    desk.trade(127_850)
    first, second = uuid.uuid4(), uuid.uuid4()
    desk.execute(side=Side.SELL, client_order_id="flat", signal_id=first)

    short = desk.execute(side=Side.SELL, client_order_id="short", signal_id=second)
    again = desk.execute(side=Side.SELL, client_order_id="again", signal_id=second)

    assert short.order.reason_code == ""
    assert again.order.reason_code == "DUPLICATE_ORDER"
    assert "for signal" in again.order.reason


def test_limit_order_fills_only_when_the_tape_crosses_it() -> None:
    desk = Desk()
    desk.trade(127_850)
    result = desk.execute(price=127_800)

    desk.trade(127_820)
    assert desk.app.get_order(result.order.id).status is OrderStatus.ACCEPTED
    desk.trade(127_795)

    order = desk.app.get_order(result.order.id)
    assert order.status is OrderStatus.FILLED
    assert order.average_fill_price == Decimal(127_795)


def test_position_limit_counts_open_orders() -> None:
    desk = Desk(limits=RiskLimits(max_position=3))
    desk.trade(127_850)
    desk.execute(quantity=2, price=127_800)
    desk.tick()

    result = desk.execute(quantity=2, price=127_805)

    assert result.order.reason_code == "MAX_POSITION"


def test_daily_loss_breach_lets_only_reducing_orders_through() -> None:
    desk = Desk(limits=RiskLimits(daily_loss_limit=Decimal(100)))
    desk.trade(127_850)
    desk.execute(quantity=2)
    desk.trade(127_850)
    desk.tick()
    desk.trade(127_500)  # 2 × -350 points × R$ 0.20 = R$ -140

    grow = desk.execute(quantity=1, price=127_500)
    desk.tick()
    shrink = desk.execute(side=Side.SELL, quantity=1, price=127_500)

    assert grow.order.reason_code == "DAILY_LOSS_LIMIT"
    assert shrink.order.status is OrderStatus.ACCEPTED


def test_kill_switch_denies_new_orders_and_cancels_open_ones() -> None:
    desk = Desk()
    desk.trade(127_850)
    resting = desk.execute(price=127_800)

    desk.orders.engage_kill_switch("root", "runaway model")
    desk.tick()
    after = desk.execute(price=127_805)

    assert desk.app.get_order(resting.order.id).status is OrderStatus.CANCELED
    assert after.order.reason_code == "KILL_SWITCH_ENGAGED"
    assert desk.observer.switches == [True]


def test_kill_switch_release_without_reason_is_refused() -> None:
    desk = Desk()
    desk.orders.engage_kill_switch("root", "test")

    with pytest.raises(InvalidKillSwitchChange, match="reason"):
        desk.orders.release_kill_switch("root", "  ")


def test_kill_switch_survives_a_restart_of_the_order_manager(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'events.sqlite'}"
    desk = Desk(url)
    desk.trade(127_850)
    desk.orders.engage_kill_switch("root", "end of day")
    desk.app.close()

    restarted = Desk(url)
    restarted.next_trade_id = 100
    restarted.trade(127_850)
    result = restarted.execute()

    assert restarted.orders.kill_switch().engaged
    assert result.order.reason_code == "KILL_SWITCH_ENGAGED"


def test_restart_rebuilds_open_orders_and_recent_orders(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'events.sqlite'}"
    desk = Desk(url)
    desk.trade(127_850)
    resting = desk.execute(price=127_800, client_order_id="rest")
    desk.app.close()

    restarted = Desk(url)

    assert list(restarted.orders.book.open_orders) == [resting.order.id]
    assert len(restarted.orders.book.recent["alice"]) == 1


def test_cancel_of_another_accounts_order_looks_missing() -> None:
    desk = Desk()
    desk.trade(127_850)
    result = desk.execute(price=127_800)

    with pytest.raises(OrderNotFound):
        desk.orders.cancel(result.order.id, "mallory", "mallory")


def test_cancel_of_a_filled_order_is_refused() -> None:
    desk = Desk()
    desk.trade(127_850)
    result = desk.execute()
    desk.trade(127_850)

    with pytest.raises(OrderNotCancelable, match="FILLED"):
        desk.orders.cancel(result.order.id, "alice", "alice")


def test_positions_view_marks_to_the_last_trade() -> None:
    desk = Desk()
    desk.trade(127_850)
    desk.execute(quantity=2)
    desk.trade(127_850)
    desk.trade(127_900)

    (view,) = positions_of(desk.orders, "alice")

    assert view.position.net_quantity == 2
    assert view.unrealized_pnl == Money.cents(2_000)  # 2 × 50 points × R$ 0.20
    assert positions_of(desk.orders, "bob") == []


def test_broker_failure_on_send_rejects_the_order() -> None:
    desk = Desk()
    desk.trade(127_850)
    desk.broker.disconnect()
    desk.orders.broker = desk.broker

    result = desk.execute()

    assert result.order.reason_code == "BROKER_DISCONNECTED"
    stored = desk.app.get_order(result.order.id)
    assert stored.status is OrderStatus.DENIED
    assert desk.clock.now() == NOW


def test_denied_orders_are_visible_in_the_store_after_rebuild() -> None:
    desk = Desk()
    result = desk.execute()

    fresh = desk.app.load_fresh(Order, result.order.id)

    assert fresh.status is OrderStatus.DENIED
    assert fresh.reason_code == "MARKET_DATA_MISSING"


def test_orders_decided_while_a_commit_is_in_flight_share_the_next_transaction() -> None:
    desk = Desk(limits=RiskLimits(max_orders_per_window=1_000, duplicate_window=timedelta(0)))
    desk.trade(127_850)
    decided = [
        desk.orders.execute_nowait(
            ExecuteOrder("alice", "alice", WIN, Side.BUY, 1, Decimal(127_850), f"g-{n}")
        )
        for n in range(5)
    ]
    before = desk.app.recorder.max_notification_id()
    transactions: list[int] = []
    append = desk.app.append

    def counted(events: Any) -> Any:
        transactions.append(len(events))
        return append(events)

    desk.app.append = counted  # type: ignore[method-assign]

    results = [desk.orders.complete(item) for item in decided if isinstance(item, DecidedOrder)]

    assert transactions == [15]  # one transaction: 5 submissions, 5 acknowledgements, 5 audits

    assert len(results) == 5
    assert all(result.created and result.order.status is OrderStatus.ACCEPTED for result in results)
    stored = desk.app.recorder.select_notifications(start=before + 1, limit=100)
    assert len(stored) == 15
    assert len(desk.observer.sent) == 5
    assert [desk.app.load(Order, r.order.id).status for r in results] == [OrderStatus.ACCEPTED] * 5


def test_order_whose_write_fails_is_taken_back_from_the_book_and_the_venue() -> None:
    desk = Desk()
    desk.trade(127_850)
    failing = desk.app.append

    def refuse(events: Any) -> Any:
        raise OSError("disk full")

    desk.app.append = refuse  # type: ignore[method-assign]
    with pytest.raises(OSError, match="disk full"):
        desk.execute(price=127_800, client_order_id="lost")
    desk.app.append = failing  # type: ignore[method-assign]

    assert desk.orders.book.open_orders == {}
    assert desk.broker.working_orders == []
    assert desk.execute(price=127_800, client_order_id="lost").created
