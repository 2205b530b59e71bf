"""Batch admitted trades per symbol and session and record them durably from one writer thread.

A batch is sealed when it holds `batch_size` trades, and a partial one is flushed when its oldest
trade waited `max_age` seconds. Replays as fast as possible (a store on a ManualClock) flush by
size only, so the same source gives the same events whatever the threads' timing; a paced
replay (a synthetic market at a rate, a recording at its pace) flushes by age too, as a live
feed does: at 200 trades/s a batch of 1,000 would keep trades from the store (and the API host,
which trades on the stored tape) for 5 s. A failed write keeps its batches
(in order, ahead of newer trades) and retries: an admitted trade is recorded exactly once. The
store is touched only under one lock.

Live, a symbol's sessions only move forward: a trade of a session before the one its symbol is
in is refused (`timestamp_implausible`) before it opens a tape. Once a symbol's next session
opens (live or replayed), the earlier session's partial batches are sealed, and its admission
state, trade tape and book tape are let go as soon as nothing of it waits to be written. Memory
is bounded by the symbols followed, not by the days a host runs. Within a session, the trade
ids are held once, as runs (`TradeIdSet`): B3's numbering (10, 20, 30, ...) costs ~0.5 MB a
session whatever its trades (it was ~130 bytes a trade, 388 MB after 3M trades).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final, cast

from hosts.capture.guard import Rejection, SessionGuard, session_day, session_of
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.book import BookTop
from tradingcore.domain.book_tape import BookColumns, InvalidBookTop, row_problem
from tradingcore.domain.errors import InvalidTrade
from tradingcore.domain.tape import Trade, TradeColumns
from tradingcore.domain.timestamps import TIMESTAMP_IMPLAUSIBLE, implausible_time
from tradingcore.domain.values import Symbol, price_to_units
from tradingcore.ports.clock import ManualClock

DEFAULT_BATCH_SIZE: Final = 1_000
DEFAULT_MAX_AGE: Final = 0.010
DEFAULT_STALL_AFTER: Final = 2.0
"""A store write that has not returned after this many seconds makes the store not ok: a
database that went away without closing its connections hangs writes instead of failing them."""
STORE_REJECTED: Final = "store_rejected"

Key = tuple[Symbol, date]


@dataclass(slots=True)
class _Pending:
    columns: TradeColumns | BookColumns
    since: float


@dataclass(frozen=True, slots=True)
class RecorderStatus:
    recorded_trades: int
    recorded_batches: int
    pending_trades: int
    store_ok: bool
    last_error: str
    open_tapes: int
    """Session tapes whose admission state is held (one per symbol, plus any not yet let go)."""
    recorded_books: int = 0
    """Book tops recorded (changes of the top only: an unchanged top is not stored)."""
    pending_books: int = 0


class TapeRecorder:
    """Admit trades against their session tape and record them in batches."""

    def __init__(
        self,
        app: TradingApplication,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_age: float = DEFAULT_MAX_AGE,
        retry_interval: float = 1.0,
        on_recorded: Callable[[int], None] = lambda count: None,
        on_rejected: Callable[[Rejection], None] = lambda rejection: None,
        logger: logging.Logger | None = None,
        wall_clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
        stall_after: float = DEFAULT_STALL_AFTER,
        flush_by_age: bool | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch size {batch_size} must be >= 1")
        if max_age <= 0:
            raise ValueError(f"batch max age {max_age} must be > 0 seconds")
        self.app = app
        self.batch_size = batch_size
        self.max_age = max_age
        self.retry_interval = retry_interval
        self.on_recorded = on_recorded
        self.on_rejected = on_rejected
        self.logger = logger or logging.getLogger("tradingcore.datacapture")
        self.wall_clock_ms = wall_clock_ms
        """Only to refuse trades stamped implausibly far ahead of this host's clock."""
        # Live feeds use a wall clock; replays follow the trades' time so reruns are identical.
        self._follow_trade_time = isinstance(app.clock, ManualClock)
        self._flush_by_age = not self._follow_trade_time if flush_by_age is None else flush_by_age
        """Partial batches flushed after `max_age` (default: live feeds only, not replays)."""
        self._guards: dict[Key, SessionGuard] = {}
        self._sessions: dict[Symbol, date] = {}
        """The session each symbol is in: the newest it traded in."""
        self._retiring: set[Key] = set()
        """Earlier sessions of a symbol, let go once nothing of theirs waits to be written."""
        self._pending: dict[Key, _Pending] = {}
        self._pending_tops: dict[Key, _Pending] = {}
        self._last_tops: dict[Symbol, tuple[int, int, int, int, int]] = {}
        """Each symbol's last admitted book top (time, prices in units, quantities)."""
        self._recorded_books = 0
        self._pending_books = 0
        self._skipped_books = 0
        """Book tops up to the time the store's book tape reached: recorded before."""
        self._book_floors: dict[Symbol, tuple[date, int]] = {}
        """Per symbol, its session and the last top's time the store held when it began."""
        self._sealed: deque[tuple[Key, _Pending]] = deque()
        self._last: tuple[Symbol, int, Key, SessionGuard] | None = None
        self._last_price = Decimal(-1)
        self._last_units = 0
        self._lock = threading.Lock()
        self._store_lock = threading.Lock()
        self._due = threading.Condition(self._lock)
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._recorded_trades = 0
        self._recorded_batches = 0
        self._pending_trades = 0
        self._store_ok = True
        self._last_error = ""
        self.stall_after = stall_after
        self._writing_since: float | None = None

    # Feed thread ---------------------------------------------------------------------------

    def add(self, trade: Trade) -> Rejection | None:
        """Admit a trade and queue it for recording, or return why it was refused."""
        price = trade.price
        if price == self._last_price:  # prints repeat the last price most of the time
            units = self._last_units
        else:
            try:
                units = price_to_units(price)
            except Exception as error:
                return Rejection("invalid_price", f"invalid trade {trade.trade_id}: {error}")
            self._last_price, self._last_units = price, units
        # Checked before a session tape is opened or the clock follows: one trade stamped in a
        # later year would otherwise open that year's tape and move the store's clock there.
        implausible = implausible_time(trade.timestamp_ms, self.wall_clock_ms())
        if implausible is not None:
            return Rejection(
                TIMESTAMP_IMPLAUSIBLE,
                f"invalid trade {trade.trade_id} ({trade.symbol.ticker}): {implausible}",
            )
        symbol, day = trade.symbol, session_day(trade.timestamp_ms)
        # Consecutive trades nearly always share symbol and session: skip the lookups then.
        last = self._last
        if last is not None and day == last[1] and (symbol is last[0] or symbol == last[0]):
            key, guard = last[2], last[3]
        else:
            key = (symbol, session_of(trade.timestamp_ms))
            current = self._sessions.get(symbol)
            if current is not None and key[1] < current and not self._follow_trade_time:
                # Live, one print stamped in an earlier session would open (or reopen) that
                # session's tape: refused like one from the future, before anything is touched.
                # A replay plays what a store holds: a file imported late comes after a newer day.
                return Rejection(
                    TIMESTAMP_IMPLAUSIBLE,
                    f"invalid trade {trade.trade_id} ({symbol.ticker}): its session {key[1]} is "
                    f"before the session {current} this symbol is in",
                )
            guard = self._guards.get(key) or self._open_guard(key, trade.timestamp_ms)
            self._last = (symbol, day, key, guard)
        with self._lock:
            rejection = guard.admit(trade, units)
            if rejection is not None:
                return rejection
            pending = self._pending.get(key)
            if pending is None:
                pending = self._pending[key] = _Pending(TradeColumns(), time.monotonic())
            columns = cast(TradeColumns, pending.columns)
            columns.trade_ids.append(trade.trade_id)
            columns.timestamps_ms.append(trade.timestamp_ms)
            columns.prices.append(units)
            columns.volumes.append(trade.volume)
            columns.aggressors.append(trade.aggressor)  # a StrEnum: joins as its letter
            columns.flags.append(trade.flags)
            self._pending_trades += 1
            if len(columns.trade_ids) >= self.batch_size:
                self._sealed.append((key, pending))
                del self._pending[key]
                self._due.notify()
        return None

    def add_book(self, book: BookTop) -> Rejection | None:
        """Queue a change of a symbol's book top for recording (an unchanged top is dropped
        silently), or return why it was refused."""
        ticker = book.symbol.ticker
        try:
            row = (
                book.timestamp_ms,
                price_to_units(book.bid_price),
                book.bid_quantity,
                price_to_units(book.ask_price),
                book.ask_quantity,
            )
        except Exception as error:
            return Rejection("invalid_price", f"invalid book top of {ticker}: {error}")
        implausible = implausible_time(book.timestamp_ms, self.wall_clock_ms())
        problem = implausible or row_problem(*row)
        if problem is not None:
            reason = TIMESTAMP_IMPLAUSIBLE if implausible else "invalid_book"
            return Rejection(reason, f"invalid book top of {ticker}: {problem}")
        key = (book.symbol, session_of(book.timestamp_ms))
        floor = self._book_floors.get(book.symbol)
        if floor is None or floor[0] != key[1]:
            # First top of this session here: a store that holds the session (a restart, a
            # replay) already has its tops up to the last one recorded.
            with self._store_lock:
                floor = self._book_floors[book.symbol] = (
                    key[1],
                    self.app.book_tape_last_ms(book.symbol, key[1]),
                )
        if book.timestamp_ms <= floor[1]:
            with self._lock:
                self._skipped_books += 1
            return None
        with self._lock:
            last = self._last_tops.get(book.symbol)
            if last is not None:
                if last[1:] == row[1:]:
                    return None
                if row[0] < last[0] and session_of(last[0]) == key[1]:
                    return Rejection(
                        "invalid_book",
                        f"invalid book top of {ticker}: time {row[0]} goes back "
                        f"(last top at {last[0]})",
                    )
            self._last_tops[book.symbol] = row
            pending = self._pending_tops.get(key)
            if pending is None:
                pending = self._pending_tops[key] = _Pending(BookColumns(), time.monotonic())
            columns = pending.columns
            assert isinstance(columns, BookColumns)
            columns.timestamps_ms.append(row[0])
            columns.bid_prices.append(row[1])
            columns.bid_quantities.append(row[2])
            columns.ask_prices.append(row[3])
            columns.ask_quantities.append(row[4])
            self._pending_books += 1
            if len(columns) >= self.batch_size:
                self._sealed.append((key, pending))
                del self._pending_tops[key]
                self._due.notify()
        return None

    def _open_guard(self, key: Key, timestamp_ms: int) -> SessionGuard:
        symbol, session = key
        with self._store_lock:
            self._follow(timestamp_ms)
            guard = SessionGuard(self.app.tape(symbol, session))
        with self._lock:
            previous = self._sessions.get(symbol)
            if previous is None or previous < session:
                self._sessions[symbol] = session
                self._retiring.update(
                    other for other in self._guards if other[0] == symbol and other[1] < session
                )
                self._seal_earlier(symbol, session)
            elif session < previous:  # a replay going back a day: let it go once written
                self._retiring.add(key)
            return self._guards.setdefault(key, guard)

    def _seal_earlier(self, symbol: Symbol, session: date) -> None:
        """Seal the symbol's partial batches of earlier sessions (under `_lock`): once it trades
        in a later session they will not fill up, and a replay (which flushes by size only)
        would otherwise keep them, and the earlier session's state, until it closes."""
        for waiting in (self._pending, self._pending_tops):
            for key in [key for key in waiting if key[0] == symbol and key[1] < session]:
                self._sealed.append((key, waiting.pop(key)))
                self._due.notify()

    def _let_go(self) -> None:
        """Forget the earlier sessions' admission state and tapes that nothing waits on."""
        with self._lock:
            if not self._retiring:
                return
            waiting = (
                set(self._pending) | set(self._pending_tops) | {key for key, _ in self._sealed}
            )
            done = [key for key in self._retiring if key not in waiting]
            for key in done:
                self._retiring.discard(key)
                self._guards.pop(key, None)
            last = self._last
            if last is not None and last[2] in done:
                self._last = None
        with self._store_lock:
            for symbol, session in done:
                self.app.forget_tape(symbol, session)

    # Writer thread -------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="tape-writer", daemon=True)
            self._thread.start()

    def close(self, timeout: float = 30.0) -> bool:
        """Record everything pending and stop the writer; True when nothing is left pending."""
        with self._lock:
            self._stopping = True
            self._due.notify()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.flush()
        status = self.status()
        return status.pending_trades == 0 and status.pending_books == 0

    def flush(self) -> None:
        """Record every pending batch now (from the calling thread)."""
        if self._write(self._take(force=True)):
            self._let_go()

    def status(self) -> RecorderStatus:
        with self._lock:
            store_ok, last_error = self._store_ok, self._last_error
            since = self._writing_since
            if since is not None and time.monotonic() - since > self.stall_after:
                store_ok = False
                last_error = f"a store write has not returned for {time.monotonic() - since:.1f} s"
            return RecorderStatus(
                self._recorded_trades,
                self._recorded_batches,
                self._pending_trades,
                store_ok,
                last_error,
                len(self._guards),
                self._recorded_books,
                self._pending_books,
            )

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._stopping:
                    return
                if not self._sealed:
                    self._due.wait(self.max_age / 2)
            if self._write(self._take(force=False)):
                self._let_go()
            else:
                time.sleep(self.retry_interval)

    def _take(self, *, force: bool) -> list[tuple[Key, _Pending]]:
        """Sealed batches first (they are older), then partial ones that are due."""
        now = time.monotonic()
        by_age = self._flush_by_age
        with self._lock:
            ready = list(self._sealed)
            self._sealed.clear()
            partial: list[tuple[Key, _Pending]] = []
            for waiting in (self._pending, self._pending_tops):
                due = [
                    (key, pending)
                    for key, pending in waiting.items()
                    if force or (by_age and now - pending.since >= self.max_age)
                ]
                for key, _ in due:
                    del waiting[key]
                partial.extend(due)
        return ready + partial

    def _write(self, ready: list[tuple[Key, _Pending]]) -> bool:
        """Record the batches; give failed ones back; False when the store failed."""
        ok = True
        for index, (key, pending) in enumerate(ready):
            with self._lock:
                self._writing_since = time.monotonic()
            try:
                self._record(key, pending.columns)
            except Exception as error:
                self._give_back(ready[index:], error)
                ok = False
                break
            finally:
                with self._lock:
                    self._writing_since = None
        return ok

    def _record(self, key: Key, columns: TradeColumns | BookColumns) -> None:
        symbol, session = key
        if isinstance(columns, BookColumns):
            self._record_books(symbol, session, columns)
            return
        with self._store_lock:
            self._follow(columns.timestamps_ms[-1])
            try:
                self.app.record_trades(symbol, session, columns)
                recorded = len(columns)
            except InvalidTrade as error:
                # The tape disagrees with the guard: record row by row so only bad rows go.
                self.logger.warning(
                    "tape refused a batch; recording it trade by trade",
                    extra={"context": {"symbol": symbol.ticker, "error": str(error)}},
                )
                recorded = self._record_rows(symbol, session, columns)
        with self._lock:
            self._recorded_trades += recorded
            self._recorded_batches += 1
            self._pending_trades -= len(columns)
            if not self._store_ok:
                self.logger.info("event store writes recovered")
            self._store_ok = True
        self.on_recorded(recorded)

    def _record_books(self, symbol: Symbol, session: date, columns: BookColumns) -> None:
        with self._store_lock:
            self._follow(columns.timestamps_ms[-1])
            try:
                self.app.record_books(symbol, session, columns)
                recorded = len(columns)
            except InvalidBookTop as error:  # checked at admission: only a bug gets here
                self.on_rejected(Rejection(STORE_REJECTED, str(error)))
                recorded = 0
        with self._lock:
            self._recorded_books += recorded
            self._pending_books -= len(columns)
            self._store_ok = True

    def _record_rows(self, symbol: Symbol, session: date, columns: TradeColumns) -> int:
        recorded = 0
        for row in range(len(columns)):
            single = TradeColumns(
                [columns.trade_ids[row]],
                [columns.timestamps_ms[row]],
                [columns.prices[row]],
                [columns.volumes[row]],
                [columns.aggressors[row]],
                [columns.flags[row]],
            )
            try:
                self.app.record_trades(symbol, session, single)
                recorded += 1
            except InvalidTrade as error:
                self.on_rejected(Rejection(STORE_REJECTED, str(error)))
        return recorded

    def _give_back(self, failed: list[tuple[Key, _Pending]], error: Exception) -> None:
        text = f"{type(error).__name__}: {error}"
        with self._lock:
            # Back in front, in order: they are older than anything sealed or pending since.
            self._sealed.extendleft(reversed(failed))
            first_failure = self._store_ok
            self._store_ok = False
            self._last_error = text
        if first_failure:
            self.logger.error(
                "event store write failed; keeping the batch and retrying",
                extra={"context": {"error": text, "retry_interval_s": self.retry_interval}},
            )

    def _follow(self, timestamp_ms: int) -> None:
        clock = self.app.clock
        if self._follow_trade_time and isinstance(clock, ManualClock):
            clock.set_epoch_ms(timestamp_ms)
