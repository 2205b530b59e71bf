"""Book tops per symbol and session, recorded in batches beside the trade tape.

The capture host records the top of the book (best bid and ask with their quantities) as the
feed gives it, keeping only changes: an update equal to the last recorded top is not stored.
A backtest replays them in time order with the trades (a top at the same millisecond as a
trade goes first), so strategies' `on_book` and the simulated venue's queue model see what
the market showed.

Rules: times never go back within a session; quantities are 0 or more (0: that side is
empty, and then its price is 0); a side with a quantity has a price above 0. A crossed or
locked top (bid at or above ask) is kept: B3's books cross during auctions, and the feed's
word is what a replay must show.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final

from tradingcore.domain.aggregate import AggregateRoot, DomainEvent
from tradingcore.domain.book import BookTop
from tradingcore.domain.errors import DomainError
from tradingcore.domain.timestamps import MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS
from tradingcore.domain.values import Symbol, deterministic_id, price_to_units, units_to_price

MAX_QUANTITY: Final = 2**31 - 1
MAX_PRICE_UNITS: Final = 2**62


class InvalidBookTop(DomainError):
    """A book top breaks a rule of the book tape (time going back, a negative quantity...)."""


def book_tape_id(symbol: Symbol, session: date) -> uuid.UUID:
    return deterministic_id("book-tape", symbol.full_symbol, session.isoformat())


@dataclass(slots=True)
class BookColumns:
    """Book tops in column form: prices in integer units (values.PRICE_SCALE)."""

    timestamps_ms: list[int] = field(default_factory=list)
    bid_prices: list[int] = field(default_factory=list)
    bid_quantities: list[int] = field(default_factory=list)
    ask_prices: list[int] = field(default_factory=list)
    ask_quantities: list[int] = field(default_factory=list)

    def append(self, book: BookTop) -> None:
        """Add one top; a price finer than the price scale raises InvalidPrice."""
        self.timestamps_ms.append(book.timestamp_ms)
        self.bid_prices.append(price_to_units(book.bid_price))
        self.bid_quantities.append(book.bid_quantity)
        self.ask_prices.append(price_to_units(book.ask_price))
        self.ask_quantities.append(book.ask_quantity)

    def row(self, index: int) -> tuple[int, int, int, int, int]:
        return (
            self.timestamps_ms[index],
            self.bid_prices[index],
            self.bid_quantities[index],
            self.ask_prices[index],
            self.ask_quantities[index],
        )

    def __len__(self) -> int:
        return len(self.timestamps_ms)


@dataclass(frozen=True, kw_only=True)
class BookTapeEvent(DomainEvent):
    def apply(self, aggregate: BookTape) -> None:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class BookTapeOpened(BookTapeEvent):
    symbol: Symbol
    session: date

    def apply(self, aggregate: BookTape) -> None:
        aggregate.symbol = self.symbol
        aggregate.session = self.session


@dataclass(frozen=True, kw_only=True)
class BookTopsRecorded(BookTapeEvent):
    """A batch of book tops of one symbol, in column form."""

    symbol: Symbol
    timestamps_ms: tuple[int, ...]
    bid_prices: tuple[int, ...]
    bid_quantities: tuple[int, ...]
    ask_prices: tuple[int, ...]
    ask_quantities: tuple[int, ...]

    def apply(self, aggregate: BookTape) -> None:
        if self.timestamps_ms:
            aggregate.last_timestamp_ms = self.timestamps_ms[-1]
            aggregate.top_count += len(self.timestamps_ms)

    def books(self) -> Iterator[BookTop]:
        """Yield the batch as BookTop values."""
        for stamp, bid, bid_quantity, ask, ask_quantity in zip(
            self.timestamps_ms,
            self.bid_prices,
            self.bid_quantities,
            self.ask_prices,
            self.ask_quantities,
            strict=True,
        ):
            yield BookTop(
                self.symbol,
                stamp,
                units_to_price(bid),
                bid_quantity,
                units_to_price(ask),
                ask_quantity,
            )

    def __len__(self) -> int:
        return len(self.timestamps_ms)


class BookTape(AggregateRoot[BookTapeEvent]):
    """The book tops of one symbol in one session."""

    def _reset(self) -> None:
        self.symbol = Symbol("WINZ25")
        self.session = date(1970, 1, 1)
        self.last_timestamp_ms = -1
        self.top_count = 0

    @classmethod
    def open(cls, symbol: Symbol, session: date, at: datetime) -> BookTape:
        tape = cls.__new__(cls)
        AggregateRoot.__init__(tape, book_tape_id(symbol, session))
        tape._reset()
        tape._trigger(BookTapeOpened, at, symbol=symbol, session=session)
        return tape

    def record(self, books: BookColumns, at: datetime) -> BookTopsRecorded:
        """Validate a batch against the rules and record it as one event."""
        self._check(books)
        return self._trigger(
            BookTopsRecorded,
            at,
            symbol=self.symbol,
            timestamps_ms=tuple(books.timestamps_ms),
            bid_prices=tuple(books.bid_prices),
            bid_quantities=tuple(books.bid_quantities),
            ask_prices=tuple(books.ask_prices),
            ask_quantities=tuple(books.ask_quantities),
        )

    def _check(self, books: BookColumns) -> None:
        ticker = self.symbol.ticker
        if not len(books):
            raise InvalidBookTop(f"empty book batch for {ticker}")
        columns = (
            books.timestamps_ms,
            books.bid_prices,
            books.bid_quantities,
            books.ask_prices,
            books.ask_quantities,
        )
        if len({len(column) for column in columns}) != 1:
            raise InvalidBookTop(f"book batch for {ticker}: columns differ in length")
        last = self.last_timestamp_ms
        for index in range(len(books)):
            stamp = books.timestamps_ms[index]
            problem = row_problem(*books.row(index))
            if problem is None and stamp < last:
                problem = f"time goes back (last top at {last})"
            if problem is not None:
                raise InvalidBookTop(f"book top {index} of {ticker} at {stamp}: {problem}")
            last = stamp


def row_problem(stamp: int, bid: int, bid_quantity: int, ask: int, ask_quantity: int) -> str | None:
    """Return what is wrong with one book top (prices in units), or None."""
    if not MIN_TIMESTAMP_MS <= stamp <= MAX_TIMESTAMP_MS:
        return "time outside the plausible range"
    for side, price, quantity in (("bid", bid, bid_quantity), ("ask", ask, ask_quantity)):
        if not 0 <= quantity <= MAX_QUANTITY:
            return f"{side} quantity {quantity} out of range"
        if not 0 <= price <= MAX_PRICE_UNITS:
            return f"{side} price units {price} out of range"
        if quantity and not price:
            return f"{side} quantity {quantity} at no price"
    return None
