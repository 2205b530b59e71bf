"""The store writer in its own process: killed mid-stream or with the store down, nothing is
lost and nothing is stored twice."""

from __future__ import annotations

import json
import os
import signal as signals
import socket
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from adapters.eventstore import open_store
from hosts.analytics.service import AnalyticsService, AnalyticsSettings
from hosts.analytics.writer import FeatureBatch, StoreWriter
from hosts.analytics.writer_process import ProcessStoreWriter
from tests.analytics.factories import fast_config, session, tick_json
from tests.analytics.test_host import send_all, stored_events
from tradingcore.domain.features import FeaturesComputed
from tradingcore.domain.signal import Direction, Signal, SignalGenerated
from tradingcore.domain.values import Symbol
from tradingcore.ports.clock import ManualClock

AT = datetime(2025, 12, 1, 12, tzinfo=UTC)
WIN = Symbol("WINZ25")
SESSION = date(2025, 12, 1)


def signal(trade_id: int) -> Signal:
    return Signal.generate(
        symbol=WIN,
        direction=Direction.BUY if trade_id % 2 else Direction.SELL,
        confidence=0.7,
        features={"aggressor_flow": float(trade_id)},
        model_version="sgd-v1-test+1",
        tick_trade_id=trade_id,
        tick_timestamp_ms=1_764_590_400_000 + trade_id,
        price=127850.0,
        at=AT,
    )


def batch(first: int, size: int) -> FeatureBatch:
    ids = tuple(range(first, first + size))
    stamps = tuple(1_764_590_400_000 + trade_id // 3 for trade_id in ids)
    rows = tuple((float(i), 0.5, 1.0, -2.0, 1e-4 * i) for i in ids)
    return FeatureBatch(WIN, SESSION, ids, stamps, rows, AT)


def stream(count: int = 120, size: int = 250) -> list[Signal | FeatureBatch]:
    """Feature batches of `size` ticks, a signal every third batch (fresh objects each call)."""
    items: list[Signal | FeatureBatch] = []
    for number in range(count):
        items.append(batch(number * size, size))
        if number % 3 == 0:
            items.append(signal(number * size + 7))
    return items


def contents(url: str) -> tuple[list[str], list[tuple[int, int, tuple[float, ...]]]]:
    """The stored signal ids in order, and every stored feature row (trade id, time, values)."""
    signal_ids = [str(event.originator_id) for event in stored_events(url, SignalGenerated)]
    rows = [
        (trade_id, stamp, values)
        for event in stored_events(url, FeaturesComputed)
        for trade_id, stamp, values in zip(
            event.trade_ids, event.timestamps_ms, event.rows, strict=True
        )
    ]
    return signal_ids, rows


def reference(url: str) -> tuple[list[str], list[tuple[int, int, tuple[float, ...]]]]:
    app = open_store(url, ManualClock())
    writer = StoreWriter(app, "features-v1", lambda s: None, print)
    for item in stream():
        writer.put(item)
    writer.close()
    app.close()
    return contents(url)


def test_writer_process_killed_mid_stream_is_restarted_and_stores_everything_once(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'events.sqlite'}"
    stored: list[int] = []
    failures: list[str] = []
    writer = ProcessStoreWriter(
        url,
        "features-v1",
        lambda s: stored.append(s.tick_trade_id),
        lambda what, error, context: failures.append(what),
    )
    assert writer.ready(60.0)
    items = stream()
    for item in items[: len(items) // 2]:
        writer.put(item)
    deadline = time.monotonic() + 30
    while writer.stored_rows < 2_000 and time.monotonic() < deadline:
        time.sleep(0.001)
    first = writer.pid
    assert first is not None
    os.kill(first, signals.SIGKILL)  # mid-stream: some items stored, some sent, some queued
    for item in items[len(items) // 2 :]:
        writer.put(item)
    assert writer.sync(60.0)
    writer.close()

    assert writer.restarts >= 1 and writer.pid != first
    assert "writer" in failures
    expected_signals, expected_rows = reference(f"sqlite:///{tmp_path / 'reference.sqlite'}")
    signal_ids, rows = contents(url)
    assert sorted(signal_ids) == sorted(expected_signals)
    assert len(signal_ids) == len(set(signal_ids))
    assert rows == expected_rows
    assert sorted(stored) == sorted({s.tick_trade_id for s in items if isinstance(s, Signal)})
    assert writer.pending == 0


@pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="SCHED_BATCH is Linux's")
@pytest.mark.parametrize(("background", "policy"), [(True, "SCHED_BATCH"), (False, "SCHED_OTHER")])
def test_only_a_feature_writer_process_runs_in_the_batch_scheduling_class(
    tmp_path: Path, background: bool, policy: str
) -> None:
    """The `split` mode's feature writer yields the CPU on wake-up; a writer that stores
    signals is on their path and keeps the normal class."""
    writer = ProcessStoreWriter(
        f"sqlite:///{tmp_path / 'events.sqlite'}",
        "features-v1",
        print,
        print,
        background=background,
    )
    try:
        assert writer.ready(60.0)
        assert writer.pid is not None
        assert os.sched_getscheduler(writer.pid) == getattr(os, policy)
    finally:
        writer.close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_writer_process_with_the_store_down_keeps_items_reports_and_retries() -> None:
    url = f"postgresql://postgres@127.0.0.1:{closed_port()}/test?schema=nothing"
    failures: list[tuple[str, str]] = []
    writer = ProcessStoreWriter(
        url,
        "features-v1",
        lambda s: None,
        lambda what, error, _: failures.append((what, str(error))),
    )
    items = stream(count=6, size=10)
    for item in items:
        writer.put(item)
    deadline = time.monotonic() + 30
    while len(failures) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [what for what, _ in failures[:2]] == ["store", "store"]  # reported, and retried
    assert "OperationalError" in failures[0][1]
    assert writer.pending == len(items)
    assert not writer.sync(0.5)
    writer.close(timeout=1.0)
    assert writer.pending == len(items)  # kept, counted, never reported as stored
    assert writer.stored_signals == 0 and writer.restarts == 0


def test_host_with_the_store_down_takes_ticks_counts_store_errors_and_stays_up(
    tmp_path: Path,
) -> None:
    url = f"postgresql://postgres@127.0.0.1:{closed_port()}/test?schema=nothing"
    service = AnalyticsService(
        AnalyticsSettings(
            store_url=url,
            port=0,
            log_dir=tmp_path / "logs",
            config=fast_config(),
            feature_batch=100,
        )
    )
    assert service.writer_mode == "process"  # split, with the store unreachable at start
    service.start()
    events = session(600, seed=5)
    send_all(service, [tick_json(event) for event in events])
    deadline = time.monotonic() + 30
    while service.metrics.store_errors.labels(what="store")._value.get() < 2:
        assert time.monotonic() < deadline, "the store failures are counted, again and again"
        time.sleep(0.01)
    assert service.server.accepted == 600
    assert service.engine.writer.pending >= 6  # the feature batches, kept
    service.engine.writer.close(timeout=0.5)
    service.stop()
    log = (tmp_path / "logs" / "analytics").glob("*.jsonl")
    lines = [json.loads(line) for path in log for line in path.read_text().splitlines()]
    assert any(line["message"] == "Opening the store failed" for line in lines)
    undone = [line for line in lines if line["message"] == "Store writes left undone"]
    assert undone and undone[0]["context"]["count"] >= 6
