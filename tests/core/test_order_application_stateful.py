"""Stateful: any sequence of order commands through the application, on a real SQLite file,
leaves every aggregate rebuilt from the store equal to the one in memory."""

from __future__ import annotations

import tempfile
import uuid
from decimal import Decimal
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from adapters.eventstore import open_store
from tests.core.factories import WIN, submit_order
from tradingcore.domain.errors import DomainError
from tradingcore.domain.order import Order
from tradingcore.domain.position import Position, position_id_for
from tradingcore.domain.values import Side
from tradingcore.ports.clock import ManualClock


class OrdersThroughTheStore(RuleBasedStateMachine):
    orders = Bundle("orders")

    @initialize()
    def open(self) -> None:
        self.directory = tempfile.TemporaryDirectory()
        self.app = open_store(f"sqlite:///{Path(self.directory.name) / 'e.sqlite'}", ManualClock())
        self.live: dict[uuid.UUID, Order] = {}
        self.trade_ids = iter(range(1, 10_000))

    def teardown(self) -> None:
        self.app.close()
        self.directory.cleanup()

    @rule(
        target=orders,
        client=st.integers(0, 5),
        side=st.sampled_from(list(Side)),
        quantity=st.integers(1, 5),
    )
    def submit(self, client: int, side: Side, quantity: int) -> uuid.UUID:
        try:
            order = self.app.submit_order(submit_order(f"c{client}", side=side, quantity=quantity))
        except DomainError:  # the same client id reused for another order
            order = self.app.get_order(next(iter(self.live)))
        self.live[order.id] = order
        return order.id

    @rule(order_id=orders)
    def accept(self, order_id: uuid.UUID) -> None:
        self._try(order_id, lambda: self.app.accept_order(order_id, "v"))

    @rule(order_id=orders)
    def cancel(self, order_id: uuid.UUID) -> None:
        self._try(order_id, lambda: self.app.cancel_order(order_id, "user"))

    @rule(
        order_id=orders, quantity=st.integers(1, 3), ticks=st.integers(-3, 3), repeat=st.booleans()
    )
    def fill(self, order_id: uuid.UUID, quantity: int, ticks: int, repeat: bool) -> None:
        trade_id = 1 if repeat else next(self.trade_ids)
        price = Decimal(127_850 + 5 * ticks)
        self._try(order_id, lambda: self.app.fill_order(order_id, trade_id, price, quantity)[0])

    def _try(self, order_id: uuid.UUID, command: object) -> None:
        before = self.app.recorder.max_notification_id()
        try:
            result = command()  # type: ignore[operator]
        except DomainError:
            assert self.app.recorder.max_notification_id() == before, "rejected, yet appended"
            return
        self.live[order_id] = result

    @invariant()
    def rebuilt_from_the_store_equals_memory(self) -> None:
        if not hasattr(self, "app"):
            return
        for order_id, order in self.live.items():
            assert self.app.load_fresh(Order, order_id) == self.app.get_order(order_id)
            assert self.app.get_order(order_id).version >= order.version
        position_id = position_id_for("acct", WIN)
        if self.app.exists(position_id):
            stored = self.app.load_fresh(Position, position_id)
            assert stored == self.app.position("acct", WIN)
            assert stored.net_quantity == stored.bought - stored.sold


OrdersThroughTheStore.TestCase.settings = settings(
    max_examples=15, stateful_step_count=15, deadline=None
)
TestOrdersThroughTheStore = OrdersThroughTheStore.TestCase
