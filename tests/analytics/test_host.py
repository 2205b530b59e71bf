"""The analytics host end to end: real WebSocket, real SQLite store, real HTTP API stub."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from websockets.sync.client import connect

from adapters.eventstore import open_store
from adapters.models import load_models
from hosts.analytics.backtest import run_backtest, store_trades, ticks_by_symbol
from hosts.analytics.service import AnalyticsService, AnalyticsSettings
from tests.analytics.api_stub import ApiStub
from tests.analytics.factories import fast_config, session, tick_json
from tradingcore.domain.features import FeaturesComputed
from tradingcore.domain.signal import SignalGenerated
from tradingcore.domain.tape import TradeColumns
from tradingcore.domain.values import Symbol
from tradingcore.ports.clock import ManualClock

TICKS = 1_500


def stored_events(url: str, kind: type) -> list:  # type: ignore[type-arg]
    app = open_store(url, ManualClock())
    try:
        events = []
        for notification in app.recorder.select_notifications(start=1, limit=1_000_000):
            event = app.mapper.to_domain_event(notification)
            if isinstance(event, kind):
                events.append(event)
        return events
    finally:
        app.close()


def record_tape(url: str, events: list) -> None:  # type: ignore[type-arg]
    app = open_store(url, ManualClock())
    columns = TradeColumns()
    for event in events:
        columns.append(event.trade)
    app.record_trades(Symbol("WINZ25"), date(2025, 12, 1), columns)
    app.close()


def send_all(service: AnalyticsService, messages: list[str | bytes]) -> None:
    with connect(service.server.url) as client:
        for message in messages:
            client.send(message)
        deadline = time.monotonic() + 30
        server = service.server
        while server.accepted + sum(server.rejected.values()) < len(messages):
            if time.monotonic() > deadline:
                raise TimeoutError("the host did not process every message")
            time.sleep(0.01)


@pytest.fixture
def host(tmp_path: Path) -> Iterator[tuple[AnalyticsService, ApiStub, str]]:
    url = f"sqlite:///{tmp_path / 'events.sqlite'}"
    api = ApiStub()
    settings = AnalyticsSettings(
        store_url=url,
        port=0,
        metrics_port=0,
        api_url=api.url,
        api_key="test-key",
        model_path=tmp_path / "model.json",
        log_dir=tmp_path / "logs",
        config=fast_config(),
        feature_batch=200,
    )
    service = AnalyticsService(settings)
    service.start()
    yield service, api, url
    api.close()


def test_host_with_ticks_over_websocket_stores_the_backtest_signals_bit_for_bit(
    host: tuple[AnalyticsService, ApiStub, str], tmp_path: Path
) -> None:
    service, api, url = host
    events = session(TICKS, seed=21)
    record_tape(url, events)
    send_all(service, [tick_json(event) for event in events])
    service.stop()

    live = stored_events(url, SignalGenerated)
    report = run_backtest(ticks_by_symbol(store_trades(url)), fast_config())
    replayed = [signal for _, signal in report.signals()]
    assert live, "the fast config should produce signals"
    assert [
        (s.tick_trade_id, s.direction, s.confidence.hex(), s.model_version, s.features)
        for s in live
    ] == [
        (s.trade_id, s.direction, s.confidence.hex(), s.model_version, s.feature_map())
        for s in replayed
    ]
    rows = sum(len(event.rows) for event in stored_events(url, FeaturesComputed))
    assert rows == TICKS
    posted = [body["signal_id"] for body in api.bodies]
    assert posted == [str(s.originator_id) for s in live]  # HOLD too: it may close a position
    assert set(api.bodies[0]) == {
        "signal_id",
        "symbol",
        "direction",
        "confidence",
        "features",
        "model_version",
        "tick_trade_id",
        "tick_timestamp_ms",
        "price",
    }
    assert load_models(tmp_path / "model.json")["WINZ25"].version == report.symbols[0].model.version


def test_host_with_bad_messages_rejects_counts_and_logs_them_and_keeps_going(
    host: tuple[AnalyticsService, ApiStub, str], tmp_path: Path
) -> None:
    service, _, url = host
    events = session(300, seed=4)
    ticks = [tick_json(event) for event in events]
    stamp = events[149].trade.timestamp_ms
    earlier = ticks[149].replace(f'"timestamp":{stamp}', f'"timestamp":{stamp - 1_000}')
    messages: list[str | bytes] = [
        *ticks[:150],
        "{oops",
        ticks[149],
        ticks[10].replace("WINZ25", "XYZZ9"),
        earlier.replace('"trade_id":1500', '"trade_id":999999'),
        '{"type":"book","symbol":"WINZ25","bid_price":1.0,"bid_quantity":3,'
        '"ask_price":2.0,"ask_quantity":9,"timestamp":5}',
        *ticks[150:],
    ]
    send_all(service, messages)
    metrics = (
        urllib.request.urlopen(f"http://127.0.0.1:{service.metrics_port}/metrics", timeout=5)
        .read()
        .decode()
    )
    service.stop()
    assert service.server.accepted == 301
    assert service.server.rejected["invalid_json"] == 1
    assert service.server.rejected["duplicate_trade_id"] == 1
    assert service.server.rejected["invalid_symbol"] == 1
    assert service.server.rejected["timestamp_backwards"] == 1
    assert 'analytics_messages_rejected_total{reason="invalid_json"} 1.0' in metrics
    assert "analytics_processing_latency_seconds_bucket" in metrics
    assert "analytics_ticks_processed_total 300.0" in metrics
    assert "analytics_signals_forward_queue" in metrics
    assert "analytics_model_accuracy" in metrics and "analytics_signal_hit_rate" in metrics
    rows = sum(len(event.rows) for event in stored_events(url, FeaturesComputed))
    assert rows == 300
    log = next((tmp_path / "logs" / "analytics").glob("*.jsonl")).read_text().splitlines()
    entries = [json.loads(line) for line in log]
    assert {entry["service"] for entry in entries} == {"analytics"}
    rejected = [entry for entry in entries if entry["message"] == "Message rejected"]
    assert {entry["context"]["reason"] for entry in rejected} >= {
        "invalid_json",
        "duplicate_trade_id",
    }


def test_host_restarted_with_ticks_resent_stores_each_feature_row_and_signal_once(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'events.sqlite'}"
    events = session(TICKS, seed=8)
    ticks = [tick_json(event) for event in events]
    settings = AnalyticsSettings(
        store_url=url,
        port=0,
        model_path=tmp_path / "model.json",
        log_dir=tmp_path / "logs",
        config=fast_config(),
        feature_batch=150,
    )
    for sent in (ticks[:900], ticks[:600], ticks[300:]):  # two restarts, each re-sending ticks
        service = AnalyticsService(settings)
        service.start()
        send_all(service, list(sent))
        service.stop()

    stored = stored_events(url, FeaturesComputed)
    trade_ids = [trade_id for event in stored for trade_id in event.trade_ids]
    assert trade_ids == [event.trade.trade_id for event in events]
    signals = [event.originator_id for event in stored_events(url, SignalGenerated)]
    assert signals and len(signals) == len(set(signals))


COLD_START = """
import sys
from pathlib import Path
from hosts.analytics.service import AnalyticsService, AnalyticsSettings

root = Path(sys.argv[1])
settings = AnalyticsSettings(
    store_url=f"sqlite:///{root / 'events.sqlite'}", port=0, metrics_port=None,
    model_path=root / "model.json", log_dir=root / "logs",
)
service = AnalyticsService(settings)
before = "sklearn.linear_model" in sys.modules
service.start()
after = "sklearn.linear_model" in sys.modules
service.stop()
print(before, after)
"""


def test_host_imports_the_model_libraries_before_it_takes_ticks(tmp_path: Path) -> None:
    # The first model (built by the trainer process, read back on the tick thread) used to
    # import sklearn there: ~0.5-1 s in which the first second's ticks queued up.
    done = subprocess.run(
        [sys.executable, "-c", COLD_START, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "True"]
