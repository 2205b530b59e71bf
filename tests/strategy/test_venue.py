"""The simulated venue: fills strictly after the decision, latency, volume, limits, cancels."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tradingcore.domain.book import BookTop
from tradingcore.domain.tape import Trade
from tradingcore.domain.values import MARKET_PRICE_MARKER, Aggressor, Side, Symbol
from tradingcore.ports.broker import BrokerOrder
from tradingcore.ports.clock import ManualClock
from tradingcore.simulation.venue import SimulatedVenue, VenueConfig

WIN = Symbol("WINZ25")
START = 1_764_590_400_000


class Listener:
    def __init__(self) -> None:
        self.events: list[tuple[object, ...]] = []

    def on_order_accepted(self, order_id: uuid.UUID, venue_order_id: str) -> None:
        self.events.append(("accepted", order_id))

    def on_order_rejected(self, order_id: uuid.UUID, reason_code: str, reason: str) -> None:
        self.events.append(("rejected", order_id))

    def on_order_filled(
        self, order_id: uuid.UUID, trade_id: int, price: Decimal, quantity: int
    ) -> None:
        self.events.append(("filled", order_id, trade_id, price, quantity))

    def on_order_canceled(self, order_id: uuid.UUID, reason: str) -> None:
        self.events.append(("canceled", order_id))

    def fills(self) -> list[tuple[object, ...]]:
        return [event[1:] for event in self.events if event[0] == "filled"]


def trade(trade_id: int, at_ms: int, price: int, volume: int) -> Trade:
    return Trade(WIN, trade_id, START + at_ms, Decimal(price), volume, Aggressor.BUY)


def order(side: Side, quantity: int, price: Decimal = MARKET_PRICE_MARKER) -> BrokerOrder:
    return BrokerOrder(uuid.uuid4(), "acct", WIN, side, quantity, price)


def venue_at(config: VenueConfig | None = None) -> tuple[SimulatedVenue, ManualClock, Listener]:
    clock = ManualClock(datetime(2025, 1, 1, tzinfo=UTC))
    venue = SimulatedVenue(clock, config)
    listener = Listener()
    venue.connect(listener)
    return venue, clock, listener


def show(venue: SimulatedVenue, clock: ManualClock, item: Trade) -> None:
    clock.set_epoch_ms(item.timestamp_ms)
    venue.on_trade(item)


def test_market_order_fills_at_the_next_trade_never_the_one_it_was_decided_on() -> None:
    venue, clock, listener = venue_at()
    show(venue, clock, trade(10, 0, 127_000, 5))
    buy = order(Side.BUY, 2)
    venue.send(buy)
    show(venue, clock, trade(20, 0, 127_005, 5))  # same millisecond, a later print
    assert listener.fills() == [(buy.order_id, 20, Decimal(127_005), 2)]


def test_market_order_walks_printed_volume_over_several_trades() -> None:
    venue, clock, listener = venue_at()
    show(venue, clock, trade(10, 0, 127_000, 5))
    buy = order(Side.BUY, 5)
    venue.send(buy)
    show(venue, clock, trade(20, 1, 127_005, 2))
    show(venue, clock, trade(30, 2, 127_010, 4))
    assert listener.fills() == [
        (buy.order_id, 20, Decimal(127_005), 2),
        (buy.order_id, 30, Decimal(127_010), 3),
    ]
    assert not venue.has_working_orders


def test_latency_skips_trades_printed_before_the_order_arrives() -> None:
    venue, clock, listener = venue_at(VenueConfig(latency_ms=50))
    show(venue, clock, trade(10, 0, 127_000, 5))
    sell = order(Side.SELL, 1)
    venue.send(sell)
    show(venue, clock, trade(20, 49, 127_005, 5))
    show(venue, clock, trade(30, 50, 126_995, 5))
    assert listener.fills() == [(sell.order_id, 30, Decimal(126_995), 1)]


def test_one_trade_volume_is_shared_first_sent_first_served() -> None:
    venue, clock, listener = venue_at()
    show(venue, clock, trade(10, 0, 127_000, 5))
    first, second = order(Side.BUY, 2), order(Side.BUY, 2)
    venue.send(first)
    venue.send(second)
    show(venue, clock, trade(20, 1, 127_000, 3))
    assert listener.fills() == [
        (first.order_id, 20, Decimal(127_000), 2),
        (second.order_id, 20, Decimal(127_000), 1),
    ]


@pytest.mark.parametrize(
    ("model", "fills_at_touch"), [("touch", True), ("through", False), ("queue", False)]
)
def test_limit_fill_models_at_the_limit_price(model: str, fills_at_touch: bool) -> None:
    venue, clock, listener = venue_at(VenueConfig(limit_fill=model))  # type: ignore[arg-type]
    venue.on_book(BookTop(WIN, START, Decimal(126_995), 10, Decimal(127_000), 4))
    show(venue, clock, trade(10, 0, 127_000, 5))
    buy = order(Side.BUY, 1, Decimal(126_995))
    venue.send(buy)
    show(venue, clock, trade(20, 1, 127_000, 5))  # above the limit: never
    show(venue, clock, trade(30, 2, 126_995, 6))  # at it: queue has 10 ahead
    expected = [(buy.order_id, 30, Decimal(126_995), 1)] if fills_at_touch else []
    assert listener.fills() == expected


def test_queue_model_fills_once_the_queue_ahead_has_traded() -> None:
    venue, clock, listener = venue_at(VenueConfig(limit_fill="queue"))
    venue.on_book(BookTop(WIN, START, Decimal(126_995), 10, Decimal(127_000), 4))
    show(venue, clock, trade(10, 0, 127_000, 5))
    buy = order(Side.BUY, 3, Decimal(126_995))
    venue.send(buy)
    show(venue, clock, trade(20, 1, 126_995, 6))  # 4 of the 10 ahead left
    show(venue, clock, trade(30, 2, 126_995, 5))  # 4 to the queue, 1 to us
    show(venue, clock, trade(40, 3, 126_990, 9))  # through the price: the rest
    assert listener.fills() == [
        (buy.order_id, 30, Decimal(126_995), 1),
        (buy.order_id, 40, Decimal(126_990), 2),
    ]


def test_cancel_takes_effect_after_the_latency_and_fills_before_it_count() -> None:
    venue, clock, listener = venue_at(VenueConfig(latency_ms=10))
    show(venue, clock, trade(10, 0, 127_000, 5))
    buy = order(Side.BUY, 3, Decimal(127_000))
    venue.send(buy)
    show(venue, clock, trade(20, 10, 127_000, 1))
    venue.cancel(buy.order_id)  # at +10 ms: effective at +20 ms
    show(venue, clock, trade(30, 15, 127_000, 1))
    show(venue, clock, trade(40, 20, 127_000, 1))
    assert listener.fills() == [
        (buy.order_id, 20, Decimal(127_000), 1),
        (buy.order_id, 30, Decimal(127_000), 1),
    ]
    assert listener.events[-1] == ("canceled", buy.order_id)


def test_cancelled_trades_fill_nothing() -> None:
    venue, clock, listener = venue_at()
    show(venue, clock, trade(10, 0, 127_000, 5))
    venue.send(order(Side.BUY, 1))
    cancelled = Trade(WIN, 20, START + 1, Decimal(127_000), 5, Aggressor.BUY, cancelled=True)
    show(venue, clock, cancelled)
    assert listener.fills() == []


def test_invalid_config_names_the_value() -> None:
    with pytest.raises(ValueError, match="latency -1 ms"):
        VenueConfig(latency_ms=-1)
    with pytest.raises(ValueError, match="limit fill model 'mid'"):
        VenueConfig(limit_fill="mid")  # type: ignore[arg-type]
