"""The paper broker: acknowledgements, fills against the tape, cancels, restarts."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from adapters.broker.paper import BrokerNotConnected, PaperBroker
from tradingcore.domain.tape import Trade
from tradingcore.domain.values import MARKET_PRICE_MARKER, Aggressor, Side, Symbol
from tradingcore.ports.broker import BrokerOrder

WIN = Symbol("WINZ25")


class Listener:
    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def on_order_accepted(self, order_id: uuid.UUID, venue_order_id: str) -> None:
        self.events.append(("accepted", order_id, venue_order_id))

    def on_order_rejected(self, order_id: uuid.UUID, reason_code: str, reason: str) -> None:
        self.events.append(("rejected", order_id, reason_code))

    def on_order_filled(
        self, order_id: uuid.UUID, trade_id: int, price: Decimal, quantity: int
    ) -> None:
        self.events.append(("filled", order_id, trade_id, price, quantity))

    def on_order_canceled(self, order_id: uuid.UUID, reason: str) -> None:
        self.events.append(("canceled", order_id))


def order(side: Side = Side.BUY, quantity: int = 1, price: int | Decimal = MARKET_PRICE_MARKER):
    return BrokerOrder(uuid.uuid4(), "alice", WIN, side, quantity, Decimal(price))


def trade(trade_id: int, price: int, volume: int = 10, cancelled: bool = False) -> Trade:
    return Trade(WIN, trade_id, 0, Decimal(price), volume, Aggressor.BUY, cancelled=cancelled)


@pytest.fixture
def venue() -> tuple[PaperBroker, Listener]:
    broker, listener = PaperBroker(), Listener()
    broker.connect(listener)
    return broker, listener


def test_send_acknowledges_at_once_and_only_once(venue: tuple[PaperBroker, Listener]) -> None:
    broker, listener = venue
    sent = order()

    broker.send(sent)
    broker.send(sent)

    assert listener.events == [("accepted", sent.order_id, f"paper-{sent.order_id.hex}")]


def test_market_order_fills_at_the_next_trade_up_to_its_volume(
    venue: tuple[PaperBroker, Listener],
) -> None:
    broker, listener = venue
    sent = order(quantity=5)
    broker.send(sent)

    broker.on_trade(trade(1, 127_850, volume=3))
    broker.on_trade(trade(2, 127_855, volume=3))

    assert listener.events[1:] == [
        ("filled", sent.order_id, 1, Decimal(127_850), 3),
        ("filled", sent.order_id, 2, Decimal(127_855), 2),
    ]
    assert broker.working_orders == []


def test_sell_limit_fills_only_at_or_above_its_price(venue: tuple[PaperBroker, Listener]) -> None:
    broker, listener = venue
    sent = order(Side.SELL, price=127_900)
    broker.send(sent)

    broker.on_trade(trade(1, 127_895))
    broker.on_trade(trade(2, 127_905))

    assert listener.events[1:] == [("filled", sent.order_id, 2, Decimal(127_905), 1)]


def test_cancelled_trades_fill_nothing(venue: tuple[PaperBroker, Listener]) -> None:
    broker, listener = venue
    broker.send(order())

    assert broker.on_trade(trade(1, 127_850, cancelled=True)) == []
    assert len(listener.events) == 1


def test_cancel_reports_canceled_even_for_orders_it_does_not_work(
    venue: tuple[PaperBroker, Listener],
) -> None:
    broker, listener = venue
    sent, unknown = order(price=127_800), uuid.uuid4()
    broker.send(sent)

    broker.cancel(sent.order_id)
    broker.cancel(unknown)
    broker.on_trade(trade(1, 127_700))

    assert [event[0] for event in listener.events] == ["accepted", "canceled", "canceled"]


def test_resumed_order_fills_after_a_restart() -> None:
    broker, listener = PaperBroker(), Listener()
    broker.connect(listener)
    sent = order(quantity=4)

    broker.resume(sent, remaining=1)
    broker.on_trade(trade(7, 127_850))

    assert listener.events == [("filled", sent.order_id, 7, Decimal(127_850), 1)]


def test_send_before_connect_raises_naming_it() -> None:
    with pytest.raises(BrokerNotConnected, match="not connected"):
        PaperBroker().send(order())
