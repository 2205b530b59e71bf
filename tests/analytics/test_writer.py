"""The store writer: batched writes, retries after a store failure, idempotent signals."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, date, datetime

from hosts.analytics.writer import FeatureBatch, StoreWriter
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.aggregate import DomainEvent
from tradingcore.domain.features import FeatureSeries, feature_series_id
from tradingcore.domain.signal import Direction, Signal
from tradingcore.domain.values import Symbol
from tradingcore.ports.clock import ManualClock

AT = datetime(2025, 12, 1, 12, tzinfo=UTC)
WIN = Symbol("WINZ25")


class FlakyApplication(TradingApplication):
    """An in-memory store that refuses the next `failures` writes, like a store going down."""

    failures = 0

    def append(self, events: Sequence[DomainEvent]) -> int | None:
        if self.failures and events:
            self.failures -= 1
            raise OSError("store unreachable")
        return super().append(events)


def signal(trade_id: int) -> Signal:
    return Signal.generate(
        symbol=WIN,
        direction=Direction.BUY,
        confidence=0.7,
        features={"aggressor_flow": 1.0},
        model_version="sgd-v1-test+1",
        tick_trade_id=trade_id,
        tick_timestamp_ms=trade_id,
        price=127850.0,
        at=AT,
    )


def batch(first: int, size: int = 3) -> FeatureBatch:
    ids = tuple(range(first, first + size))
    return FeatureBatch(WIN, date(2025, 12, 1), ids, ids, tuple((1.0,) * 5 for _ in ids), AT)


def test_write_after_the_store_fails_retries_and_loses_nothing() -> None:
    app = FlakyApplication(clock=ManualClock(AT))
    app.failures = 3
    stored: list[int] = []
    failures: list[str] = []
    writer = StoreWriter(
        app,
        "features-v1",
        lambda stored_signal: stored.append(stored_signal.tick_trade_id),
        lambda what, error, context: failures.append(what),
    )
    for number in range(5):
        writer.put(signal(number))
    writer.put(batch(0))
    writer.put(batch(3))
    assert writer.sync(10.0)
    writer.close()
    assert stored == [0, 1, 2, 3, 4]
    assert failures, "the failed writes are reported"
    series = app.load_fresh(FeatureSeries, feature_series_id(WIN, date(2025, 12, 1), "features-v1"))
    assert series.row_count == 6


def test_write_with_a_signal_already_stored_counts_it_and_stores_the_others() -> None:
    app = TradingApplication(clock=ManualClock(AT))
    app.store(signal(1))
    stored: list[int] = []
    writer = StoreWriter(app, "features-v1", lambda s: stored.append(s.tick_trade_id), print)
    writer.put(signal(1))
    writer.put(signal(2))
    assert writer.sync(10.0)
    writer.close()
    assert sorted(stored) == [1, 2]
    assert app.exists(signal(2).id)


def test_task_runs_on_the_writer_after_the_queued_writes() -> None:
    app = TradingApplication(clock=ManualClock(AT))
    seen: list[bool] = []
    writer = StoreWriter(app, "features-v1", lambda s: None, print)
    writer.put(signal(7))
    writer.put(lambda: seen.append(app.exists(signal(7).id)))
    writer.close()
    assert seen == [True]


class GatedApplication(TradingApplication):
    """An in-memory store whose first write waits for `gate`; records what each write held."""

    def __init__(self) -> None:
        super().__init__(clock=ManualClock(AT))
        self.writing = threading.Event()
        self.gate = threading.Event()
        self.writes: list[str] = []

    def append(self, events: Sequence[DomainEvent]) -> int | None:
        if not self.writes:
            self.writing.set()
            self.gate.wait(10.0)
        self.writes.append("+".join(sorted({type(event).__name__ for event in events})))
        return super().append(events)


def test_signal_queued_behind_feature_batches_waits_only_for_the_batch_in_flight() -> None:
    app = GatedApplication()
    writer = StoreWriter(app, "features-v1", lambda s: None, print)
    writer.put(batch(0))
    assert app.writing.wait(10.0)
    writer.put(batch(3))
    writer.put(batch(6))
    writer.put(signal(9))
    app.gate.set()
    writer.close()
    assert app.writes == [
        "FeaturesComputed",
        "SignalGenerated",
        "FeaturesComputed",
        "FeaturesComputed",
    ]


def test_writer_over_many_sessions_holds_one_feature_series_per_symbol() -> None:
    """Bounded: 30 sessions of two symbols, one batch each, and a third symbol that stops after
    the first session (the engine let it go): its series goes once it is a week old."""
    from datetime import timedelta

    app = TradingApplication(clock=ManualClock(AT))
    writer = StoreWriter(app, "features-v1", lambda stored: None, print)
    open_series = []
    for day in range(30):
        session = date(2025, 12, 1) + timedelta(days=day)
        for symbol in (WIN, Symbol("WDOF26"), Symbol("INDZ25"))[: 3 if day == 0 else 2]:
            ids = (day * 10, day * 10 + 1)
            writer.put(FeatureBatch(symbol, session, ids, ids, ((1.0,) * 5,) * 2, AT))
        assert writer.sync(10.0)
        open_series.append(writer.open_series)
    writer.close()

    assert open_series == [3] * 8 + [2] * 22
    last = feature_series_id(WIN, date(2025, 12, 30), "features-v1")
    assert app.load_fresh(FeatureSeries, last).row_count == 2
