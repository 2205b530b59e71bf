"""The risk state kept in memory follows what other writers store (another API process)."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import OperationalError

from tests.risk.desk import Desk
from tradingcore.domain.order import OrderStatus
from tradingcore.risk.limits import RiskLimits


def two_desks(url: str, limits: RiskLimits | None = None) -> tuple[Desk, Desk]:
    """Two order managers on one store (each backend), as two API processes; both warm."""
    ours, theirs = Desk(url, limits=limits), Desk(url, limits=limits)
    theirs.next_trade_id = 1_000
    ours.trade(127_850)
    theirs.trade(127_850)
    assert ours.execute(price=127_800, client_order_id="warm").order.status is OrderStatus.ACCEPTED
    return ours, theirs


def test_kill_switch_engaged_by_another_process_denies_our_next_order(store_url: str) -> None:
    ours, theirs = two_desks(store_url)

    theirs.orders.engage_kill_switch("root", "from the other process")
    result = ours.execute(price=127_800, client_order_id="after")

    assert result.order.reason_code == "KILL_SWITCH_ENGAGED"


def test_kill_switch_released_by_another_process_lets_orders_through(store_url: str) -> None:
    ours, theirs = two_desks(store_url)
    ours.orders.engage_kill_switch("root", "stop")
    assert ours.execute(price=127_800, client_order_id="denied").order.status is (
        OrderStatus.DENIED
    )

    theirs.orders.release_kill_switch("root", "resume")
    result = ours.execute(price=127_795, client_order_id="after")

    assert result.order.status is OrderStatus.ACCEPTED


def test_fill_booked_by_another_process_counts_against_our_position_limit(
    store_url: str,
) -> None:
    ours, theirs = two_desks(store_url, RiskLimits(max_position=3))
    ours.orders.cancel(ours.orders.book.open_order_ids()[0], "alice", "alice")
    theirs.execute(quantity=3, client_order_id="theirs")  # a market order
    theirs.trade(127_855)  # fills it in the other process: position 3
    ours.tick()

    result = ours.execute(quantity=1, price=127_850, client_order_id="ours")

    assert result.order.reason_code == "MAX_POSITION"


def test_retry_of_an_order_another_process_stored_returns_it_without_sending(
    store_url: str,
) -> None:
    ours, theirs = two_desks(store_url)
    original = theirs.execute(price=127_800, client_order_id="shared").order

    retry = ours.execute(price=127_800, client_order_id="shared")

    assert not retry.created and retry.order.id == original.id
    assert original.id not in {order.order_id for order in ours.broker.working_orders}


def test_events_that_change_no_risk_state_keep_it_in_memory(store_url: str) -> None:
    ours, theirs = two_desks(store_url)
    watch = ours.orders.book.watch
    cached = dict(watch.positions)

    theirs.trade(127_860)  # a trade batch and an order from elsewhere: nothing to re-read
    theirs.execute(price=127_800, client_order_id="elsewhere")
    ours.tick()
    ours.execute(price=127_805, client_order_id="next")

    assert watch.positions == cached and watch.kill_switch is not None
    assert watch.seen == ours.app.recorder.max_notification_id()


def test_a_store_that_cannot_say_what_changed_denies_the_order(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours, _ = two_desks(store_url)
    recorder = ours.app.recorder

    def unreadable() -> int:
        raise OperationalError("disk I/O error")

    with monkeypatch.context() as patch:
        patch.setattr(recorder, "max_notification_id", unreadable)
        denied = ours.execute(price=127_800, client_order_id="blind")
    ours.tick()
    passed = ours.execute(price=127_805, client_order_id="sighted")

    assert denied.order.reason_code == "RISK_STATE_UNREADABLE"
    assert passed.order.status is OrderStatus.ACCEPTED


def test_a_release_that_fails_to_store_leaves_orders_denied(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours, _ = two_desks(store_url)
    ours.orders.engage_kill_switch("root", "stop")
    assert ours.execute(price=127_800, client_order_id="stopped").order.status is (
        OrderStatus.DENIED
    )

    def broken(events: object) -> None:
        raise OperationalError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(ours.app, "append", broken)
        with pytest.raises(OperationalError):
            ours.orders.release_kill_switch("root", "resume")
    ours.tick()
    after = ours.execute(price=127_805, client_order_id="after-failed-release")

    assert after.order.reason_code == "KILL_SWITCH_ENGAGED"
