"""P&L to the cent: random fills with random fees against an exact cash-flow reference."""

from __future__ import annotations

import decimal
import uuid
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.core.factories import AT
from tradingcore.application.trading import state_hash
from tradingcore.domain.instruments import Instrument, infer_instrument
from tradingcore.domain.money import EXACT, Money
from tradingcore.domain.position import Position, PositionClosed, PositionOpened
from tradingcore.domain.values import Side, Symbol

ORDER = uuid.UUID(int=7)
INSTRUMENTS = [infer_instrument(Symbol(ticker)) for ticker in ("WINZ25", "WDOF26", "PETR4F")]
ODD = Instrument(Symbol("XYZZ25"), Decimal("0.001"), 1, Decimal("0.0037"))
"""A configured instrument whose notionals are not whole cents: rounding really happens."""

Fill = tuple[Side, int, int, int]
fills = st.lists(
    st.tuples(
        st.sampled_from(list(Side)),
        st.integers(1, 9),
        st.integers(1_000, 60_000),
        st.integers(0, 2_000),
    ),
    min_size=1,
    max_size=40,
)


def book(instrument: Instrument, fill_list: list[Fill]) -> tuple[Position, list[Fraction]]:
    """Book fills (side, quantity, ticks, fee cents); check the cash-flow identity on each."""
    position = Position.open_for("acct", instrument)
    cash = Fraction(0)
    point_value = Fraction(instrument.point_value)
    gaps = []
    for trade_id, (side, quantity, ticks, fee_cents) in enumerate(fill_list):
        price = EXACT.multiply(instrument.tick_size, Decimal(ticks))  # not the test's context
        fees = Money.cents(fee_cents)
        position.apply_fill(ORDER, trade_id, side, quantity, price, AT, fees=fees)
        cash += -side.sign * quantity * Fraction(price) * point_value - Fraction(fee_cents, 100)
        marked = cash + position.net_quantity * Fraction(price) * point_value
        total = position.realized_pnl + position.unrealized_pnl(price)
        gaps.append(Fraction(total.amount) - marked)
        assert position.realized_pnl.is_whole_cents
        if position.is_flat:
            assert abs(Fraction(position.realized_pnl.amount) - cash) <= Fraction(1, 200)
    return position, gaps


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=lambda i: i.symbol.ticker)
@given(fills)
def test_b3_realized_plus_unrealized_is_the_cash_flow_pnl_exactly_at_every_fill(
    instrument: Instrument, fill_list: list[Fill]
) -> None:
    _, gaps = book(instrument, fill_list)
    assert gaps == [0] * len(fill_list)


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=lambda i: i.symbol.ticker)
@given(fills, st.integers(1_000, 60_000), st.integers(0, 2_000), st.sampled_from([3, 6, 50]))
def test_flat_position_realized_is_the_exact_cash_flow_to_the_cent_with_fees(
    instrument: Instrument, fill_list: list[Fill], ticks: int, fee_cents: int, prec: int
) -> None:
    # Random sequences seldom end flat by chance (about 1 in 10): close every one of them.
    held = sum(side.sign * quantity for side, quantity, _, _ in fill_list)
    if held:
        closing = Side.SELL if held > 0 else Side.BUY
        fill_list = [*fill_list, (closing, abs(held), ticks, fee_cents)]
    with decimal.localcontext(prec=prec):
        position, _ = book(instrument, fill_list)
    cash = sum(
        -side.sign
        * quantity
        * Fraction(instrument.tick_size)
        * tick
        * Fraction(instrument.point_value)
        - Fraction(fee, 100)
        for side, quantity, tick, fee in fill_list
    )
    assert position.is_flat
    assert Fraction(position.realized_pnl.amount) == cash
    assert position.realized_pnl == position.gross_realized_pnl - position.fees


@given(fills)
def test_sub_cent_instrument_stays_within_half_a_cent_and_never_drifts(
    fill_list: list[Fill],
) -> None:
    _, gaps = book(ODD, fill_list)
    assert all(abs(gap) <= Fraction(1, 200) for gap in gaps)


@given(fills, st.sampled_from([1, 6, 28, 50]))
def test_booking_is_identical_under_any_decimal_context(fill_list: list[Fill], prec: int) -> None:
    reference, _ = book(INSTRUMENTS[0], fill_list)
    with decimal.localcontext(prec=prec, rounding=decimal.ROUND_FLOOR):
        position, _ = book(INSTRUMENTS[0], fill_list)
    assert state_hash(position) == state_hash(reference)


@given(fills)
def test_rehydrated_position_with_fees_equals_live_one(fill_list: list[Fill]) -> None:
    position, _ = book(INSTRUMENTS[1], fill_list)
    assert Position.rehydrate(position.id, position.collect_events()) == position


@given(st.integers(1, 50), st.integers(1, 50), st.integers(0, 100_000))
def test_flip_splits_fees_pro_rata_with_the_remainder_on_the_open(
    held: int, extra: int, fee_cents: int
) -> None:
    position = Position.open_for("acct", INSTRUMENTS[0])
    position.apply_fill(ORDER, 1, Side.BUY, held, Decimal(125_000), AT)
    quantity = held + extra
    fees = Money.cents(fee_cents)
    close, open_ = position.apply_fill(
        ORDER, 2, Side.SELL, quantity, Decimal(125_010), AT, fees=fees
    )
    assert (type(close), type(open_)) == (PositionClosed, PositionOpened)
    assert close.fees + open_.fees == fees
    assert close.fees == Money.rounded(Fraction(fee_cents, 100) * held / quantity)


def test_issue_example_realizes_four_reais_at_precision_six() -> None:
    with decimal.localcontext(prec=6):
        position = Position.open_for("acct", INSTRUMENTS[0])
        position.apply_fill(ORDER, 1, Side.BUY, 1, Decimal(125_000), AT)
        position.apply_fill(ORDER, 2, Side.BUY, 2, Decimal(125_005), AT)
        position.apply_fill(ORDER, 3, Side.SELL, 3, Decimal(125_010), AT)
    assert position.realized_pnl == Money.of("4.00")
    assert position.unrealized_pnl(Decimal(125_010)).text == "0.00"


def test_average_price_is_exact_and_the_remainder_stays_in_the_cost_basis() -> None:
    wdo = INSTRUMENTS[1]
    position = Position.open_for("acct", wdo)
    position.apply_fill(ORDER, 1, Side.BUY, 1, Decimal("5000.0"), AT)
    position.apply_fill(ORDER, 2, Side.BUY, 2, Decimal("5000.5"), AT)
    assert position.average_price == Fraction(150_010, 30)
    (event,) = position.apply_fill(ORDER, 3, Side.SELL, 1, Decimal("5094.5"), AT)
    # Exact: (5094.5 - 5000.333...) * 10 = 941.666...: booked 941.67, the rest stays open.
    assert event.realized_pnl == Decimal("941.67")
    position.apply_fill(ORDER, 4, Side.SELL, 2, Decimal("5094.5"), AT)
    assert position.realized_pnl == Money.of("2825.00")  # 3 * 5094.5 * 10 - 150,010


def test_fees_enter_net_realized_at_once_and_gross_is_kept_apart() -> None:
    position = Position.open_for("acct", INSTRUMENTS[0])
    position.apply_fill(ORDER, 1, Side.BUY, 2, Decimal(125_000), AT, fees=Money.of("0.50"))
    assert (position.gross_realized_pnl, position.fees) == (Money.zero(), Money.of("0.50"))
    assert position.net_realized_pnl == Money.of("-0.50")
    position.apply_fill(ORDER, 2, Side.SELL, 2, Decimal(125_100), AT, fees=Money.of("0.50"))
    assert position.gross_realized_pnl == Money.of("40.00")
    assert position.net_realized_pnl == Money.of("39.00")
