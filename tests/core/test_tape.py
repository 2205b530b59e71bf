"""The market tape: unique ids, non-decreasing time, the band, batches in columns."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.core.factories import AT, WIN
from tradingcore.domain.errors import InvalidTrade
from tradingcore.domain.tape import MarketTape, Trade, TradeColumns, TradesRecorded
from tradingcore.domain.values import Aggressor

SESSION = date(2025, 12, 1)


def columns(*trades: Trade) -> TradeColumns:
    batch = TradeColumns()
    for trade in trades:
        batch.append(trade)
    return batch


def trade(trade_id: int, ts: int = 1_000, price: int = 127_850, **kwargs: object) -> Trade:
    return Trade(WIN, trade_id, ts, Decimal(price), 1, **kwargs)  # type: ignore[arg-type]


def tape() -> MarketTape:
    return MarketTape.open(WIN, SESSION, AT, band_fraction=Decimal("0.1"))


def test_record_with_many_trades_in_one_millisecond_is_accepted() -> None:
    event = tape().record(columns(trade(1, 5), trade(2, 5), trade(3, 5)), AT)
    assert event.timestamps_ms == (5, 5, 5)


def test_record_with_time_going_back_is_rejected_naming_the_trade() -> None:
    with pytest.raises(InvalidTrade, match=r"invalid trade 2 .* timestamp 4 is before"):
        tape().record(columns(trade(1, 5), trade(2, 4)), AT)


def test_record_with_trade_id_seen_in_an_earlier_batch_is_rejected() -> None:
    market = tape()
    market.record(columns(trade(10)), AT)
    with pytest.raises(InvalidTrade, match="duplicate trade id"):
        market.record(columns(trade(10, 2_000)), AT)


def test_record_with_trade_ids_out_of_numeric_order_is_accepted() -> None:
    event = tape().record(columns(trade(30, 1), trade(20, 2)), AT)
    assert event.trade_ids == (30, 20)


def test_record_with_price_outside_the_band_is_rejected_and_changes_nothing() -> None:
    market = tape()
    market.record(columns(trade(1, price=100_000)), AT)
    version = market.version
    with pytest.raises(InvalidTrade, match="outside the band"):
        market.record(columns(trade(2, 2_000, price=111_000)), AT)
    assert market.version == version
    assert market.trade_count == 1


def test_cancelled_and_cross_trades_are_kept_and_marked() -> None:
    event = tape().record(
        columns(trade(1, cancelled=True), trade(2, cross=True), trade(3, aggressor=Aggressor.SELL)),
        AT,
    )
    recovered = list(event.trades())
    assert [t.cancelled for t in recovered] == [True, False, False]
    assert [t.cross for t in recovered] == [False, True, False]
    assert not recovered[0].counts_as_volume
    assert recovered[2].aggressor is Aggressor.SELL


@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(-40, 40), st.integers(1, 50)),
        min_size=1,
        max_size=200,
    )
)
def test_recorded_batch_round_trips_every_trade(steps: list[tuple[int, int, int]]) -> None:
    trades, ts, price = [], 1_700_000_000_000, 127_850
    for index, (gap, move, volume) in enumerate(steps):
        ts += gap
        price += move * 5
        trades.append(Trade(WIN, index * 10, ts, Decimal(price), volume, Aggressor.BUY))
    market = tape()
    event = market.record(columns(*trades), AT)
    assert list(event.trades()) == trades
    assert MarketTape.rehydrate(market.id, market.collect_events()) == market


def test_trades_recorded_holds_the_batch_position_on_the_tape() -> None:
    market = tape()
    market.record(columns(trade(1), trade(2)), AT)
    second = market.record(columns(trade(3)), AT)
    assert isinstance(second, TradesRecorded)
    assert second.first_sequence == 2


@given(
    st.lists(
        st.tuples(
            st.integers(0, 30), st.integers(-2, 3), st.integers(90_000, 120_000), st.integers(-1, 5)
        ),
        min_size=1,
        max_size=30,
    ),
    st.sampled_from([None, Decimal("0.1")]),
)
def test_bulk_check_and_trade_by_trade_check_agree(
    rows: list[tuple[int, int, int, int]], band: Decimal | None
) -> None:
    market = MarketTape.open(WIN, SESSION, AT, band_fraction=band)
    market.record(columns(trade(1_000, 100, price=100_000)), AT)
    batch = TradeColumns()
    ts = 100
    for trade_id, step, price, volume in rows:
        ts += step
        batch.trade_ids.append(trade_id)
        batch.timestamps_ms.append(ts)
        batch.prices.append(price * 10_000)
        batch.volumes.append(volume)
        batch.aggressors.append("B")
        batch.flags.append(0)
    admission = market.admission()
    one_by_one = all(
        admission.admit(*row) is None
        for row in zip(
            batch.trade_ids, batch.timestamps_ms, batch.prices, batch.volumes, strict=True
        )
    )
    assert market._passes_in_bulk(batch) == one_by_one
    if not one_by_one:
        with pytest.raises(InvalidTrade) as error:
            market.record(batch, AT)
        assert error.value.row is not None
        assert batch.trade_ids[error.value.row] == error.value.trade_id
