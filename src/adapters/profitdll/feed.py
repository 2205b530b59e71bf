"""ProfitDLLFeed: the MarketDataFeed port over ProfitDLL (trades V2, offer book V2, states)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from adapters.clock import SystemClock
from adapters.profitdll.binding import Credentials
from adapters.profitdll.errors import MalformedRecord, ProfitDLLError
from adapters.profitdll.offerbook import OfferBook, Top
from adapters.profitdll.records import (
    CallbackFailure,
    DLLRecord,
    InvalidTickerRecord,
    OfferBookRecord,
    RawTrade,
    TradeRecordCopy,
)
from adapters.profitdll.session import ProfitDLLSession
from adapters.profitdll.translate import (
    TradeTranslator,
    dll_exchange,
    exact_price,
    parse_dll_timestamp,
    price_grid,
    symbol_of,
)
from tradingcore.domain.book import BookTop
from tradingcore.domain.values import Symbol
from tradingcore.ports.clock import Clock
from tradingcore.ports.market_data import ConnectionState, FeedListener

logger = logging.getLogger(__name__)

Record = TypeVar("Record")
Value = TypeVar("Value")


class ProfitDLLFeed:
    """Market data from ProfitDLL delivered to a FeedListener on the session's dispatcher thread.

    Subscriptions are remembered and (re)sent whenever market data comes up, so a restart or a
    reconnection resumes them. Malformed records reach `listener.on_invalid(reason, record)`.
    """

    def __init__(
        self,
        library_path: str | Path,
        credentials: Credentials,
        *,
        routing: bool = False,
        offer_book: bool = True,
        clock: Clock | None = None,
        session: ProfitDLLSession | None = None,
    ) -> None:
        self.session = session or ProfitDLLSession(library_path, credentials, routing=routing)
        self.offer_book = offer_book
        self.clock: Clock = clock or SystemClock()
        self._listener: FeedListener | None = None
        self._symbols: dict[str, Symbol] = {}
        self._lock = threading.Lock()
        self._market_up = False
        self._books: dict[str, OfferBook] = {}
        self._tops: dict[str, Top] = {}
        self._translator = TradeTranslator()
        self.trades_received = 0
        self.invalid_records = 0
        self.last_error: str | None = None
        self.session.add_consumer(self)

    # -- the MarketDataFeed port --

    def start(self, listener: FeedListener) -> None:
        """Initialize the DLL; raises the named error (missing library, DLL error) on failure."""
        self._listener = listener
        self.session.start()

    def subscribe(self, symbol: Symbol) -> None:
        """Subscribe trades (and the offer book); sent now if connected, else on connection."""
        with self._lock:
            self._symbols[symbol.ticker] = symbol
            if self._market_up:
                self._send_subscriptions([symbol], raise_errors=True)

    def unsubscribe(self, symbol: Symbol) -> None:
        with self._lock:
            if self._symbols.pop(symbol.ticker, None) is None or not self._market_up:
                return
            library = self.session.library
            if library is not None:
                library.unsubscribe_ticker(symbol.ticker, dll_exchange(symbol))
                if self.offer_book:
                    library.unsubscribe_offer_book(symbol.ticker, dll_exchange(symbol))

    def stop(self) -> None:
        """Finalize the DLL and deliver every record still queued."""
        self.session.stop()

    # -- health and recovery --

    @property
    def state(self) -> ConnectionState:
        return self.session.state

    @property
    def healthy(self) -> bool:
        return self.session.state.healthy

    @property
    def failure(self) -> str | None:
        return self.session.failure

    def wait_until_connected(self, timeout: float) -> ConnectionState:
        """Block until login and market data are up; raise LoginFailed or ConnectionTimeout."""
        return self.session.wait_until_connected(timeout, routing=False)

    def restart(self) -> None:
        """Finalize and initialize again; subscriptions resume when market data is back."""
        with self._lock:
            self._market_up = False
        self.session.restart()

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until every record queued so far reached the listener."""
        return self.session.drain(timeout)

    # -- session consumer (dispatcher thread) --

    def handle_state(self, state: ConnectionState) -> None:
        with self._lock:
            came_up = state.market_data and state.login and not self._market_up
            self._market_up = state.market_data and state.login
            if came_up:
                self._send_subscriptions(self._symbols.values(), raise_errors=False)
        if self._listener is not None:
            self._listener.on_state(state)

    def handle_record(self, record: DLLRecord) -> None:
        listener = self._listener
        if listener is None:
            return
        if isinstance(record, RawTrade | TradeRecordCopy):
            copy = record.decode() if isinstance(record, RawTrade) else record
            trade = self._translate(self._translator.translate, copy)
            if trade is not None:
                self.trades_received += 1
                listener.on_trade(trade)
        elif isinstance(record, OfferBookRecord):
            top = self._translate(self._apply_book, record)
            if top is not None:
                listener.on_book(top)
        elif isinstance(record, InvalidTickerRecord):
            self._invalid(
                f"invalid ticker {record.ticker!r} on exchange {record.exchange!r}: "
                "the DLL does not know it",
                record,
            )
        elif isinstance(record, CallbackFailure) and record.callback in ("trade", "offer_book"):
            self._invalid(record.reason, record)

    def _translate(self, translate: Callable[[Record], Value], record: Record) -> Value | None:
        """Translate, or report the record as invalid; a listener's own error is not caught."""
        try:
            return translate(record)
        except MalformedRecord as error:
            self._invalid(str(error), record)
        except Exception as error:  # an unforeseen bad record must not vanish or stop the feed
            self._invalid(f"untranslatable record: {type(error).__name__}: {error}", record)
        return None

    def _invalid(self, reason: str, record: object) -> None:
        self.invalid_records += 1
        if self._listener is not None:
            self._listener.on_invalid(reason, record)

    def _apply_book(self, record: OfferBookRecord) -> BookTop | None:
        symbol = symbol_of(record.ticker)
        book = self._books.setdefault(symbol.ticker, OfferBook())
        book.apply(record)
        top = book.top()
        if top == self._tops.get(symbol.ticker) or top.bid_price is None or top.ask_price is None:
            return None
        self._tops[symbol.ticker] = top
        grid = price_grid(symbol)
        if record.date is not None:
            timestamp_ms = parse_dll_timestamp(record.date)
        else:
            timestamp_ms = int(self.clock.now().timestamp() * 1000)
        return BookTop(
            symbol=symbol,
            timestamp_ms=timestamp_ms,
            bid_price=exact_price(top.bid_price, grid),
            bid_quantity=top.bid_quantity,
            ask_price=exact_price(top.ask_price, grid),
            ask_quantity=top.ask_quantity,
        )

    def _send_subscriptions(self, symbols: Iterable[Symbol], *, raise_errors: bool) -> None:
        library = self.session.library
        if library is None:
            return
        for symbol in list(symbols):
            exchange = dll_exchange(symbol)
            try:
                library.subscribe_ticker(symbol.ticker, exchange)
                if self.offer_book:
                    library.subscribe_offer_book(symbol.ticker, exchange)
            except ProfitDLLError as error:
                self.last_error = str(error)
                logger.error("subscribing %s failed: %s", symbol.ticker, error)
                if raise_errors:
                    raise
