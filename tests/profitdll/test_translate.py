"""Translation of DLL records into domain values: aggressors, Brasília times, exact prices."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.profitdll.errors import MalformedRecord
from adapters.profitdll.records import RawTrade, TradeRecordCopy
from adapters.profitdll.translate import (
    TradeTranslator,
    aggressor_of,
    dll_exchange,
    exact_price,
    parse_dll_timestamp,
    translate_trade,
)
from adapters.profitdll.types import TradeRecord
from tradingcore.domain.values import Aggressor, Symbol

WIN_TRADE = TradeRecordCopy(
    ticker="WINZ25",
    exchange="F",
    trade_number=1_000_010,
    year=2025,
    month=12,
    day=1,
    hour=10,
    minute=15,
    second=3,
    millisecond=42,
    price=187600.0,
    quantity=3,
    volume=112560.0,
    buy_agent=3,
    sell_agent=72,
    trade_type=2,
)
"""A recorded-style payload: WIN in index points (YT's logs show 187600), buyer-initiated."""

RECORDED_PAYLOADS = [
    (WIN_TRADE, Decimal(187600), Aggressor.BUY, 1_764_594_903_042),
    (
        replace(WIN_TRADE, ticker="WDOF26", price=5121.5, trade_type=3),
        Decimal("5121.5"),
        Aggressor.SELL,
        1_764_594_903_042,
    ),
    (
        replace(WIN_TRADE, ticker="VALE3", exchange="B", price=77.88, quantity=400, trade_type=13),
        Decimal("77.88"),
        Aggressor.NONE,
        1_764_594_903_042,
    ),
    (
        replace(WIN_TRADE, ticker="PETR4", exchange="B", price=46.970000000000006, trade_type=4),
        Decimal("46.97"),
        Aggressor.NONE,
        1_764_594_903_042,
    ),
]


@pytest.mark.parametrize(("record", "price", "aggressor", "timestamp_ms"), RECORDED_PAYLOADS)
def test_translate_with_recorded_payload_gives_exact_trade(
    record: TradeRecordCopy, price: Decimal, aggressor: Aggressor, timestamp_ms: int
) -> None:
    trade = translate_trade(record)

    assert trade.symbol == Symbol(record.ticker)
    assert trade.price == price and str(trade.price) == str(price)
    assert trade.aggressor is aggressor
    assert trade.timestamp_ms == timestamp_ms
    assert trade.trade_id == record.trade_number
    assert trade.volume == record.quantity


def test_parse_with_manual_example_converts_brasilia_to_utc() -> None:
    # The manual's example stamp; Brasília is UTC-3, so 16:54 local is 19:54 UTC.
    expected = datetime(2020, 10, 6, 19, 54, 52, 3000, tzinfo=UTC)

    assert parse_dll_timestamp("06/10/2020 16:54:52.003") == expected.timestamp() * 1000


@given(st.integers(min_value=-10, max_value=300))
def test_aggressor_with_any_trade_type_is_buyer_seller_or_none(trade_type: int) -> None:
    expected = {2: Aggressor.BUY, 3: Aggressor.SELL}.get(trade_type, Aggressor.NONE)

    assert aggressor_of(trade_type) is expected


@given(st.datetimes(min_value=datetime(2019, 12, 1), max_value=datetime(2099, 1, 1)))
def test_parse_with_any_local_stamp_is_three_hours_behind_utc(local: datetime) -> None:
    local = local.replace(microsecond=local.microsecond // 1000 * 1000)
    text = local.strftime("%d/%m/%Y %H:%M:%S.") + f"{local.microsecond // 1000:03d}"

    utc = (local + timedelta(hours=3)).replace(tzinfo=UTC)
    assert parse_dll_timestamp(text) == round(utc.timestamp() * 1000)


@pytest.mark.parametrize(
    "text",
    ["", "2025-12-01 10:00:00.000", "31/02/2025 10:00:00.000", "01/12/2025 24:00:00.000",
     "01/13/2025 10:00:00.000", "01/12/2025 10:00:00", "01/12/1925 10:00:00.000"],
)  # fmt: skip
def test_parse_with_malformed_stamp_raises_naming_it(text: str) -> None:
    with pytest.raises(MalformedRecord, match="bad timestamp"):
        parse_dll_timestamp(text)


@given(st.integers(min_value=1, max_value=10**6), st.sampled_from(["5", "0.5", "0.01"]))
def test_exact_price_with_double_on_grid_is_the_exact_decimal(ticks: int, tick: str) -> None:
    grid = Decimal(tick)
    exact = ticks * grid

    assert exact_price(float(exact), grid) == exact


@pytest.mark.parametrize(
    ("value", "reason"),
    [(math.nan, "not finite"), (math.inf, "not finite"), (-5.0, "must be > 0"),
     (0.0, "must be > 0"), (187601.0, "not on the tick grid")],
)  # fmt: skip
def test_exact_price_with_bad_double_raises_with_reason(value: float, reason: str) -> None:
    with pytest.raises(MalformedRecord, match=reason):
        exact_price(value, Decimal(5))


@pytest.mark.parametrize(
    ("change", "reason"),
    [({"quantity": 0}, "bad volume"), ({"price": math.nan}, "bad price"),
     ({"price": -1.0}, "bad price"), ({"ticker": "WIN Z25"}, "unknown ticker format"),
     ({"ticker": ""}, "unknown ticker format"), ({"month": 13}, "bad timestamp"),
     ({"millisecond": 1000}, "bad timestamp"), ({"flags": 1}, "edited trade")],
)  # fmt: skip
def test_translate_with_malformed_record_raises_with_reason(
    change: dict[str, object], reason: str
) -> None:
    with pytest.raises(MalformedRecord, match=reason):
        translate_trade(replace(WIN_TRADE, **change))  # type: ignore[arg-type]


def test_translate_with_cross_trade_type_flags_cross_without_aggressor() -> None:
    trade = translate_trade(replace(WIN_TRADE, trade_type=1))

    assert trade.cross and trade.aggressor is Aggressor.NONE and not trade.counts_as_volume


trade_records = st.builds(
    TradeRecordCopy,
    ticker=st.sampled_from(["WINZ25", "WDOF26", "PETR4", "BOVA11", "WIN Z"]),
    exchange=st.just("F"),
    trade_number=st.integers(min_value=0, max_value=2**32 - 1),
    year=st.integers(min_value=1999, max_value=2101),
    month=st.integers(min_value=0, max_value=13),
    day=st.integers(min_value=0, max_value=32),
    hour=st.integers(min_value=0, max_value=25),
    minute=st.integers(min_value=0, max_value=61),
    second=st.integers(min_value=0, max_value=61),
    millisecond=st.integers(min_value=0, max_value=1001),
    price=st.one_of(st.floats(allow_nan=True), st.integers(1, 40_000).map(lambda n: n * 5.0)),
    quantity=st.integers(min_value=-1, max_value=10**6),
    volume=st.floats(allow_nan=False),
    buy_agent=st.integers(0, 1000),
    sell_agent=st.integers(0, 1000),
    trade_type=st.integers(0, 40),
    flags=st.sampled_from([0, 0, 1, 2]),
)


@given(trade_records)
def test_translator_with_any_record_agrees_with_translate_trade(record: TradeRecordCopy) -> None:
    translator = TradeTranslator()
    try:
        expected: object = translate_trade(record)
    except MalformedRecord as error:
        expected = type(error)
    try:
        actual: object = translator.translate(record)
    except MalformedRecord as error:
        actual = type(error)

    assert actual == expected


def test_raw_trade_with_struct_bytes_decodes_every_field() -> None:
    record = TradeRecord()
    record.TradeDate.wYear, record.TradeDate.wMonth, record.TradeDate.wDay = 2025, 12, 1
    record.TradeDate.wHour, record.TradeDate.wMilliseconds = 10, 999
    record.TradeNumber, record.Price, record.Quantity = 7, 127850.0, 4
    record.Volume, record.BuyAgent, record.SellAgent, record.TradeType = 9.5, 3, 72, 3

    decoded = RawTrade("WINZ25", "F", bytes(record), 2).decode()

    assert decoded == TradeRecordCopy(
        "WINZ25", "F", 7, 2025, 12, 1, 10, 0, 0, 999, 127850.0, 4, 9.5, 3, 72, 3, 2
    )


def test_dll_exchange_with_future_is_bmf_and_stock_is_bovespa() -> None:
    assert dll_exchange(Symbol("WINZ25")) == "F"
    assert dll_exchange(Symbol("WINFUT")) == "F"
    assert dll_exchange(Symbol("PETR4")) == "B"
