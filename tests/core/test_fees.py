"""The B3 fee model: per contract for futures, on notional for stocks, day trade vs carried."""

from __future__ import annotations

import decimal
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tradingcore.domain.fees import (
    B3_DEFAULTS,
    B3FeeModel,
    FeeSchedule,
    FillCharge,
    InvalidFeeSchedule,
)
from tradingcore.domain.instruments import Instrument, infer_instrument
from tradingcore.domain.money import Money
from tradingcore.domain.position import Position
from tradingcore.domain.values import Side, Symbol

WIN = infer_instrument(Symbol("WINZ25"))
WDO = infer_instrument(Symbol("WDOF26"))
PETR = infer_instrument(Symbol("PETR4"))
MONDAY = datetime(2025, 12, 1, 13, 0, tzinfo=UTC)  # 10:00 in São Paulo
ORDER = uuid.UUID(int=3)


def charge(
    instrument: Instrument = WIN,
    quantity: int = 1,
    *,
    price: str = "127850",
    closing: int = 0,
    day_trade: int = 0,
    first: bool = True,
) -> FillCharge:
    return FillCharge(
        instrument,
        Side.BUY,
        Decimal(price),
        quantity,
        closing,
        day_trade,
        first,
    )


def test_futures_pay_per_contract_at_the_day_trade_or_position_trade_rate() -> None:
    model = B3FeeModel()

    assert model.fees(charge(WIN, 3)) == Money.of("0.75")  # opening, priced as day trade
    assert model.fees(charge(WIN, 3, closing=3, day_trade=3)) == Money.of("0.75")
    assert model.fees(charge(WIN, 3, closing=3, day_trade=0)) == Money.of("1.05")  # carried
    assert model.fees(charge(WIN, 3, closing=3, day_trade=1)) == Money.of("0.95")
    assert model.fees(charge(WDO, 2, price="5000.5")) == Money.of("1.80")


def test_stocks_pay_a_rate_on_notional_rounded_half_even_to_the_cent() -> None:
    model = B3FeeModel()

    # 100 x R$ 31.42 = R$ 3,142.00: 0.023 % = 0.72266, 0.030 % (carried) = 0.9426.
    assert model.fees(charge(PETR, 100, price="31.42")) == Money.of("0.72")
    assert model.fees(charge(PETR, 100, price="31.42", closing=100)) == Money.of("0.94")


def test_the_broker_charges_per_contract_and_once_per_order() -> None:
    schedule = FeeSchedule.from_plain({"broker_per_contract": "0.10", "broker_per_order": "1"})
    model = B3FeeModel(schedule)

    assert model.fees(charge(WIN, 2, first=True)) == Money.of("1.70")  # 0.50 + 0.20 + 1.00
    assert model.fees(charge(WIN, 2, first=False)) == Money.of("0.70")  # a later partial fill


def test_opening_at_the_position_trade_rate_when_configured() -> None:
    model = B3FeeModel(FeeSchedule.from_plain({"opening_as_day_trade": False}))

    assert model.fees(charge(WIN, 2)) == Money.of("0.70")


def test_a_futures_root_without_rates_pays_the_broker_only() -> None:
    model = B3FeeModel(FeeSchedule.from_plain({"broker_per_order": "0.40"}))

    assert model.fees(charge(infer_instrument(Symbol("INDZ25")), 5)) == Money.of("0.40")


def test_fees_do_not_depend_on_the_callers_decimal_context() -> None:
    model = B3FeeModel()
    expected = model.fees(charge(PETR, 137, price="31.47", closing=100, day_trade=40))

    with decimal.localcontext(prec=3, rounding=decimal.ROUND_FLOOR):
        assert model.fees(charge(PETR, 137, price="31.47", closing=100, day_trade=40)) == expected


def test_closing_what_was_opened_the_same_session_is_day_trade_and_the_rest_is_carried() -> None:
    model = B3FeeModel()
    position = Position.open_for("acct", WIN)
    position.apply_fill(ORDER, 1, Side.BUY, 2, Decimal(127_850), MONDAY - timedelta(days=3))
    position.apply_fill(ORDER, 2, Side.BUY, 1, Decimal(127_850), MONDAY)

    # Selling 4: 1 closes Monday's buy (day trade), 2 close Friday's (carried), 1 opens short.
    fill = position.charge(WIN, Side.SELL, 4, Decimal(127_900), MONDAY, first_fill_of_order=True)

    assert (fill.closing_quantity, fill.day_trade_quantity) == (3, 1)
    assert model.fees(fill) == Money.of("1.20")  # 2 x 0.25 (day and opening) + 2 x 0.35


def test_a_fee_schedule_refuses_unknown_keys_negative_fees_and_half_new_roots() -> None:
    with pytest.raises(InvalidFeeSchedule, match="unknown keys"):
        FeeSchedule.from_plain({"brokerage": "1"})
    with pytest.raises(InvalidFeeSchedule, match=">= 0"):
        FeeSchedule.from_plain({"broker_per_order": "-1"})
    with pytest.raises(InvalidFeeSchedule, match="needs day_trade and position_trade"):
        FeeSchedule.from_plain({"futures": {"IND": {"day_trade": "1.25"}}})


def test_the_defaults_are_dated_and_say_where_they_come_from() -> None:
    assert B3_DEFAULTS.as_of is not None and "docs/money.md" in B3_DEFAULTS.source
    configured = FeeSchedule.from_plain({"as_of": "2026-01-15", "source": "my broker's note"})
    assert (str(configured.as_of), configured.source) == ("2026-01-15", "my broker's note")
    assert configured.futures == B3_DEFAULTS.futures  # what is not given keeps the default
