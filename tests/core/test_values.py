"""Value objects: exact, strict, and their errors say what and why."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.core.strategies import futures, options, stocks, tickers
from tradingcore.domain.errors import InvalidPrice, InvalidQuantity, InvalidSymbol
from tradingcore.domain.instruments import infer_instrument
from tradingcore.domain.values import (
    Price,
    Quantity,
    Symbol,
    SymbolKind,
    price_to_units,
    units_to_price,
)


@given(st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10**9), places=4))
def test_price_with_positive_value_keeps_it_exactly(value: Decimal) -> None:
    assert Price(value).value == value
    assert units_to_price(price_to_units(value)) == value


@given(st.decimals(max_value=Decimal(0), allow_nan=False, allow_infinity=False))
def test_price_with_non_positive_value_other_than_minus_one_is_rejected(value: Decimal) -> None:
    if value == -1:
        assert Price(value).is_market
        return
    with pytest.raises(InvalidPrice, match="must be > 0, or -1 for a market order"):
        Price(value)


@pytest.mark.parametrize("value", ["nan", "inf", "abc", None])
def test_price_with_non_number_is_rejected_naming_the_value(value: object) -> None:
    with pytest.raises(InvalidPrice, match="invalid price"):
        Price.of(value)


def test_price_of_float_is_exact_decimal_of_its_shortest_repr() -> None:
    assert Price.of(127850.5).value == Decimal("127850.5")
    assert Price.of(0.1).value == Decimal("0.1")


@given(st.integers(max_value=0))
def test_quantity_with_non_positive_value_is_rejected(value: int) -> None:
    with pytest.raises(InvalidQuantity, match="must be > 0"):
        Quantity(value)


def test_quantity_with_fraction_or_bool_is_rejected() -> None:
    with pytest.raises(InvalidQuantity, match="whole number"):
        Quantity(1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidQuantity, match="whole number"):
        Quantity(True)


@given(tickers)
def test_symbol_with_b3_ticker_is_upper_cased_with_full_symbol(ticker: str) -> None:
    symbol = Symbol(ticker.lower(), "b3")
    assert symbol.ticker == ticker
    assert symbol.full_symbol == f"{ticker}:B3"
    assert Symbol.parse(symbol.full_symbol) == symbol


@given(futures)
def test_symbol_with_futures_ticker_is_classified_as_future(ticker: str) -> None:
    assert Symbol(ticker).kind is SymbolKind.FUTURE


@given(stocks)
def test_symbol_with_stock_ticker_is_classified_as_stock(ticker: str) -> None:
    assert Symbol(ticker).kind is SymbolKind.STOCK


@given(options)
def test_symbol_with_option_ticker_is_classified_as_option(ticker: str) -> None:
    assert Symbol(ticker).kind is SymbolKind.OPTION


@pytest.mark.parametrize(
    "ticker", ["WINA25", "WIN25", "PETR", "PETR9", "P3TR4", "WINZ2025", "", "  "]
)
def test_symbol_with_non_b3_ticker_is_rejected_naming_the_rule(ticker: str) -> None:
    with pytest.raises(InvalidSymbol, match="invalid symbol"):
        Symbol(ticker)


def test_symbol_error_names_the_formats_it_expects() -> None:
    with pytest.raises(InvalidSymbol) as error:
        Symbol("WINA25")
    message = str(error.value)
    assert "month code FGHJKMNQUVXZ" in message
    assert "PETR4" in message


@pytest.mark.parametrize(
    ("ticker", "tick", "lot", "point_value"),
    [
        ("WINZ25", Decimal(5), 1, Decimal("0.20")),
        ("WDOF26", Decimal("0.5"), 1, Decimal(10)),
        ("PETR4", Decimal("0.01"), 100, Decimal(1)),
        ("PETR4F", Decimal("0.01"), 1, Decimal(1)),
        ("BOVA11", Decimal("0.01"), 100, Decimal(1)),
        ("PETRL80", Decimal("0.01"), 1, Decimal(1)),
    ],
)
def test_infer_instrument_with_b3_symbol_gives_its_spec(
    ticker: str, tick: Decimal, lot: int, point_value: Decimal
) -> None:
    instrument = infer_instrument(Symbol(ticker))
    assert (instrument.tick_size, instrument.lot_size, instrument.point_value) == (
        tick,
        lot,
        point_value,
    )


@given(st.integers(10_000, 40_000), st.integers(1, 4))
def test_check_price_with_price_off_the_tick_grid_is_rejected(ticks: int, offset: int) -> None:
    instrument = infer_instrument(Symbol("WINZ25"))
    assert instrument.check_price(Price(Decimal(ticks * 5)))
    with pytest.raises(InvalidPrice, match="not a multiple of tick 5"):
        instrument.check_price(Price(Decimal(ticks * 5 + offset)))


def test_check_quantity_with_odd_lot_on_standard_market_is_rejected() -> None:
    with pytest.raises(InvalidQuantity, match="not a multiple of lot 100"):
        infer_instrument(Symbol("PETR4")).check_quantity(Quantity(150))


@pytest.mark.parametrize(
    ("ticker", "kind"),
    [
        ("KLBN11", SymbolKind.STOCK),
        ("WINF31", SymbolKind.FUTURE),
        ("DI1F26", SymbolKind.FUTURE),
        ("WINFUT", SymbolKind.GENERIC_FUTURE),
        ("TAEE11", SymbolKind.STOCK),
    ],
)
def test_classify_with_ticker_readable_two_ways_prefers_known_futures_roots(
    ticker: str, kind: SymbolKind
) -> None:
    assert Symbol(ticker).kind is kind


def test_deterministic_ids_are_the_uuid5_of_the_joined_parts_even_when_parts_compare_equal() -> (
    None
):
    # Ids are cached by their text: Decimal("1.0") == Decimal("1.00"), yet they name
    # different things, and 1 == True; each keeps its own id.
    import uuid

    from tradingcore.domain.values import NAMESPACE, deterministic_id

    assert deterministic_id("order", Decimal("1.0")) != deterministic_id("order", Decimal("1.00"))
    assert deterministic_id("x", 1) != deterministic_id("x", True)
    assert deterministic_id("x", 1) == deterministic_id("x", 1)
    assert deterministic_id("position", "acct", "WINZ25") == uuid.uuid5(
        NAMESPACE, "position|acct|WINZ25"
    )
