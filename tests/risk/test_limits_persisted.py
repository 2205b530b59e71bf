"""Risk-limit changes are stored events: they survive a restart and win over the configuration."""

from __future__ import annotations

import pytest

from tests.risk.desk import Desk
from tradingcore.domain.audit import AuditEntry, audit_id_for
from tradingcore.domain.order import OrderStatus
from tradingcore.domain.risk_limits import (
    InvalidRiskLimitsChange,
    RiskLimitsChanged,
    RiskLimitsOverride,
    risk_limits_id_for,
)
from tradingcore.risk.limits import InvalidRiskLimits, RiskLimits

CONFIGURED = RiskLimits(max_order_quantity=10, max_position=20)


def test_changed_limits_are_in_force_after_a_restart(store_url: str) -> None:
    desk = Desk(store_url, limits=CONFIGURED)
    desk.orders.change_limits("root", {"max_order_quantity": 2}, "calm the desk down")
    desk.app.close()

    restarted = Desk(store_url, limits=CONFIGURED)
    restarted.trade(127_850)
    denied = restarted.execute(quantity=3, client_order_id="too-big")

    assert restarted.orders.settings.limits.max_order_quantity == 2
    assert restarted.orders.settings.limits.max_position == 20
    assert denied.order.reason_code == "MAX_ORDER_QUANTITY"
    assert restarted.orders.limits_origin()["max_order_quantity"] == "stored"


def test_the_change_is_one_event_with_every_limit_the_actor_and_the_reason(
    store_url: str,
) -> None:
    desk = Desk(store_url, limits=CONFIGURED)

    after = desk.orders.change_limits("root", {"max_position": 5}, "end of month")

    [event] = list(desk.app.events.get(risk_limits_id_for()))
    assert isinstance(event, RiskLimitsChanged)
    assert RiskLimits().updated(event.limits) == after  # every limit, not only the change
    assert event.limits["max_order_quantity"] == 10
    assert (event.actor, event.reason, event.timestamp) == (
        "root",
        "end of month",
        desk.clock.now(),
    )
    audit = desk.app.load(AuditEntry, audit_id_for("RISK_LIMITS_CHANGED", event.originator_id, 1))
    assert audit.details["after"]["max_position"] == 5 and audit.reason == "end of month"
    assert desk.observer.audits == [audit]


def test_the_latest_of_several_changes_wins(store_url: str) -> None:
    desk = Desk(store_url, limits=CONFIGURED)
    desk.orders.change_limits("root", {"max_position": 5})
    desk.orders.change_limits("admin2", {"max_order_quantity": 3})
    desk.app.close()

    limits = Desk(store_url, limits=CONFIGURED).orders.settings.limits

    assert (limits.max_position, limits.max_order_quantity) == (5, 3)


def test_a_limit_the_stored_change_does_not_name_keeps_its_configured_value(
    store_url: str,
) -> None:
    desk = Desk(store_url, limits=CONFIGURED)
    override = RiskLimitsOverride.new()
    override.change({"max_position": 7, "a_limit_from_the_future": 1}, "root", "", desk.clock.now())
    desk.app.store(override)
    desk.app.close()

    limits = Desk(store_url, limits=RiskLimits(max_order_quantity=4)).orders.settings.limits

    assert (limits.max_position, limits.max_order_quantity) == (7, 4)


def test_no_stored_change_leaves_the_configuration_in_force(store_url: str) -> None:
    desk = Desk(store_url, limits=CONFIGURED)

    assert desk.orders.settings.limits == CONFIGURED
    assert set(desk.orders.limits_origin().values()) == {"configuration"}


def test_a_change_stored_by_another_process_is_in_force_before_our_next_order(
    store_url: str,
) -> None:
    ours, theirs = Desk(store_url, limits=CONFIGURED), Desk(store_url, limits=CONFIGURED)
    ours.trade(127_850)
    assert ours.execute(quantity=3, price=127_800, client_order_id="before").order.status is (
        OrderStatus.ACCEPTED
    )

    theirs.orders.change_limits("root", {"max_order_quantity": 2}, "from the other process")
    ours.tick()
    after = ours.execute(quantity=3, price=127_800, client_order_id="after")

    assert after.order.reason_code == "MAX_ORDER_QUANTITY"
    assert ours.orders.settings.limits.max_order_quantity == 2


def test_an_invalid_change_stores_nothing_and_keeps_the_limits(store_url: str) -> None:
    desk = Desk(store_url, limits=CONFIGURED)

    with pytest.raises(InvalidRiskLimits):
        desk.orders.change_limits("root", {"max_position": -1})
    with pytest.raises(InvalidRiskLimitsChange):
        desk.orders.change_limits(" ", {"max_position": 1})

    assert list(desk.app.events.get(risk_limits_id_for())) == []
    assert desk.orders.settings.limits == CONFIGURED
