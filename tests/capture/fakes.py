"""An in-memory feed of our own port, driven by the test's thread."""

from __future__ import annotations

from tradingcore.domain.book import BookTop
from tradingcore.domain.tape import Trade
from tradingcore.domain.values import Symbol
from tradingcore.ports.market_data import ConnectionState, FeedListener


class FakeFeed:
    """A `MarketDataFeed` whose records the test pushes by hand."""

    def __init__(self) -> None:
        self.listener: FeedListener | None = None
        self.subscribed: list[Symbol] = []
        self.starts = 0
        self.stops = 0

    def start(self, listener: FeedListener) -> None:
        self.listener = listener
        self.starts += 1

    def subscribe(self, symbol: Symbol) -> None:
        self.subscribed.append(symbol)

    def stop(self) -> None:
        self.stops += 1

    def connect(self) -> None:
        self.state(ConnectionState(True, True, False, "connected"))

    def state(self, state: ConnectionState) -> None:
        assert self.listener is not None
        self.listener.on_state(state)

    def trade(self, trade: Trade) -> None:
        assert self.listener is not None
        self.listener.on_trade(trade)

    def book(self, book: BookTop) -> None:
        assert self.listener is not None
        self.listener.on_book(book)

    def invalid(self, reason: str, record: object) -> None:
        assert self.listener is not None
        self.listener.on_invalid(reason, record)
