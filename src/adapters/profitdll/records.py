"""Plain copies of ProfitDLL callback data: what callbacks enqueue and translation reads."""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass
from typing import Final

TRADE_LAYOUT: Final = struct.Struct("<Bx8HxxIdqdiiB7x")
"""TConnectorTrade's 64 bytes: version, date, number, price, quantity, volume, agents, type."""


@dataclass(frozen=True, slots=True)
class StateRecord:
    """TStateCallback: a connection state type (0 login, 1 routing, 2 market, 3 activation)."""

    state_type: int
    result: int


@dataclass(frozen=True, slots=True)
class TradeRecordCopy:
    """A TConnectorTrade copied inside the V2 trade callback; the date is Brasília local time."""

    ticker: str
    exchange: str
    trade_number: int
    year: int
    month: int
    day: int
    hour: int
    minute: int
    second: int
    millisecond: int
    price: float
    quantity: int
    volume: float
    buy_agent: int
    sell_agent: int
    trade_type: int
    flags: int = 0


@dataclass(frozen=True, slots=True)
class RawTrade:
    """A TConnectorTrade as the callback copied it: the struct's bytes (a cheap memcpy)."""

    ticker: str
    exchange: str
    payload: bytes
    flags: int

    def decode(self) -> TradeRecordCopy:
        (_, year, month, _, day, hour, minute, second, millisecond, number, price, quantity,
         volume, buy_agent, sell_agent, trade_type) = TRADE_LAYOUT.unpack(self.payload)  # fmt: skip
        return TradeRecordCopy(
            self.ticker,
            self.exchange,
            number,
            year,
            month,
            day,
            hour,
            minute,
            second,
            millisecond,
            price,
            quantity,
            volume,
            buy_agent,
            sell_agent,
            trade_type,
            self.flags,
        )


@dataclass(frozen=True, slots=True)
class OfferBookRecord:
    """TOfferBookCallbackV2 arguments; full-book arrays copied as bytes before FreePointer."""

    ticker: str
    exchange: str
    action: int
    position: int
    side: int
    quantity: int
    agent: int
    offer_id: int
    price: float
    has_price: bool
    has_quantity: bool
    has_date: bool
    date: str | None
    sell_array: bytes | None = None
    buy_array: bytes | None = None


@dataclass(frozen=True, slots=True)
class InvalidTickerRecord:
    """TInvalidTickerCallback: the DLL does not know a subscribed ticker."""

    ticker: str
    exchange: str


@dataclass(frozen=True, slots=True)
class OrderDetails:
    """A copy of TConnectorOrderOut, read with the two-call protocol in the order callback."""

    local_order_id: int
    client_order_id: str
    account: str
    ticker: str
    exchange: str
    quantity: int
    traded_quantity: int
    leaves_quantity: int
    price: float
    average_price: float
    side: int
    order_type: int
    status: int
    text: str


@dataclass(frozen=True, slots=True)
class TradingMessageRecord:
    """TConnectorTradingMessageResult: the routing pipeline's answer to one request."""

    local_order_id: int
    message_id: int
    result_code: int
    message: str


@dataclass(frozen=True, slots=True)
class SendRejected:
    """A send the DLL refused synchronously, queued so it arrives like any other rejection."""

    order_id: uuid.UUID
    code_name: str
    reason: str


@dataclass(frozen=True, slots=True)
class CallbackFailure:
    """A callback could not copy its data (an accessor failed); reported, never raised."""

    callback: str
    reason: str


DLLRecord = (
    StateRecord
    | TradeRecordCopy
    | RawTrade
    | OfferBookRecord
    | InvalidTickerRecord
    | OrderDetails
    | TradingMessageRecord
    | SendRejected
    | CallbackFailure
)
