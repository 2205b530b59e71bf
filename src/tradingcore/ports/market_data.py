"""The market-data port: a feed pushes trades, book tops and connection states to a listener."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tradingcore.domain.book import BookTop
from tradingcore.domain.tape import Trade
from tradingcore.domain.values import Symbol


@dataclass(frozen=True, slots=True)
class ConnectionState:
    """Where a feed's connection stands: login, market data and order routing."""

    login: bool
    market_data: bool
    routing: bool
    detail: str = ""

    @property
    def healthy(self) -> bool:
        return self.login and self.market_data


class FeedListener(Protocol):
    def on_trade(self, trade: Trade) -> None: ...

    def on_book(self, book: BookTop) -> None: ...

    def on_state(self, state: ConnectionState) -> None: ...

    def on_invalid(self, reason: str, record: object) -> None:
        """A record from the feed was malformed or out of order: count and log it."""
        ...


class MarketDataFeed(Protocol):
    """A source of market data: ProfitDLL, a recording, or a synthetic market."""

    def start(self, listener: FeedListener) -> None: ...

    def subscribe(self, symbol: Symbol) -> None: ...

    def stop(self) -> None: ...
