"""The Order aggregate: transition table, exact fills, duplicates ignored."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tests.core.factories import AT, new_order, submit_order
from tradingcore.domain.errors import (
    ConflictingFill,
    InvalidOrderTransition,
    InvalidPrice,
    InvalidSymbol,
    OverFill,
)
from tradingcore.domain.instruments import infer_instrument
from tradingcore.domain.order import (
    TERMINAL,
    Order,
    OrderAccepted,
    OrderFilled,
    OrderStatus,
    OrderSubmitted,
)
from tradingcore.domain.values import Symbol


def test_submit_with_valid_command_raises_order_submitted() -> None:
    order = new_order()
    events = order.collect_events()
    assert [type(event) for event in events] == [OrderSubmitted]
    assert order.status is OrderStatus.SUBMITTED
    assert order.version == 1


def test_submit_with_price_off_tick_raises_invalid_price_and_creates_nothing() -> None:
    command = submit_order(price=127_851)
    with pytest.raises(
        InvalidPrice, match="invalid price 127851 for WINZ25: not a multiple of tick 5"
    ):
        Order.submit(command, infer_instrument(command.symbol), AT)


def test_submit_with_generic_future_alias_is_rejected() -> None:
    command = submit_order(symbol=Symbol("WINFUT"))
    with pytest.raises(InvalidSymbol, match="name the contract"):
        Order.submit(command, infer_instrument(command.symbol), AT)


def test_fill_with_more_than_remaining_raises_over_fill() -> None:
    order = new_order(quantity=2)
    order.accept("v-1", AT)
    with pytest.raises(OverFill, match="exceeds the remaining 2"):
        order.fill(1, Decimal(127_850), 3, AT)
    assert order.filled_quantity == 0


def test_fill_with_already_applied_trade_id_is_ignored() -> None:
    order = new_order(quantity=3)
    order.accept("v-1", AT)
    assert order.fill(7, Decimal(127_850), 1, AT) is not None
    assert order.fill(7, Decimal(127_850), 1, AT) is None
    assert order.filled_quantity == 1
    assert order.status is OrderStatus.PARTIALLY_FILLED


def test_fill_of_remaining_quantity_moves_order_to_filled_with_average_price() -> None:
    order = new_order(quantity=3)
    order.accept("v-1", AT)
    order.fill(1, Decimal(127_850), 1, AT)
    order.fill(2, Decimal(127_820), 2, AT)
    assert order.status is OrderStatus.FILLED
    assert order.average_fill_price == Decimal(127_830)


@pytest.mark.parametrize("terminal", ["deny", "reject", "cancel"])
def test_accept_after_terminal_status_raises_invalid_transition(terminal: str) -> None:
    order = new_order()
    if terminal == "cancel":
        order.cancel("user", AT)
    else:
        getattr(order, terminal)("CODE", "why", AT)
    with pytest.raises(InvalidOrderTransition, match="OrderAccepted is not allowed"):
        order.accept("v-1", AT)


def test_fill_after_cancel_is_booked_and_order_stays_canceled() -> None:
    order = new_order(quantity=2)
    order.accept("v-1", AT)
    order.cancel("user", AT)
    order.fill(9, Decimal(127_850), 1, AT)
    assert order.status is OrderStatus.CANCELED
    assert order.filled_quantity == 1


def test_rehydrate_with_stored_events_equals_live_order() -> None:
    order = new_order(quantity=2)
    order.accept("v-1", AT)
    order.fill(1, Decimal(127_850), 2, AT)
    events = order.collect_events()
    assert [type(event) for event in events] == [OrderSubmitted, OrderAccepted, OrderFilled]
    assert Order.rehydrate(order.id, events) == order


class OrderLifecycle(RuleBasedStateMachine):
    """Any sequence of commands keeps the order consistent and rebuildable from its events."""

    def __init__(self) -> None:
        super().__init__()
        self.order = new_order(quantity=10)
        self.events = list(self.order.collect_events())
        self.trade_id = 0

    def _attempt(self, action: object) -> None:
        before = self.order.state()
        try:
            action()  # type: ignore[operator]
        except (InvalidOrderTransition, OverFill, ConflictingFill):
            assert self.order.state() == before, "a rejected command must change nothing"
        self.events.extend(self.order.collect_events())

    @rule()
    def accept(self) -> None:
        self._attempt(lambda: self.order.accept("v", AT))

    @rule(code=st.sampled_from(["RISK", "VENUE"]))
    def reject(self, code: str) -> None:
        self._attempt(lambda: self.order.reject(code, "why", AT))

    @rule()
    def cancel(self) -> None:
        self._attempt(lambda: self.order.cancel("user", AT))

    @rule(quantity=st.integers(1, 12), repeat=st.booleans())
    def fill(self, quantity: int, repeat: bool) -> None:
        if not repeat:
            self.trade_id += 1
        self._attempt(lambda: self.order.fill(self.trade_id, Decimal(127_850), quantity, AT))

    @precondition(lambda self: self.order.status in TERMINAL - {OrderStatus.CANCELED})
    @rule()
    def terminal_orders_take_no_more_fills(self) -> None:
        with pytest.raises(InvalidOrderTransition):
            self.order.fill(10_000 + self.trade_id, Decimal(127_850), 1, AT)

    @invariant()
    def filled_never_exceeds_quantity(self) -> None:
        assert 0 <= self.order.filled_quantity <= self.order.quantity
        assert len(set(self.order.trade_ids)) == len(self.order.trade_ids)

    @invariant()
    def status_matches_filled_quantity(self) -> None:
        if self.order.status is OrderStatus.FILLED:
            assert self.order.remaining == 0

    @invariant()
    def rebuilt_from_events_equals_live(self) -> None:
        assert Order.rehydrate(self.order.id, self.events) == self.order
        assert self.order.version == len(self.events)


OrderLifecycle.TestCase.settings = settings(max_examples=60, stateful_step_count=20, deadline=None)
TestOrderLifecycle = OrderLifecycle.TestCase
