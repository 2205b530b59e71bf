"""Store writes off the tick path: signals first and promptly, feature rows in batches, in order.

The WebSocket thread builds the events (their times are tick times, so replays match) and
queues them. This thread stores every signal queued so far in one transaction of its own (a
group commit: one fsync for a burst), then the feature batches one transaction each, and looks
for new signals again before each batch, so a signal waits for at most one batch in flight,
never for a queue of them. When a transaction fails, each item is retried on its own: a signal
already in the store (same deterministic id: a restart re-sending ticks) counts as stored;
anything else that fails is kept and retried on the next round, so a passing store outage
loses nothing.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final, Protocol

from tradingcore.analytics.features import FeatureRow
from tradingcore.application.errors import ConcurrencyConflict
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.aggregate import DomainEvent
from tradingcore.domain.features import FEATURE_NAMES, FeatureSeries, feature_series_id
from tradingcore.domain.signal import Signal
from tradingcore.domain.values import Symbol

MAX_PENDING_ROWS: Final = 500_000
"""Feature rows kept while the store refuses writes; beyond this the oldest batches go."""
RETRY_SECONDS: Final = 0.5

FailureHandler = Callable[[str, BaseException, dict[str, object]], None]
Task = Callable[[], None]


class StoreWrites(Protocol):
    """What the engine needs of a store writer (this thread, or a process of its own)."""

    @property
    def stored_signals(self) -> int: ...

    @property
    def stored_rows(self) -> int: ...

    @property
    def dropped_rows(self) -> int: ...

    @property
    def pending(self) -> int: ...

    def put(self, item: Signal | FeatureBatch | Task) -> None: ...

    def ready(self, timeout: float = 30.0) -> bool: ...

    def sync(self, timeout: float = 30.0) -> bool: ...

    def close(self, timeout: float = 30.0) -> None: ...


@dataclass(frozen=True, slots=True)
class FeatureBatch:
    symbol: Symbol
    session: date
    trade_ids: tuple[int, ...]
    timestamps_ms: tuple[int, ...]
    rows: tuple[FeatureRow, ...]
    at: datetime


class StoreWriter:
    """One background thread owning every store write of the analytics host."""

    def __init__(
        self,
        app: TradingApplication,
        pipeline_version: str,
        on_stored: Callable[[Signal], None],
        on_failure: FailureHandler,
        *,
        on_batch_stored: Callable[[FeatureBatch, int], None] | None = None,
        on_batch_dropped: Callable[[FeatureBatch], None] | None = None,
        thread: bool = True,
    ) -> None:
        """`on_batch_stored` gets each stored batch with its rows recorded (rows of ticks
        already recorded are left out); `on_batch_dropped` each batch dropped unstored.
        With `thread=False` no thread starts: a subclass feeds `_get` and `_get_nowait` and
        calls `_work` itself."""
        self.app = app
        self.on_batch_stored = on_batch_stored
        self.on_batch_dropped = on_batch_dropped
        self.pipeline_version = pipeline_version
        self.on_stored = on_stored
        self.on_failure = on_failure
        self.stored_signals = 0
        self.stored_rows = 0
        self.dropped_rows = 0
        self._queue: queue.SimpleQueue[Signal | FeatureBatch | Task | None] = queue.SimpleQueue()
        self._tasks: list[Task] = []
        self._signals: list[tuple[Signal, list[DomainEvent]]] = []
        self._batches: list[FeatureBatch] = []
        self._series: dict[tuple[Symbol, date], FeatureSeries] = {}
        self._rows: dict[int, int] = {}
        """id() of a batch being written → the rows its event records."""
        self._queued = 0
        self._done = 0
        self._taken = 0
        """Items taken off the queue this round (counted as done when the round ends)."""
        self._closing = False
        self._idle = threading.Condition()
        self._thread = threading.Thread(target=self._work, name="store-writer", daemon=True)
        if thread:
            self._thread.start()

    def put(self, item: Signal | FeatureBatch | Task) -> None:
        """Queue a signal, a feature batch, or a task (run on this thread after the writes)."""
        with self._idle:
            self._queued += 1
        self._queue.put(item)

    @property
    def open_series(self) -> int:
        """Feature series held in memory: one per symbol (its current session)."""
        return len(self._series)

    @property
    def pending(self) -> int:
        """Signals and feature batches taken and not stored yet."""
        return len(self._signals) + len(self._batches)

    def ready(self, timeout: float = 30.0) -> bool:
        """Return True: this writer uses the application it was given."""
        return True

    def sync(self, timeout: float = 30.0) -> bool:
        """Wait until everything queued so far has been stored; return False on timeout."""
        with self._idle:
            target = self._queued
            return self._idle.wait_for(
                lambda: self._done >= target and not self._signals and not self._batches, timeout
            )

    def close(self, timeout: float = 30.0) -> None:
        self.sync(timeout)
        self._queue.put(None)
        self._thread.join(timeout)

    def _work(self) -> None:
        while True:
            item = self._get(RETRY_SECONDS if self._pending() else None)
            self._take_all(item)
            try:
                self._write()
            except Exception as error:  # e.g. the store is unreachable: retry next round
                self.on_failure("batch", error, {"pending_signals": len(self._signals)})
            tasks, self._tasks = self._tasks, []
            for task in tasks:
                try:
                    task()
                except Exception as error:
                    self.on_failure("task", error, {})
            with self._idle:
                self._done += self._taken
                self._taken = 0
                self._idle.notify_all()
            if self._closing:
                return

    def _take_all(self, item: Signal | FeatureBatch | Task | None) -> None:
        """Take `item` and whatever else is queued, without waiting."""
        while True:
            if item is None:
                self._closing = True
            elif item is not _NOTHING:
                self._taken += 1
                self._take(item)
            item = self._get_nowait()
            if item is _NOTHING:
                return

    def _get(self, timeout: float | None) -> Signal | FeatureBatch | Task | None:
        """Wait up to `timeout` for the next item; `_NOTHING` when the time is up."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return _NOTHING  # time to retry what failed

    def _get_nowait(self) -> Signal | FeatureBatch | Task | None:
        """Return the next item queued, or `_NOTHING`."""
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return _NOTHING

    def _take(self, item: Signal | FeatureBatch | Task) -> None:
        if isinstance(item, Signal | FeatureBatch):
            self._take_write(item)
        else:
            self._tasks.append(item)

    def _take_write(self, item: Signal | FeatureBatch) -> None:
        if isinstance(item, Signal):
            # Events are taken once: a retry appends these same events again.
            self._signals.append((item, list(item.collect_events())))
        else:
            self._batches.append(item)

    def _pending(self) -> bool:
        return bool(self._signals or self._batches)

    def _write(self) -> None:
        """Store the pending signals, then the feature batches one transaction each; before
        each batch, take what was queued meanwhile and store new signals first. Stop at the
        first failure (the rest waits for the next round, in order)."""
        while True:
            if self._signals and not self._append(list(self._signals)):
                return
            if not self._batches:
                return
            batch = self._batches[0]
            if not self._append([(batch, self._record(batch))]):
                return
            self._take_all(_NOTHING)

    def _append(self, parts: list[tuple[Signal | FeatureBatch, list[DomainEvent]]]) -> bool:
        """Store `parts` in one transaction, or one by one if that fails; True if all went."""
        try:
            self.app.append([event for _, events in parts for event in events])
        except Exception:
            return self._one_by_one(parts)
        self._stored([item for item, _ in parts])
        return True

    def _one_by_one(self, parts: list[tuple[Signal | FeatureBatch, list[DomainEvent]]]) -> bool:
        """Store the items of a failed transaction singly, in order, up to the first failure
        (the rest wait for the next round, so signals and feature rows keep their order)."""
        stored: list[Signal | FeatureBatch] = []
        for item, events in parts:
            try:
                self.app.append(events)
            except ConcurrencyConflict as error:
                if isinstance(item, Signal):
                    stored.append(item)  # another writer stored this very signal first
                    continue
                self._failed(item, error)
                break
            except Exception as error:
                self._failed(item, error)
                break
            stored.append(item)
        for item, _ in parts[len(stored) :]:
            if isinstance(item, FeatureBatch):
                self._series.pop((item.symbol, item.session), None)  # ahead of the store now
        self._stored(stored)
        return len(stored) == len(parts)

    def _failed(self, item: Signal | FeatureBatch, error: BaseException) -> None:
        if isinstance(item, FeatureBatch):
            self._series.pop((item.symbol, item.session), None)  # ahead of the store now
            self.on_failure("features", error, {"symbol": item.symbol.ticker})
        else:
            self.on_failure("signal", error, {"signal_id": str(item.id)})

    def _stored(self, items: list[Signal | FeatureBatch]) -> None:
        done = {id(item) for item in items}
        self._signals = [(s, events) for s, events in self._signals if id(s) not in done]
        self._batches = [batch for batch in self._batches if id(batch) not in done]
        for item in items:
            if isinstance(item, Signal):
                self.stored_signals += 1
                self.on_stored(item)
            else:
                rows = self._rows.pop(id(item), 0)
                self.stored_rows += rows
                if self.on_batch_stored is not None:
                    self.on_batch_stored(item, rows)
        self._trim()

    def _record(self, batch: FeatureBatch) -> list[DomainEvent]:
        key = (batch.symbol, batch.session)
        series = self._series.get(key)
        if series is None:
            # A symbol's sessions only move forward: its earlier ones are done, and so is any
            # symbol's a week older (one the engine let go). Without this a host running for
            # months held a series per symbol and day.
            stale = key[1] - timedelta(days=7)
            for done in [
                k for k in self._series if (k[0] == batch.symbol and k[1] < key[1]) or k[1] < stale
            ]:
                del self._series[done]
            series_id = feature_series_id(batch.symbol, batch.session, self.pipeline_version)
            if self.app.exists(series_id):
                series = self.app.load_fresh(FeatureSeries, series_id)
            else:
                series = FeatureSeries.start(batch.symbol, batch.session, self.pipeline_version)
            self._series[key] = series
        event = series.record(
            batch.trade_ids, batch.timestamps_ms, FEATURE_NAMES, batch.rows, batch.at
        )
        self._rows[id(batch)] = 0 if event is None else len(event.rows)
        return list(series.collect_events())

    def _trim(self) -> None:
        rows = sum(len(batch.rows) for batch in self._batches)
        while self._batches and rows > MAX_PENDING_ROWS:
            dropped = self._batches.pop(0)
            rows -= len(dropped.rows)
            self.dropped_rows += len(dropped.rows)
            if self.on_batch_dropped is not None:
                self.on_batch_dropped(dropped)
            self.on_failure(
                "features",
                RuntimeError(f"dropped {len(dropped.rows)} feature rows: store down too long"),
                {"symbol": dropped.symbol.ticker},
            )


_NOTHING: Final = FeatureBatch(Symbol("WINZ25"), date(1970, 1, 1), (), (), (), datetime.min)
