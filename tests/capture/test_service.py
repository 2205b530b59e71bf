"""The capture service end to end in one process: feed in, SQLite store and WebSocket peer out."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.eventstore import open_store
from adapters.feeds import SyntheticFeed
from adapters.jsonlog import configure_logging
from adapters.websocket.messages import BookMessage, TickMessage
from adapters.websocket.publisher import WebSocketPublisher
from hosts.capture.metrics import CaptureMetrics
from hosts.capture.recorder import TapeRecorder
from hosts.capture.service import CaptureService, Supervision
from hosts.capture.status import StatusServer
from tests.capture.factories import OPEN_MS, SESSION, WDO, WIN, stored_trades, trade
from tests.capture.fakes import FakeFeed
from tests.capture.peer import Peer
from tradingcore.application.trading import TradingApplication
from tradingcore.ports.clock import ManualClock
from tradingcore.ports.market_data import ConnectionState, MarketDataFeed


@pytest.fixture
def peer() -> Iterator[Peer]:
    server = Peer().start()
    yield server
    server.stop()


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Iterator[TradingApplication]:
    app = open_store(f"sqlite:///{tmp_path / 'events.sqlite'}", ManualClock())
    yield app
    app.close()


def build(
    feed: MarketDataFeed,
    app: TradingApplication,
    url: str,
    logger: logging.Logger | None = None,
    **options: Any,
) -> CaptureService:
    metrics = CaptureMetrics()
    publisher = WebSocketPublisher(url, retry_interval=0.1, observer=metrics)
    recorder = TapeRecorder(app, batch_size=200, max_age=0.05)
    return CaptureService(feed, recorder, publisher, metrics, logger=logger, **options)


def scrape(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_capture_with_synthetic_source_records_every_trade_and_streams_it_in_order(
    peer: Peer, sqlite_app: TradingApplication
) -> None:
    feed = SyntheticFeed([WIN, WDO], seed=5, trades=1_500, book_every=50)
    service = build(feed, sqlite_app, peer.url)
    service.start()
    assert feed.wait(30)
    assert service.close(drain_timeout=10)

    assert peer.wait_for(3_000 + 60)
    messages = [json.loads(text) for text in peer.messages]
    ticks = [TickMessage.model_validate(m) for m in messages if m["type"] == "trade"]
    books = [BookMessage.model_validate(m) for m in messages if m["type"] == "book"]
    assert len(ticks) == 3_000 and len(books) == 60
    for symbol in (WIN, WDO):
        recorded = stored_trades(sqlite_app, symbol)
        streamed = [tick.to_trade(0) for tick in ticks if tick.symbol == symbol.ticker]
        assert len(recorded) == 1_500
        assert streamed == recorded  # the same trades, in the same order, on both outputs
    counts = service.counts()
    assert counts["ticks_received"] == counts["trades_recorded"] == 3_000
    assert counts["rejected"] == counts["dropped"] == 0


def test_capture_with_bad_records_counts_and_logs_them_and_keeps_going(
    peer: Peer, sqlite_app: TradingApplication, tmp_path: Path
) -> None:
    logger = configure_logging("datacapture", tmp_path / "logs")
    feed = FakeFeed()
    service = build(feed, sqlite_app, peer.url, logger=logger)
    service.start()
    feed.connect()
    feed.trade(trade(1))
    feed.trade(trade(1))  # duplicate
    feed.trade(trade(2, offset_ms=0))  # time going back
    feed.trade(trade(3, price=500_000))  # outside the band
    feed.invalid("malformed trade: price -5", {"raw": "..."})
    feed.trade(trade(4))
    assert service.close(drain_timeout=5)

    assert [row.trade_id for row in stored_trades(sqlite_app)] == [1, 4]
    assert peer.wait_for(2)
    assert [m["trade_id"] for m in peer.trades()] == [1, 4]
    metrics = service.metrics.registry
    for reason in (
        "duplicate_trade_id",
        "timestamp_before_previous",
        "price_outside_band",
        "malformed",
    ):
        assert metrics.get_sample_value("datacapture_records_rejected_total", {"reason": reason})
    logged = [
        json.loads(line)
        for path in (tmp_path / "logs" / "datacapture").glob("*.jsonl")
        for line in path.read_text().splitlines()
    ]
    reasons = [e["context"]["reason"] for e in logged if e["message"].startswith("record rejected")]
    assert sorted(reasons) == sorted(
        ["duplicate_trade_id", "timestamp_before_previous", "price_outside_band", "malformed"]
    )
    assert all(set(e) == {"timestamp", "level", "service", "message", "context"} for e in logged)


def test_metrics_and_health_with_feed_states_follow_the_connection(
    peer: Peer, sqlite_app: TradingApplication
) -> None:
    feed = FakeFeed()
    service = build(feed, sqlite_app, peer.url)
    status = StatusServer(service.metrics.registry, service.health, port=0)
    status.start()
    service.start()
    try:
        code, body = scrape(status.port, "/health")
        assert code == 503 and json.loads(body)["feed"]["phase"] == "starting"
        assert json.loads(body)["feed"]["last_tick_age_seconds"] is None  # no trade yet
        feed.state(ConnectionState(True, False, False, "logged in"))
        assert json.loads(scrape(status.port, "/health")[1])["feed"]["phase"] == "logged_in"
        feed.connect()
        feed.trade(trade(9, offset_ms=4_949_909_918_654 - OPEN_MS))  # 2126: refused
        assert service.last_tick_age() is None  # a refused trade is no sign of a live feed
        feed.trade(trade(1))
        code, body = scrape(status.port, "/health")
        assert code == 200 and json.loads(body)["status"] == "ok"
        assert 0 <= json.loads(body)["feed"]["last_tick_age_seconds"] < 60  # the dashboard's
        assert peer.wait_for(1)

        code, text = scrape(status.port, "/metrics")
        assert code == 200
        for name in (
            "datacapture_ticks_received_total 2.0",  # the refused one too
            "datacapture_connection_status 1.0",
            "datacapture_websocket_latency_seconds_count",
            "datacapture_websocket_dropped_total",
            "datacapture_batches_recorded_total",
            "datacapture_records_rejected_total",
        ):
            assert name in text

        feed.state(ConnectionState(False, False, False, "connection lost"))
        code, body = scrape(status.port, "/health")
        assert code == 503
        report = json.loads(body)
        assert report["feed"]["disconnects"] == 1 and report["feed"]["detail"] == "connection lost"
        assert "datacapture_connection_status 0.0" in scrape(status.port, "/metrics")[1]
        assert scrape(status.port, "/nowhere")[0] == 404
    finally:
        service.close(drain_timeout=2)
        status.stop()
    assert [row.trade_id for row in stored_trades(sqlite_app)] == [1]


def test_supervision_with_feed_down_too_long_restarts_it_and_resubscribes(
    peer: Peer, sqlite_app: TradingApplication
) -> None:
    feed = FakeFeed()
    service = build(
        feed, sqlite_app, peer.url, symbols=[WIN], supervision=Supervision(after=0.2, every=0.2)
    )
    service.start()
    try:
        feed.connect()
        feed.trade(trade(1))
        feed.state(ConnectionState(False, False, False, "connection lost"))
        deadline = time.monotonic() + 5
        while feed.starts < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert feed.starts >= 2 and feed.stops >= 1
        assert feed.subscribed[:2] == [WIN, WIN]
        feed.connect()
        feed.trade(trade(2))
    finally:
        assert service.close(drain_timeout=2)
    assert [row.trade_id for row in stored_trades(sqlite_app)] == [1, 2]


def test_capture_with_peer_down_records_everything_and_buffers_the_newest(
    sqlite_app: TradingApplication,
) -> None:
    nobody = Peer().start()
    nobody.stop()
    feed = FakeFeed()
    metrics = CaptureMetrics()
    publisher = WebSocketPublisher(nobody.url, capacity=10, retry_interval=0.1, observer=metrics)
    service = CaptureService(feed, TapeRecorder(sqlite_app), publisher, metrics)
    service.start()
    feed.connect()
    for number in range(1, 31):
        feed.trade(trade(number))
    _, report = service.health()
    assert report["websocket"]["buffered"] == 10 and report["websocket"]["dropped"] == 20
    assert metrics.registry.get_sample_value("datacapture_websocket_dropped_total") == 20
    late = Peer(nobody.port).start()
    try:
        assert late.wait_for(10)
        assert [m["trade_id"] for m in late.trades()] == list(range(21, 31))
    finally:
        assert service.close(drain_timeout=2)
        late.stop()
    assert len(stored_trades(sqlite_app)) == 30


def test_capture_with_the_same_synthetic_seed_twice_stores_identical_events(
    tmp_path: Path,
) -> None:
    logs = []
    for run in ("first", "second"):
        app = open_store(f"sqlite:///{tmp_path / f'{run}.sqlite'}", ManualClock())
        feed = SyntheticFeed([WIN, WDO], seed=21, trades=2_500)
        metrics = CaptureMetrics()
        publisher = WebSocketPublisher("ws://127.0.0.1:9", retry_interval=0.1)
        service = CaptureService(
            feed, TapeRecorder(app, batch_size=300, max_age=0.001), publisher, metrics
        )
        service.start()
        assert feed.wait(30)
        assert service.close(drain_timeout=0)
        notifications = app.recorder.select_notifications(start=1, limit=1_000)
        logs.append(
            [(n.originator_id, n.originator_version, n.topic, n.state) for n in notifications]
        )
        app.close()
    assert logs[0] == logs[1]
    topics = [topic.rsplit(":", 1)[1] for _, _, topic, _ in logs[0]]
    # two tapes opened, 2,500 trades each in batches of 300; the book tops' changes beside
    assert topics.count("TapeOpened") == 2 and topics.count("TradesRecorded") == 2 * 9
    assert topics.count("BookTapeOpened") == 2 and topics.count("BookTopsRecorded") >= 2
    assert len(topics) == 2 + 2 * 9 + 2 + topics.count("BookTopsRecorded")


class UnreachableStore(TradingApplication):
    """A real application whose store cannot be read while `down` is set."""

    down = True

    def tape(self, *args: Any, **kwargs: Any) -> Any:
        if self.down:
            raise OSError("connection refused")
        return super().tape(*args, **kwargs)


def test_capture_with_the_store_unreachable_refuses_with_the_reason_and_recovers(
    peer: Peer,
) -> None:
    app = UnreachableStore(clock=ManualClock())
    feed = FakeFeed()
    service = build(feed, app, peer.url)
    service.start()
    feed.connect()
    feed.trade(trade(1))
    app.down = False
    feed.trade(trade(2))
    assert service.close(drain_timeout=5)
    registry = service.metrics.registry
    sample = registry.get_sample_value(
        "datacapture_records_rejected_total", {"reason": "store_unavailable"}
    )
    assert sample == 1
    assert [row.trade_id for row in stored_trades(app)] == [2]


def test_capture_with_a_trade_from_the_future_refuses_it_and_records_the_ones_after(
    peer: Peer, sqlite_app: TradingApplication
) -> None:
    feed = FakeFeed()
    service = build(feed, sqlite_app, peer.url)
    service.start()
    feed.connect()
    feed.trade(trade(1))
    feed.trade(trade(2, offset_ms=2_000))
    feed.trade(trade(3, offset_ms=4_949_909_918_654 - OPEN_MS))  # year 2126
    feed.trade(trade(4, offset_ms=3_000))
    feed.trade(trade(5, offset_ms=4_000))
    assert service.close(drain_timeout=5)

    assert [row.trade_id for row in stored_trades(sqlite_app)] == [1, 2, 4, 5]
    assert peer.wait_for(4)
    assert [m["trade_id"] for m in peer.trades()] == [1, 2, 4, 5]
    metrics = service.metrics.registry
    rejected = {"reason": "timestamp_implausible"}
    assert metrics.get_sample_value("datacapture_records_rejected_total", rejected) == 1
    assert sqlite_app.clock.now().year == 2025  # the store's feed-time clock did not jump


def test_live_capture_with_trades_from_before_the_symbols_session_refuses_them_and_opens_no_tape(
    peer: Peer, tmp_path: Path
) -> None:
    from datetime import timedelta

    from adapters.clock import SystemClock
    from tradingcore.domain.tape import session_tape_id
    from tradingcore.simulation.market import session_open_ms

    sqlite_app = open_store(f"sqlite:///{tmp_path / 'events.sqlite'}", SystemClock())  # live
    feed = FakeFeed()
    service = build(feed, sqlite_app, peer.url)
    service.start()
    feed.connect()
    yesterday = SESSION - timedelta(days=1)
    feed.trade(trade(1))
    feed.trade(trade(2, offset_ms=session_open_ms(yesterday) + 5 - OPEN_MS))
    feed.trade(trade(3, offset_ms=86_400_000 * 365 - OPEN_MS))  # 1971
    feed.trade(trade(4, offset_ms=3_000))
    assert service.close(drain_timeout=5)

    assert [row.trade_id for row in stored_trades(sqlite_app)] == [1, 4]
    assert not sqlite_app.exists(session_tape_id(WIN, yesterday))
    assert [m["trade_id"] for m in peer.trades()] == [1, 4]
    assert service.rejections() == {"timestamp_implausible": 2}
    sqlite_app.close()


def test_replay_going_back_a_session_records_it_and_lets_it_go(
    peer: Peer, sqlite_app: TradingApplication
) -> None:
    """A replay plays what a store holds: a day imported after a later one comes after it."""
    from datetime import timedelta

    from tradingcore.simulation.market import session_open_ms

    feed = FakeFeed()
    service = build(feed, sqlite_app, peer.url)
    service.start()
    feed.connect()
    yesterday = SESSION - timedelta(days=1)
    feed.trade(trade(1))
    feed.trade(trade(2, offset_ms=session_open_ms(yesterday) + 5 - OPEN_MS))
    feed.trade(trade(3, offset_ms=3_000))
    service.recorder.flush()
    open_tapes = service.recorder.status().open_tapes
    assert service.close(drain_timeout=5)

    assert [row.trade_id for row in stored_trades(sqlite_app)] == [1, 3]
    assert [row.trade_id for row in stored_trades(sqlite_app, WIN, yesterday)] == [2]
    assert open_tapes == 1


def test_capture_over_many_sessions_keeps_one_open_tape_per_symbol(
    peer: Peer, sqlite_app: TradingApplication
) -> None:
    """Bounded: 30 sessions of two symbols, 20 trades each (1,200 trades)."""
    from datetime import timedelta

    from tradingcore.simulation.market import session_open_ms

    feed = FakeFeed()
    service = build(feed, sqlite_app, peer.url)
    service.start()
    feed.connect()
    trade_id = 0
    open_tapes = []
    for day in range(30):
        open_ms = session_open_ms(SESSION + timedelta(days=day))
        for number in range(20):
            for symbol in (WIN, WDO):
                trade_id += 1
                feed.trade(trade(trade_id, offset_ms=open_ms + number - OPEN_MS, symbol=symbol))
        service.recorder.flush()
        open_tapes.append(service.recorder.status().open_tapes)
    assert service.close(drain_timeout=5)

    assert service.counts()["trades_recorded"] == 1_200
    assert open_tapes == [2] * 30  # the session's two; the earlier ones let go once written
