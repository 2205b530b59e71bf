"""Money: exact arithmetic in one currency, two decimals shown, no decimal-context leaks."""

from __future__ import annotations

import decimal
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradingcore.domain.money import CurrencyMismatch, InvalidMoney, Money, exact_decimal

amounts = st.decimals(
    min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=4, allow_nan=False
)


@pytest.mark.parametrize("precision", [6, 50])
@given(amounts, amounts, st.integers(-1_000_000, 1_000_000))
def test_arithmetic_is_exact_under_any_decimal_context(
    precision: int, left: Decimal, right: Decimal, factor: int
) -> None:
    with decimal.localcontext(prec=precision):
        total = Money(left) + Money(right) * factor - Money(right)
    assert Fraction(total.amount) == Fraction(left) + Fraction(right) * (factor - 1)


def test_text_has_two_decimals_and_never_minus_zero() -> None:
    assert Money.of("5").text == "5.00"
    assert Money.of("48.00000").text == "48.00"
    assert Money.of("-0.004").text == "0.00"
    assert Money.of("-0.00").text == "0.00"
    assert str(Money.of("-1234.5")) == "-1234.50 BRL"
    assert Money.cents(-1).text == "-0.01"


def test_rounding_is_half_even_to_the_cent() -> None:
    assert Money.rounded(Decimal("0.125")) == Money.cents(12)
    assert Money.rounded(Decimal("0.135")) == Money.cents(14)
    assert Money.rounded(Fraction(-1, 200)) == Money.zero()
    assert Money.rounded(Fraction(2, 3)) == Money.cents(67)


def test_adding_different_currencies_raises_currency_mismatch() -> None:
    with pytest.raises(CurrencyMismatch, match="different currencies"):
        Money.of(1) + Money.of(1, "USD")


def test_float_amount_is_refused() -> None:
    with pytest.raises(InvalidMoney, match="float is not exact"):
        Money(0.1)  # type: ignore[arg-type]


def test_sum_of_money_starts_from_zero() -> None:
    assert sum([Money.cents(5), Money.cents(7)]) == Money.cents(12)


@given(st.integers(0, 10**9), st.integers(1, 1_000), st.data())
def test_split_gives_parts_that_add_up_exactly(cents: int, whole: int, data: st.DataObject) -> None:
    part = data.draw(st.integers(0, whole))
    fee = Money.cents(cents)
    share, rest = fee.split(part, whole)
    assert share + rest == fee
    assert share == Money.rounded(Fraction(cents, 100) * part / whole)
    assert share.is_whole_cents and rest.is_whole_cents


@given(st.integers(-(10**30), 10**30), st.integers(0, 30))
def test_exact_decimal_round_trips_a_finite_decimal(numerator: int, places: int) -> None:
    value = Fraction(numerator, 10**places)
    assert Fraction(exact_decimal(value)) == value
