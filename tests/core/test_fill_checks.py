"""Fills through the application: checked prices, charged fees, and a cache never ahead."""

from __future__ import annotations

import decimal
import itertools
import shutil
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.eventstore import open_store
from tests.core.factories import submit_order
from tradingcore.application.trading import TradingApplication, state_hash
from tradingcore.domain.aggregate import AggregateRoot
from tradingcore.domain.errors import ConflictingFill, InvalidFillPrice, InvalidQuantity
from tradingcore.domain.fees import B3FeeModel
from tradingcore.domain.money import Money
from tradingcore.domain.order import Order, OrderStatus
from tradingcore.domain.position import Position, position_id_for
from tradingcore.domain.values import Side, Symbol
from tradingcore.ports.clock import ManualClock

FIXTURE = Path(__file__).parent / "fixtures" / "store-before-fees.sqlite"


def accepted(app: TradingApplication, name: str = "c-1", **kwargs: Any) -> Order:
    order = app.submit_order(submit_order(name, **kwargs))
    return app.accept_order(order.id, f"v-{name}")


def stored_version(app: TradingApplication, order: Order) -> int:
    return app.load_fresh(Order, order.id).version


@pytest.mark.parametrize(
    ("price", "message"),
    [
        (Decimal(127_853), "not a multiple of tick 5"),
        (Decimal(0), "must be a Decimal > 0"),
        (Decimal(-1), "the market-order marker"),
        (Decimal(-5), "must be a Decimal > 0"),
        (Decimal(130_000), "cannot fill above its limit"),
        (127_850.0, "must be a Decimal > 0"),
    ],
)
def test_fill_with_bad_price_is_refused_and_nothing_is_stored(
    memory_app: TradingApplication, price: Any, message: str
) -> None:
    order = accepted(memory_app, quantity=3)
    with pytest.raises(InvalidFillPrice, match=message):
        memory_app.fill_order(order.id, 1, price, 2)
    assert stored_version(memory_app, order) == order.version
    assert memory_app.get_order(order.id).filled_quantity == 0
    assert not memory_app.exists(position_id_for("acct", order.symbol))


def test_sell_filled_below_its_limit_is_refused(memory_app: TradingApplication) -> None:
    order = accepted(memory_app, side=Side.SELL, price=127_850)
    with pytest.raises(InvalidFillPrice, match="cannot fill below its limit"):
        memory_app.fill_order(order.id, 1, Decimal(127_845), 1)


def test_market_order_fills_at_any_positive_price_on_the_grid(
    memory_app: TradingApplication,
) -> None:
    order = accepted(memory_app, price=-1, quantity=1)
    order, _ = memory_app.fill_order(order.id, 1, Decimal(131_000), 1)
    assert order.status is OrderStatus.FILLED


def test_repeated_trade_id_is_a_no_op_and_a_different_one_is_a_conflict(
    memory_app: TradingApplication,
) -> None:
    order = accepted(memory_app, quantity=3)
    memory_app.fill_order(order.id, 9, Decimal(127_850), 1)
    version = stored_version(memory_app, order)
    memory_app.fill_order(order.id, 9, Decimal(127_850), 1)
    with pytest.raises(ConflictingFill, match="booked as 1 @ 127850"):
        memory_app.fill_order(order.id, 9, Decimal(127_845), 1)
    with pytest.raises(ConflictingFill):
        memory_app.fill_order(order.id, 9, Decimal(127_850), 2)
    assert stored_version(memory_app, order) == version


def test_quantity_above_the_instrument_bound_is_a_domain_error(
    memory_app: TradingApplication,
) -> None:
    with pytest.raises(InvalidQuantity, match="above the maximum of 1000000 per order"):
        memory_app.submit_order(submit_order(quantity=2**70))


def test_fills_are_charged_by_the_fee_model_and_carried_by_the_events(
    clock: ManualClock,
) -> None:
    app = TradingApplication(clock=clock, fee_model=B3FeeModel())
    order = accepted(app, quantity=2)
    order, position = app.fill_order(order.id, 1, Decimal(127_850), 2)
    assert order.fees == Money.of("0.50")  # 2 WIN contracts opened at the day-trade rate
    assert position.fees == Money.of("0.50")
    sell = accepted(app, "c-2", side=Side.SELL, quantity=2, price=127_900)
    _, position = app.fill_order(sell.id, 2, Decimal(127_900), 2, fees=Money.of("1.23"))
    assert position.gross_realized_pnl == Money.of("20.00")
    assert position.net_realized_pnl == Money.of("18.27")


class Boom(RuntimeError):
    """A non-domain error, injected after an aggregate has changed in memory."""


def test_non_domain_error_in_any_command_leaves_memory_equal_to_the_store(
    sqlite_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_store(sqlite_url, clock)
    original = AggregateRoot._trigger

    def failing(self: AggregateRoot[Any], *args: Any, **kwargs: Any) -> Any:
        original(self, *args, **kwargs)
        raise Boom("injected")

    orders = [accepted(app, f"c-{index}", quantity=3) for index in range(4)]
    # Submitted before the injection: accept, reject and deny must each meet the failure
    # themselves (submitting inside the command would fail first and hide them).
    fresh = [app.submit_order(submit_order(f"s-{index}")) for index in range(3)]
    everything = orders + fresh
    commands = {
        "submit_order": lambda: app.submit_order(submit_order("new")),
        "accept_order": lambda: app.accept_order(fresh[0].id, "v"),
        "reject_order": lambda: app.reject_order(fresh[1].id, "VENUE", "why"),
        "deny_order": lambda: app.deny_order(fresh[2].id, "RISK", "why"),
        "fill_order": lambda: app.fill_order(orders[0].id, 1, Decimal(127_850), 2),
        "fill_order (opens the position)": lambda: app.fill_order(
            orders[3].id, 2, Decimal(127_850), 3
        ),
        "cancel_order": lambda: app.cancel_order(orders[1].id, "user"),
    }
    for name, command in commands.items():
        monkeypatch.setattr(AggregateRoot, "_trigger", failing)
        with pytest.raises(Boom):
            command()
        monkeypatch.setattr(AggregateRoot, "_trigger", original)
        for order in everything:
            assert app.load(Order, order.id) == app.load_fresh(Order, order.id), name
        position_id = position_id_for("acct", orders[0].symbol)
        if app.exists(position_id):
            assert app.load(Position, position_id) == app.load_fresh(Position, position_id), name
    # Without the failure every command goes through, from the store's state.
    for command in commands.values():
        command()
    assert [app.load_fresh(Order, order.id).status for order in fresh] == [
        OrderStatus.ACCEPTED,
        OrderStatus.REJECTED,
        OrderStatus.DENIED,
    ]
    order = app.load_fresh(Order, orders[0].id)
    assert (order.filled_quantity, app.load(Order, order.id).filled_quantity) == (2, 2)
    assert app.load(Position, position_id) == app.load_fresh(Position, position_id)
    app.close()


EXAMPLES = itertools.count()


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    fills=st.lists(
        st.tuples(st.sampled_from(list(Side)), st.integers(1, 6), st.integers(0, 200)),
        min_size=1,
        max_size=15,
    ),
    precision=st.sampled_from([6, 50]),
)
def test_random_fills_with_fees_rebuilt_from_the_store_equal_memory(
    app: TradingApplication, fills: list[tuple[Side, int, int]], precision: int
) -> None:
    app.fee_model = B3FeeModel()
    example = next(EXAMPLES)  # one store for every example: fresh accounts keep them apart
    account = f"acct-{example}"
    cash = Fraction(0)
    with decimal.localcontext(prec=precision):
        for index, (side, quantity, step) in enumerate(fills):
            price = 127_000 + 5 * step
            command = submit_order(
                f"r-{index}", side=side, quantity=quantity, price=price, account=account
            )
            order = app.accept_order(app.submit_order(command).id, f"v-{index}")
            order, live = app.fill_order(order.id, index, Decimal(price), quantity)
            cash += -side.sign * quantity * price * Fraction(1, 5) - order.fees.fraction()
            marked = live.realized_pnl + live.unrealized_pnl(Decimal(price))
            assert marked.fraction() == cash + live.net_quantity * price * Fraction(1, 5)
    rebuilt = app.load_fresh(Position, live.id)
    assert state_hash(rebuilt) == state_hash(live)
    assert live.fees.amount > 0 and live.realized_pnl.is_whole_cents


def test_store_written_before_fees_still_loads_replays_and_trades(
    tmp_path: Path, clock: ManualClock
) -> None:
    copy = tmp_path / "old.sqlite"
    shutil.copy(FIXTURE, copy)
    app = open_store(f"sqlite:///{copy}", clock)
    win = app.position("acct", Symbol("WINZ25"))
    wdo = app.position("acct", Symbol("WDOF26"))
    assert (win.net_quantity, win.realized_pnl.text, win.fees) == (0, "14.00", Money.zero())
    assert (wdo.net_quantity, wdo.realized_pnl.text) == (2, "83.33")
    assert abs(wdo.average_price - Fraction(30_073, 6)) < Fraction(1, 10**20)  # old quotient
    sell = accepted(app, "new", side=Side.SELL, quantity=2, price=5020, symbol=Symbol("WDOF26"))
    _, wdo = app.fill_order(sell.id, 50, Decimal("5020.5"), 2, fees=Money.of("2.00"))
    # Cash flow: sold 150,615 - bought 150,365 - fees 2 = 248.00, old events included.
    assert wdo.is_flat and wdo.realized_pnl.text == "248.00"
    fresh = app.load_fresh(Position, wdo.id)
    assert state_hash(fresh) == state_hash(wdo)
    app.close()
