"""The risk view applies this process's own writes directly and still sees other writers'."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.eventstore import open_store
from tests.risk.desk import Desk
from tests.risk.factories import WIN
from tradingcore.domain.commands import SubmitOrder
from tradingcore.domain.position import Position
from tradingcore.domain.values import Price, Quantity, Side
from tradingcore.risk.limits import RiskLimits

LIMITS = RiskLimits(max_order_quantity=10, max_position=1_000, max_orders_per_window=1_000)


def _other_process_fills(url: str, desk: Desk, side: Side, quantity: int) -> None:
    other = open_store(url, desk.clock)
    try:
        command = SubmitOrder(
            f"other-{uuid.uuid4()}", "alice", WIN, side, Quantity(quantity), Price.of(-1)
        )
        order = other.submit_order(command)
        other.accept_order(order.id, f"venue-{order.id}")
        other.fill_order(order.id, 1, Decimal(127_850), quantity)
    finally:
        other.close()


@settings(max_examples=15, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.booleans(), st.sampled_from(Side), st.integers(1, 3)), min_size=1, max_size=8
    )
)
def test_the_risk_position_is_the_stored_one_after_own_and_foreign_fills(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[bool, Side, int]]
) -> None:
    directory = tmp_path_factory.mktemp("watch")
    url = f"sqlite:///{directory / 'events.sqlite'}"
    desk = Desk(url, limits=LIMITS)
    try:
        desk.trade(127_850)
        expected = 0
        for ours, side, quantity in steps:
            if ours:
                assert desk.execute(side=side, quantity=quantity).order.is_open
                desk.trade(127_850, volume=quantity)  # the paper venue fills it
            else:
                _other_process_fills(url, desk, side, quantity)
            expected += quantity if side is Side.BUY else -quantity
            desk.tick()
            orders = desk.orders
            with orders.lock:
                orders.book.watch.sync(desk.app)
                seen = orders.book.watch.position(desk.app, "alice", WIN)
            assert seen.net_quantity == expected
            assert seen == desk.app.load_fresh(Position, seen.id)
            assert orders.book.watch.seen == desk.app.recorder.max_notification_id()
    finally:
        desk.app.close()
