"""Stateful property test of the risk engine and position book over a real SQLite store."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from adapters.eventstore import open_store
from tests.risk.desk import Desk
from tests.risk.factories import WIN
from tradingcore.application.risk_book import RiskBook
from tradingcore.domain.commands import SubmitOrder
from tradingcore.domain.instruments import infer_instrument
from tradingcore.domain.order import Order, OrderStatus
from tradingcore.domain.position import Position
from tradingcore.domain.values import Price, Quantity, Side
from tradingcore.risk.checks import is_risk_reducing
from tradingcore.risk.limits import RiskLimits

LIMITS = RiskLimits(
    max_order_quantity=3,
    max_position=5,
    daily_loss_limit=Decimal(60),
    price_band_fraction=Decimal("0.05"),
    max_orders_per_window=1_000,
    duplicate_window=timedelta(0),
)


class RiskEngineMachine(RuleBasedStateMachine):
    """Orders, trades, cancels, kill switch and restarts, checked after every step."""

    @initialize()
    def open_desk(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="risk-machine-"))
        self.url = f"sqlite:///{self.directory / 'events.sqlite'}"
        self.desk = Desk(self.url, limits=LIMITS)
        self.price = 127_850
        self.last_trade = self.desk.trade(self.price)
        self.order_ids: list[uuid.UUID] = []
        self.sent_while_engaged = 0

    def teardown(self) -> None:
        if hasattr(self, "desk"):
            self.desk.app.close()
            shutil.rmtree(self.directory, ignore_errors=True)

    @rule(
        side=st.sampled_from(Side),
        quantity=st.integers(1, 4),
        offset=st.none() | st.integers(-20, 20),
    )
    def place_order(self, side: Side, quantity: int, offset: int | None) -> None:
        price = -1 if offset is None else self.price + 5 * offset
        engaged = self.desk.orders.kill_switch().engaged
        before_sent = len(self.desk.observer.sent)
        probe = self.desk.orders
        # The pre-trade view of this order, taken before it exists (afterwards it would count
        # itself among the open orders).
        intent = Order.submit(
            SubmitOrder(
                f"probe-{uuid.uuid4()}", "alice", WIN, side, Quantity(quantity), Price.of(price)
            ),
            infer_instrument(WIN),
            self.desk.clock.now(),
        )
        with probe.lock:
            probe.book.watch.sync(self.desk.app)
            daily = probe.book.daily_pnl(
                self.desk.app, "alice", probe.settings.calendar.session_start(self.desk.clock.now())
            )
            reducing = is_risk_reducing(probe.risk_context(intent))
        result = self.desk.execute(side=side, quantity=quantity, price=price)
        order = result.order
        self.order_ids.append(order.id)
        passed = len(self.desk.observer.sent) > before_sent
        if engaged:
            assert order.status is OrderStatus.DENIED
            self.sent_while_engaged += passed
        if passed and daily is not None and daily <= -LIMITS.daily_loss_limit:
            assert reducing
        self.desk.tick(0.5)

    @rule(points=st.integers(-40, 40), volume=st.integers(1, 5))
    def print_trade(self, points: int, volume: int) -> None:
        self.price = max(100_000, self.price + 5 * points)
        self.last_trade = self.desk.trade(self.price, volume=volume)
        self.desk.tick(0.5)

    @precondition(lambda self: bool(self.desk.orders.book.open_orders))
    @rule(data=st.data())
    def cancel_order(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(sorted(self.desk.orders.book.open_orders)))
        self.desk.orders.cancel(order_id, "alice", "alice")
        assert not self.desk.app.get_order(order_id).is_open

    @rule()
    def engage_kill_switch(self) -> None:
        self.desk.orders.engage_kill_switch("root", "stateful test")
        assert not self.desk.orders.book.open_orders

    @rule()
    def release_kill_switch(self) -> None:
        self.desk.orders.release_kill_switch("root", "stateful test over")

    @rule()
    def restart(self) -> None:
        next_trade_id = self.desk.next_trade_id
        self.desk.app.close()
        self.desk = Desk(self.url, limits=LIMITS, clock=self.desk.clock)
        self.desk.next_trade_id = next_trade_id
        self.desk.orders.on_trade(self.last_trade)

    @rule(side=st.sampled_from(Side), quantity=st.integers(1, 2))
    def another_process_trades(self, side: Side, quantity: int) -> None:
        """Another writer on the same file (a second order entry) books a filled order of the
        same account: the desk's risk view must see it between its own writes, untold."""
        other = open_store(self.url, self.desk.clock)
        try:
            net = other.position("alice", WIN).net_quantity
            after = net + (quantity if side is Side.BUY else -quantity)
            book = self.desk.orders.book
            bought = after + book.open_quantity("alice", WIN, Side.BUY)
            sold = after - book.open_quantity("alice", WIN, Side.SELL)
            if max(abs(after), abs(bought), abs(sold)) > LIMITS.max_position:
                # It bypasses risk: keep the limit invariant about our desk's orders, which
                # were checked before this fill (our open orders may still fill on top of it).
                return
            command = SubmitOrder(
                f"other-{uuid.uuid4()}", "alice", WIN, side, Quantity(quantity), Price.of(-1)
            )
            order = other.submit_order(command)
            other.accept_order(order.id, f"other-{order.id}")
            other.fill_order(order.id, 1, Decimal(self.price), quantity)
        finally:
            other.close()
        self.desk.tick(0.5)

    @invariant()
    def risk_view_of_the_position_equals_the_store(self) -> None:
        if not hasattr(self, "desk"):
            return
        app, orders = self.desk.app, self.desk.orders
        with orders.lock:
            orders.book.watch.sync(app)
            seen = orders.book.watch.position(app, "alice", WIN)
        if seen.version:
            assert seen == app.load_fresh(Position, seen.id)

    @invariant()
    def position_never_beyond_its_limit(self) -> None:
        if hasattr(self, "desk"):
            position = self.desk.app.position("alice", WIN)
            assert abs(position.net_quantity) <= LIMITS.max_position

    @invariant()
    def nothing_sent_while_the_kill_switch_is_on(self) -> None:
        if hasattr(self, "desk"):
            assert self.sent_while_engaged == 0
            if self.desk.orders.kill_switch().engaged:
                assert not self.desk.broker.working_orders

    @invariant()
    def state_rebuilt_from_the_store_equals_the_live_state(self) -> None:
        if not hasattr(self, "desk"):
            return
        app = self.desk.app
        for order_id in self.order_ids:
            assert app.load_fresh(Order, order_id) == app.get_order(order_id)
        live = app.position("alice", WIN)
        if live.version:
            assert app.load_fresh(Position, live.id) == live
        rebuilt = RiskBook()
        rebuilt.rebuild(app)
        assert rebuilt.open_orders == self.desk.orders.book.open_orders

    @invariant()
    def open_orders_are_exactly_the_ones_the_paper_venue_works(self) -> None:
        if hasattr(self, "desk"):
            working = {order.order_id for order in self.desk.broker.working_orders}
            assert working <= set(self.desk.orders.book.open_orders)


RiskEngineMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_risk_engine_and_position_book = RiskEngineMachine.TestCase
