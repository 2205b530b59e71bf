"""Top of the order book: what `book_delta` is computed from."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tradingcore.domain.values import Symbol


@dataclass(frozen=True, slots=True)
class BookTop:
    """Best bid and ask with their quantities at one moment (UTC epoch ms)."""

    symbol: Symbol
    timestamp_ms: int
    bid_price: Decimal
    bid_quantity: int
    ask_price: Decimal
    ask_quantity: int

    @property
    def delta(self) -> int:
        """Ask quantity minus bid quantity: the spec's `book_delta`."""
        return self.ask_quantity - self.bid_quantity
