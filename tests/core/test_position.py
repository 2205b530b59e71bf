"""Position arithmetic: net quantity, average price, realized and unrealized P&L, flips."""

from __future__ import annotations

import uuid
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tests.core.factories import AT, WIN
from tradingcore.domain.instruments import infer_instrument
from tradingcore.domain.money import Money
from tradingcore.domain.position import Position, PositionChanged, PositionClosed, PositionOpened
from tradingcore.domain.values import Side, Symbol

ORDER = uuid.UUID(int=1)
fills = st.lists(
    st.tuples(st.sampled_from(list(Side)), st.integers(1, 20), st.integers(20_000, 30_000)),
    min_size=1,
    max_size=40,
)


def book(fill_list: list[tuple[Side, int, int]], symbol: Symbol = WIN) -> Position:
    position = Position.open_for("acct", infer_instrument(symbol))
    for trade_id, (side, quantity, ticks) in enumerate(fill_list):
        position.apply_fill(ORDER, trade_id, side, quantity, Decimal(ticks * 5), AT)
    return position


@given(fills)
def test_net_quantity_equals_bought_minus_sold(fill_list: list[tuple[Side, int, int]]) -> None:
    position = book(fill_list)
    assert position.net_quantity == position.bought - position.sold
    assert position.bought == sum(q for side, q, _ in fill_list if side is Side.BUY)


@given(fills, st.integers(20_000, 30_000))
def test_realized_plus_unrealized_equals_cash_flow_pnl(
    fill_list: list[tuple[Side, int, int]], mark_ticks: int
) -> None:
    position = book(fill_list)
    mark = Decimal(mark_ticks * 5)
    point_value = Decimal("0.20")
    cash = sum(-side.sign * quantity * Decimal(ticks * 5) for side, quantity, ticks in fill_list)
    expected = (cash + position.net_quantity * mark) * point_value
    total = position.realized_pnl + position.unrealized_pnl(mark)
    assert total == Money(expected)


@given(fills)
def test_rehydrated_position_equals_live_one(fill_list: list[tuple[Side, int, int]]) -> None:
    position = book(fill_list)
    events = position.collect_events()
    assert Position.rehydrate(position.id, events) == position


def test_fill_that_reverses_position_is_split_into_close_and_open() -> None:
    position = book([(Side.BUY, 2, 25_570)])
    position.collect_events()
    events = position.apply_fill(ORDER, 99, Side.SELL, 5, Decimal(127_900), AT)
    assert [type(event) for event in events] == [PositionClosed, PositionOpened]
    assert events[0].quantity == 2 and events[1].quantity == 3
    assert events[0].realized_pnl == Decimal(2 * 50) * Decimal("0.20")
    assert position.net_quantity == -3
    assert position.average_price == Decimal(127_900)


def test_partial_close_keeps_average_price_and_books_realized() -> None:
    position = book([(Side.BUY, 4, 25_570)])
    events = position.apply_fill(ORDER, 50, Side.SELL, 1, Decimal(127_800), AT)
    assert [type(event) for event in events] == [PositionChanged]
    assert position.average_price == 127_850
    assert position.realized_pnl == Money.of("-10.00")


def test_same_fill_applied_twice_is_booked_once() -> None:
    position = book([(Side.BUY, 1, 25_570)])
    assert position.apply_fill(ORDER, 0, Side.BUY, 1, Decimal(127_850), AT) == []
    assert position.net_quantity == 1


def test_wdo_realized_pnl_uses_ten_reais_per_point() -> None:
    position = Position.open_for("acct", infer_instrument(Symbol("WDOF26")))
    position.apply_fill(ORDER, 1, Side.SELL, 2, Decimal("5412.5"), AT)
    position.apply_fill(ORDER, 2, Side.BUY, 2, Decimal("5400.0"), AT)
    assert position.realized_pnl == Money.of(250)
    assert position.is_flat
