"""Trading on feed time: each signal is decided on the tape as it stood at its own tick.

The tape arrives in one order (the store's trades) and the signals in another (the analytics
host's POSTs, a little ahead of or behind the tape). The cursor applies trades, one symbol's in
tape order, to the market data risk reads, the feed clock and the paper venue's fills; with
`hold` it keeps the trades it has seen but not applied, so a signal at tick T is decided once
every trade up to T is applied and none after it. The result depends on feed order only, never
on which process was faster: the same ticks give the same orders and fills as a backtest.

Held trades are applied when a later signal of their symbol is taken, when the signal source
says it has decided every tick up to theirs (`advance`: no signal can come for them any more),
or, failing both, after a hold time (`release`).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Protocol

from tradingcore.application.order_manager import OrderManager
from tradingcore.application.signal_desk import (
    SignalBatch,
    SignalDesk,
    SignalReceived,
    SignalResult,
)
from tradingcore.domain.book import BookTop
from tradingcore.domain.tape import Trade
from tradingcore.domain.values import Symbol

TAPE_NOT_SEEN: Final = "TAPE_NOT_SEEN"
"""A signal's tick never reached this process's tape within the wait: recorded, not traded."""
SIGNAL_LATE: Final = "SIGNAL_LATE"
"""A signal came after the tape had moved past its tick: recorded, not traded."""

TapeKey = tuple[int, int]
"""(timestamp_ms, trade_id): the order of prints on one symbol's tape."""


class FollowsTape(Protocol):
    """A clock that the applied trades move forward (the feed clock)."""

    def follow(self, timestamp_ms: int) -> None: ...


@dataclass(frozen=True, slots=True)
class CursorResult:
    """A signal taken at its tick: recorded (`result`), or not executed and why (`skipped`)."""

    result: SignalResult
    skipped: str = ""


def key_of(trade: Trade) -> TapeKey:
    return (trade.timestamp_ms, trade.trade_id)


class FeedCursor:
    """Applies trades and takes signals in feed order (see the module docstring)."""

    def __init__(
        self,
        orders: OrderManager,
        desk: SignalDesk,
        *,
        fill: Callable[[Trade], object] | None = None,
        clock: FollowsTape | None = None,
        hold: bool = False,
    ) -> None:
        """`fill`: the paper venue's trade handler (None for a real venue); `clock`: moved to
        each applied trade's time (None: the host runs on the wall clock); `hold`: keep seen
        trades until a signal or `release` applies them (else apply each trade at once)."""
        self.orders = orders
        self.desk = desk
        self.fill = fill
        self.clock = clock
        self.hold = hold
        self._pending: dict[Symbol, deque[tuple[Trade, float]]] = {}
        self._seen: dict[Symbol, TapeKey] = {}
        self._applied: dict[Symbol, TapeKey] = {}
        self._decided: dict[Symbol, TapeKey] = {}
        """Per symbol, the tick up to which the signal source has sent every signal."""
        self._condition = threading.Condition()
        self.late = 0
        self.unseen = 0
        self.trade_listeners: list[Callable[[Trade], object]] = []
        """Told each live trade once it is applied (prices, time, fills): strategies."""
        self.book_listeners: list[Callable[[BookTop], object]] = []
        """Told each live book top as it is read (strategies' `on_book`)."""
        self.before_trade: list[Callable[[Trade], object]] = []
        """Told each live trade before it is applied, the clock not yet at its time: the
        strategies' timers (`TimerSchedule`) fire there, as in a backtest."""
        self.signal_listeners: list[Callable[[SignalResult], object]] = []
        """Told each signal taken at its tick, after the desk: strategies."""

    # The tape ------------------------------------------------------------------------------

    def on_trade(self, trade: Trade, *, seen_at: float = 0.0, live: bool = True) -> None:
        """Take the next trade of its symbol's tape; `live` False: a trade from before this
        process started (it sets prices and time, it fills nothing)."""
        if not self.hold or not live:
            with self.orders.one_transaction():
                self._apply(trade, fill=live)
            with self._condition:
                self._seen[trade.symbol] = key_of(trade)
                self._condition.notify_all()
            return
        with self._condition:
            self._pending.setdefault(trade.symbol, deque()).append((trade, seen_at))
            self._seen[trade.symbol] = key_of(trade)
            self._condition.notify_all()

    def on_book(self, book: BookTop) -> None:
        """Show a live book top to the listeners, in the order the store holds them.

        Tops are not held with the trades: with auto-execution on feed time a trade may
        still wait for its signal while a later top is shown (docs/strategies.md)."""
        if not self.book_listeners:
            return
        with self.orders.lock:
            for listener in self.book_listeners:
                listener(book)

    def release(self, seen_before: float | None = None) -> int:
        """Apply the held trades seen before `seen_before` (None: all); return how many."""
        applied = 0
        with self.orders.one_transaction():
            for symbol in list(self._pending):
                applied += self._apply_pending(symbol, None, seen_before)
        return applied

    def advance(self, symbol: Symbol, decided: TapeKey) -> int:
        """The signal source has decided every tick of `symbol` up to `decided` (inclusive)
        and sent each signal of them: none can come for those ticks any more. Apply the held
        trades up to it now (their fills), and the later ones up to it as they arrive
        (`catch_up`); return how many were applied. A mark behind an earlier one changes
        nothing.

        Only the source's own word makes this safe: it must send its signals in tick order,
        each before the mark that covers it (`SignalForwarder.progress`)."""
        if not self.hold:
            return 0
        with self._condition:
            if decided <= self._decided.get(symbol, (-1, -1)):
                return 0
            self._decided[symbol] = decided
        with self.orders.one_transaction():
            return self._apply_pending(symbol, decided, None)

    def catch_up(self, symbol: Symbol) -> int:
        """Apply the held trades of `symbol` the signal source has already decided past (a
        mark that came before the trades did); return how many."""
        with self._condition:
            decided = self._decided.get(symbol)
            queue = self._pending.get(symbol)
            if decided is None or not queue or key_of(queue[0][0]) > decided:
                return 0
        with self.orders.one_transaction():
            return self._apply_pending(symbol, decided, None)

    def pending(self) -> int:
        with self._condition:
            return sum(len(queue) for queue in self._pending.values())

    # Signals -------------------------------------------------------------------------------

    def take_signal(
        self,
        received: SignalReceived,
        actor: str,
        account: str,
        *,
        wait: Callable[[threading.Condition, Callable[[], bool]], bool] | None = None,
        batch: SignalBatch | None = None,
    ) -> CursorResult:
        """Record a signal and, on the tape as it stood at its tick, execute it.

        `wait(condition, ready)` waits (bounded) for this process to see the signal's tick;
        None: do not wait. A tick never seen, or already passed, records the signal without
        executing it (fail closed, the reason in `skipped`). In a `batch`, what it stores
        joins the batch's transaction (`SignalDesk.finish`); a batch commits and reports
        what it decided before it waits for a tick.
        """
        symbol = received.symbol
        tick: TapeKey = (received.tick_timestamp_ms, received.tick_trade_id)

        def ready() -> bool:
            return self._seen.get(symbol, (-1, -1)) >= tick

        if self.hold:
            if batch is not None and wait is not None:
                with self._condition:
                    seen = ready()
                if not seen:
                    self.desk.finish(batch)  # durable and reported before waiting
            with self._condition:
                if not ready() and (wait is None or not wait(self._condition, ready)):
                    self.unseen += 1
                    recorded = self.desk.receive(
                        received, actor, account, execute=False, batch=batch
                    )
                    return CursorResult(recorded, TAPE_NOT_SEEN)
        with self.orders.one_transaction(batch.orders if batch is not None else None):
            if self.hold:
                self._apply_pending(symbol, tick, None)
            if self.hold and self._applied.get(symbol, (-1, -1)) > tick:
                self.late += 1
                recorded = self.desk.receive(received, actor, account, execute=False, batch=batch)
                return CursorResult(recorded, SIGNAL_LATE)
            taken = CursorResult(self.desk.receive(received, actor, account, batch=batch))
            for listener in self.signal_listeners:
                listener(taken.result)
            return taken

    # Applying ------------------------------------------------------------------------------

    def _apply_pending(
        self, symbol: Symbol, upto: TapeKey | None, seen_before: float | None
    ) -> int:
        """Apply the held trades of `symbol` up to `upto` (inclusive); call under the lock."""
        taken: list[Trade] = []
        with self._condition:
            queue = self._pending.get(symbol)
            while queue:
                trade, seen_at = queue[0]
                if upto is not None and key_of(trade) > upto:
                    break
                if seen_before is not None and seen_at >= seen_before:
                    break
                queue.popleft()
                taken.append(trade)
        for trade in taken:
            self._apply(trade, fill=True)
        return len(taken)

    def _apply(self, trade: Trade, *, fill: bool) -> None:
        if fill:
            for listener in self.before_trade:
                listener(trade)
        if self.clock is not None:
            self.clock.follow(trade.timestamp_ms)
        self.orders.on_trade(trade)
        if fill and self.fill is not None:
            self.fill(trade)
        self._applied[trade.symbol] = key_of(trade)
        if fill:
            for listener in self.trade_listeners:
                listener(trade)
