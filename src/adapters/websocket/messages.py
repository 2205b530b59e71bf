"""The spec's WebSocket messages (section 6.1), validated at the boundary with pydantic.

Strict: a price or volume sent as a string (`"127850.0"`) is refused as `invalid_message`, never
coerced; an integer is a valid price, a float is not a valid volume.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tradingcore.domain.book import BookTop
from tradingcore.domain.tape import Trade
from tradingcore.domain.values import Aggressor, Symbol, to_decimal


class TickMessage(BaseModel):
    """`{"type":"trade","symbol":"WINZ25","price":127850.0,"volume":5,"aggressor":"B",
    "timestamp":1704459615123}`; `trade_id` is our optional extension (the tape's id)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    type: Literal["trade"] = "trade"
    symbol: str = Field(min_length=1, max_length=20)
    price: float = Field(gt=0)
    volume: int = Field(gt=0)
    aggressor: Literal["B", "S", "N"]
    timestamp: int = Field(ge=0, description="UTC epoch milliseconds")
    trade_id: int | None = None

    @field_validator("price")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("price must be finite")
        return value

    @classmethod
    def from_trade(cls, trade: Trade) -> TickMessage:
        return cls(
            symbol=trade.symbol.ticker,
            price=float(trade.price),
            volume=trade.volume,
            aggressor=trade.aggressor.value,
            timestamp=trade.timestamp_ms,
            trade_id=trade.trade_id,
        )

    def to_trade(self, trade_id: int) -> Trade:
        """Return the domain trade (raises a DomainError on a bad symbol)."""
        return Trade(
            Symbol(self.symbol),
            self.trade_id if self.trade_id is not None else trade_id,
            self.timestamp,
            to_decimal(self.price, "price"),
            self.volume,
            Aggressor(self.aggressor),
        )


class BookMessage(BaseModel):
    """Our extension for the top of the book: `{"type":"book", ...}`."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    type: Literal["book"] = "book"
    symbol: str = Field(min_length=1, max_length=20)
    bid_price: float = Field(gt=0)
    bid_quantity: int = Field(ge=0)
    ask_price: float = Field(gt=0)
    ask_quantity: int = Field(ge=0)
    timestamp: int = Field(ge=0)

    @classmethod
    def from_book(cls, book: BookTop) -> BookMessage:
        return cls(
            symbol=book.symbol.ticker,
            bid_price=float(book.bid_price),
            bid_quantity=book.bid_quantity,
            ask_price=float(book.ask_price),
            ask_quantity=book.ask_quantity,
            timestamp=book.timestamp_ms,
        )

    def to_book(self) -> BookTop:
        return BookTop(
            Symbol(self.symbol),
            self.timestamp,
            to_decimal(self.bid_price, "bid price"),
            self.bid_quantity,
            to_decimal(self.ask_price, "ask price"),
            self.ask_quantity,
        )
