"""A seeded synthetic market behind the feed port: the host runs anywhere, reproducibly."""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Final

from adapters.feeds.pacing import Pacer
from adapters.feeds.replay import Record, ReplayFeed
from tradingcore.domain.values import Symbol
from tradingcore.simulation.market import MarketEvent, synthetic_session

START_PRICES: Final = {"WIN": Decimal(127_850), "IND": Decimal(127_850), "WDO": Decimal("5412.5")}
DEFAULT_START_PRICE: Final = Decimal(40)
DEFAULT_SESSION: Final = date(2025, 12, 1)


class SyntheticFeed(ReplayFeed):
    """Trades and book tops of `trades` prints per symbol, merged in time order.

    Symbol number i uses seed `seed + i`, so each symbol's stream is reproducible on its own.
    A book top is emitted before every `book_every`-th trade of a symbol.
    """

    name = "synthetic"

    def __init__(
        self,
        symbols: Sequence[Symbol],
        *,
        seed: int = 7,
        trades: int = 20_000,
        session: date = DEFAULT_SESSION,
        book_every: int = 10,
        pacer: Pacer | None = None,
    ) -> None:
        super().__init__(pacer)
        if not symbols:
            raise ValueError("the synthetic source needs at least one symbol")
        if trades < 0:
            raise ValueError(f"trades per symbol {trades} must be >= 0")
        if book_every < 1:
            raise ValueError(f"book_every {book_every} must be >= 1")
        for symbol in symbols:
            self.subscribe(symbol)
        self.seed = seed
        self.trades = trades
        self.session = session
        self.book_every = book_every

    def records(self) -> Iterator[Record]:
        streams = [
            synthetic_session(
                symbol,
                seed=self.seed + index,
                session=self.session,
                trades=self.trades,
                start_price=START_PRICES.get(symbol.root, DEFAULT_START_PRICE),
            )
            for index, symbol in enumerate(self.symbols)
        ]
        merged: Iterator[MarketEvent] = heapq.merge(
            *streams, key=lambda event: event.trade.timestamp_ms
        )
        counts: dict[Symbol, int] = {}
        for event in merged:
            count = counts.get(event.trade.symbol, 0)
            counts[event.trade.symbol] = count + 1
            if count % self.book_every == 0:
                yield event.book
            yield event.trade
