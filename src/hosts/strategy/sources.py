"""Where a backtest's trades come from: a recording, a store, or the seeded synthetic feed."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from adapters.eventstore import open_store
from adapters.recordings import read_recording
from tradingcore.application.backtest_tape import SymbolTrades, of_recorded
from tradingcore.domain.book import BookTop
from tradingcore.domain.book_tape import BookTopsRecorded
from tradingcore.domain.signal import SignalGenerated
from tradingcore.domain.tape import TradeColumns, TradesRecorded
from tradingcore.domain.values import Symbol
from tradingcore.ports.clock import ManualClock
from tradingcore.simulation.market import BRASILIA, synthetic_session
from tradingcore.strategy.api import SignalSeen

TOPICS: Final = tuple(
    f"{cls.__module__}:{cls.__qualname__}"
    for cls in (TradesRecorded, SignalGenerated, BookTopsRecorded)
)
PAGE: Final = 2_000
SourceEvent = TradesRecorded | SignalGenerated | BookTopsRecorded
SYNTHETIC_PRICES: Final = {"WIN": Decimal(127_850), "WDO": Decimal("5412.5")}
SYNTHETIC_BOOK_EVERY: Final = 10
"""As the capture host's synthetic feed: a book top before every 10th trade of a symbol."""


def parse_moment(text: str, *, end: bool = False) -> int:
    """Return epoch ms of `YYYY-MM-DD` (a Brasília session day; `end`: the day after) or an
    ISO date-time (UTC unless it names an offset)."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            if end:
                day += timedelta(days=1)
            moment = datetime.combine(day, time(0), tzinfo=BRASILIA)
        else:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"invalid time {text!r}: use YYYY-MM-DD or an ISO date-time") from None
    return int(moment.timestamp() * 1000)


def _events(source: Iterable[Any]) -> Iterator[SourceEvent]:
    for event in source:
        if isinstance(event, TradesRecorded | SignalGenerated | BookTopsRecorded):
            yield event


def recording_events(path: Path) -> Iterator[SourceEvent]:
    """Yield the trade batches and signals of a recording (its checksum verified first)."""
    decoder = open_store("memory://", ManualClock())
    try:
        for _, stored in read_recording(path):
            if stored.topic in TOPICS:
                yield from _events([decoder.mapper.to_domain_event(stored)])
    finally:
        decoder.close()


def store_events(url: str) -> Iterator[SourceEvent]:
    """Yield the trade batches and signals of a store, in log order."""
    app = open_store(url, ManualClock())
    try:
        position = 1
        while True:
            page = app.recorder.select_notifications(
                start=position, limit=PAGE, topics=list(TOPICS), inclusive_of_start=True
            )
            if not page:
                return
            yield from _events(app.mapper.to_domain_event(item) for item in page)
            position = page[-1].id + 1
    finally:
        app.close()


def split(
    events: Iterable[SourceEvent],
    *,
    symbols: Iterable[str] | None,
    start_ms: int | None,
    end_ms: int | None,
) -> tuple[dict[Symbol, SymbolTrades], list[SignalSeen], list[BookTop]]:
    """Return the selected trades per symbol, the signals on them in tick order, and the book
    tops of those symbols in time order."""
    batches: list[TradesRecorded] = []
    signals: list[SignalSeen] = []
    book_batches: list[BookTopsRecorded] = []
    for event in events:
        if isinstance(event, TradesRecorded):
            batches.append(event)
        elif isinstance(event, BookTopsRecorded):
            book_batches.append(event)
        else:
            signals.append(
                SignalSeen(
                    event.symbol,
                    event.direction,
                    event.confidence,
                    event.price,
                    event.tick_trade_id,
                    event.tick_timestamp_ms,
                    event.originator_id,
                    event.model_version,
                    dict(event.features),
                )
            )
    tapes = of_recorded(batches, symbols=symbols, start_ms=start_ms, end_ms=end_ms)
    kept = [
        signal
        for signal in signals
        if signal.symbol in tapes
        and (start_ms is None or signal.tick_timestamp_ms >= start_ms)
        and (end_ms is None or signal.tick_timestamp_ms < end_ms)
    ]
    kept.sort(key=lambda signal: (signal.tick_timestamp_ms, signal.symbol.full_symbol))
    books = [
        book
        for batch in book_batches
        if batch.symbol in tapes
        for book in batch.books()
        if (start_ms is None or book.timestamp_ms >= start_ms)
        and (end_ms is None or book.timestamp_ms < end_ms)
    ]
    books.sort(key=lambda book: (book.timestamp_ms, book.symbol.full_symbol))  # stable
    return tapes, kept, books


def synthetic_tapes(
    symbols: Iterable[str], *, seed: int, trades: int
) -> dict[Symbol, SymbolTrades]:
    """Return the seeded synthetic session of each symbol (the capture host's feed)."""
    return synthetic_source(symbols, seed=seed, trades=trades)[0]


def synthetic_source(
    symbols: Iterable[str], *, seed: int, trades: int, book_every: int = SYNTHETIC_BOOK_EVERY
) -> tuple[dict[Symbol, SymbolTrades], list[BookTop]]:
    """Return the seeded synthetic session of each symbol and the book tops the capture host
    would store from it (a top before every `book_every`-th trade, changes only), in time
    order."""
    tapes: dict[Symbol, SymbolTrades] = {}
    books: list[BookTop] = []
    for index, ticker in enumerate(symbols):
        symbol = Symbol(ticker.upper())
        start = SYNTHETIC_PRICES.get(symbol.ticker[:3], Decimal(100))
        columns = TradeColumns()
        last: BookTop | None = None
        events = synthetic_session(symbol, seed=seed + index, trades=trades, start_price=start)
        for count, event in enumerate(events):
            columns.append(event.trade)
            book = event.book
            if count % book_every == 0 and (last is None or _top_of(book) != _top_of(last)):
                books.append(book)
                last = book
        tapes[symbol] = SymbolTrades.of_columns(symbol, columns)
    books.sort(key=lambda book: (book.timestamp_ms, book.symbol.full_symbol))  # stable
    return tapes, books


def _top_of(book: BookTop) -> tuple[Decimal, int, Decimal, int]:
    return (book.bid_price, book.bid_quantity, book.ask_price, book.ask_quantity)
