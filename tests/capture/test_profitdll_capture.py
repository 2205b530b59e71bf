"""Capture from the fake ProfitDLL (compiled with gcc here) through the store and the WebSocket."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from adapters.eventstore import open_store
from adapters.profitdll.binding import Credentials
from adapters.profitdll.fakebuild import (
    COUNTER_INITIALIZATIONS,
    FakeProfitDLL,
    build_fake_dll,
    trade_record,
)
from adapters.profitdll.feed import ProfitDLLFeed
from adapters.websocket.publisher import WebSocketPublisher
from hosts.capture.metrics import CaptureMetrics
from hosts.capture.recorder import TapeRecorder
from hosts.capture.service import CaptureService, Supervision
from hosts.capture.sources import SystemClock
from tests.capture.factories import SESSION, WIN, stored_trades
from tests.capture.peer import Peer

pytestmark = pytest.mark.xdist_group("fake_profitdll")  # the fake's state is process-wide


@pytest.fixture(scope="module")
def fake_dll(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fake_dll(tmp_path_factory.mktemp("fake-profitdll"))


@pytest.fixture
def peer() -> Iterator[Peer]:
    server = Peer().start()
    yield server
    server.stop()


def wait_until(condition: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def start_stream(fake: FakeProfitDLL, count: int) -> None:
    """Start the fake's trade stream once the subscription reached it."""
    deadline = time.monotonic() + 10
    while True:
        try:
            fake.start_stream("WINZ25", "F", count)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def test_capture_with_the_fake_dll_records_and_streams_every_trade(
    fake_dll: Path, peer: Peer, tmp_path: Path
) -> None:
    app = open_store(f"sqlite:///{tmp_path / 'events.sqlite'}", SystemClock())
    feed = ProfitDLLFeed(fake_dll, Credentials("key", "user", "password"), offer_book=False)
    metrics = CaptureMetrics()
    publisher = WebSocketPublisher(peer.url, retry_interval=0.1, observer=metrics)
    service = CaptureService(feed, TapeRecorder(app), publisher, metrics, symbols=[WIN])
    fake = FakeProfitDLL(fake_dll)
    service.start()
    try:
        feed.wait_until_connected(10)
        assert wait_until(lambda: service.health()[0])
        start_stream(fake, 3_000)
        assert fake.wait_idle(20)
        # A malformed record from the DLL (a price of zero) is refused and the host goes on.
        fake.inject_trade("WINZ25", "F", trade_record(3_001, 0.0, 1, datetime(2025, 12, 1, 11)))
        fake.inject_trade(
            "WINZ25", "F", trade_record(3_002, 127_900.0, 2, datetime(2025, 12, 1, 11))
        )
        assert feed.drain(10)
    finally:
        assert service.close(drain_timeout=10)
    recorded = stored_trades(app, WIN, SESSION)
    assert [row.trade_id for row in recorded] == [*range(1, 3_001), 3_002]
    assert peer.wait_for(3_001)
    assert [message["trade_id"] for message in peer.trades()] == [*range(1, 3_001), 3_002]
    assert service.rejected == 1
    assert metrics.registry.get_sample_value("datacapture_ticks_received_total") >= 3_001
    app.close()


def run_host(tmp_path: Path, dll: Path, **environment: str) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        "-m",
        "hosts.capture",
        "--source",
        "profitdll",
        "--dll",
        str(dll),
        "--symbols",
        "WINZ25",
        "--metrics-port",
        "0",
        "--store",
        f"sqlite:///{tmp_path / 'events.sqlite'}",
        "--ws-url",
        "ws://127.0.0.1:9",
        "--log-dir",
        str(tmp_path / "logs"),
    ]
    env = {**os.environ, **environment}
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path
    )


def test_capture_command_with_wrong_credentials_stays_up_and_reports_why(
    fake_dll: Path, tmp_path: Path
) -> None:
    host = run_host(
        tmp_path,
        fake_dll,
        PROFITDLL_KEY="key",
        PROFITDLL_USER="user",
        PROFITDLL_PASSWORD="wrong",
        FAKE_PROFITDLL_BAD_CREDENTIALS="1",
    )
    try:
        assert host.stdout is not None
        line = host.stdout.readline()
        assert line.startswith("metrics on "), line
        health_url = line.split()[-1].replace("/metrics", "/health")

        def unhealthy_with_reason() -> bool:
            try:
                urllib.request.urlopen(health_url, timeout=2)
            except urllib.error.HTTPError as error:
                report = json.loads(error.read())
                refused = report["feed"]["refused"] or ""
                return error.code == 503 and "PASS" in refused
            return False

        assert wait_until(unhealthy_with_reason)
        assert host.poll() is None  # still up
    finally:
        host.send_signal(signal.SIGTERM)
        host.wait(20)
    assert host.returncode == 0


@pytest.mark.parametrize(
    ("arguments", "environment", "message"),
    [
        (["--dll", "/nowhere/ProfitDLL.so"], {}, "ProfitDLL library not found at /nowhere"),
        ([], {"PROFITDLL_PASSWORD": ""}, "PROFITDLL_PASSWORD"),
        # Run as a service, the host says the service's account has a keyring of its own.
        (
            [],
            {"PROFITDLL_PASSWORD": "", "TRADINGCORE_SERVICE": "TradingSystem-DataCapture"},
            "runs as the service TradingSystem-DataCapture, under the service's account",
        ),
    ],
)
def test_capture_command_with_missing_dll_or_credentials_exits_naming_the_cause(
    fake_dll: Path,
    tmp_path: Path,
    arguments: list[str],
    environment: dict[str, str],
    message: str,
) -> None:
    env = {
        **os.environ,
        "PROFITDLL_KEY": "key",
        "PROFITDLL_USER": "user",
        "PROFITDLL_PASSWORD": "secret",
        **environment,
    }
    command = [
        sys.executable,
        "-m",
        "hosts.capture",
        "--source",
        "profitdll",
        "--dll",
        str(fake_dll),
        "--symbols",
        "WINZ25",
        "--metrics-port",
        "-1",
        "--log-dir",
        str(tmp_path / "logs"),
        *arguments,
    ]
    result = subprocess.run(
        command, check=False, capture_output=True, text=True, env=env, timeout=30, cwd=tmp_path
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "secret" not in result.stderr + result.stdout


def test_capture_with_the_dll_connection_lost_keeps_what_was_recorded_and_resumes(
    fake_dll: Path, peer: Peer, tmp_path: Path
) -> None:
    app = open_store(f"sqlite:///{tmp_path / 'events.sqlite'}", SystemClock())
    feed = ProfitDLLFeed(fake_dll, Credentials("key", "user", "password"), offer_book=False)
    metrics = CaptureMetrics()
    publisher = WebSocketPublisher(peer.url, retry_interval=0.1, observer=metrics)
    service = CaptureService(feed, TapeRecorder(app), publisher, metrics, symbols=[WIN])
    fake = FakeProfitDLL(fake_dll)
    service.start()
    try:
        feed.wait_until_connected(10)
        start_stream(fake, 500)
        assert fake.wait_idle(20)
        assert feed.drain(10)
        fake.drop_connection()
        assert wait_until(lambda: not service.health()[0])
        assert service.health()[1]["feed"]["disconnects"] == 1
        assert metrics.registry.get_sample_value("datacapture_connection_status") == 0
        fake.restore_connection()
        assert wait_until(lambda: service.health()[0])
        later = datetime(2025, 12, 1, 11, 0)

        def inject_after_resubscription() -> bool:
            try:
                fake.inject_trade("WINZ25", "F", trade_record(1_000, 127_900.0, 1, later))
            except Exception:
                return False
            return True

        assert wait_until(inject_after_resubscription)
        assert feed.drain(10)
    finally:
        assert service.close(drain_timeout=10)
    assert [row.trade_id for row in stored_trades(app, WIN, SESSION)] == [*range(1, 501), 1_000]
    app.close()


def test_supervision_with_the_dll_down_too_long_reinitializes_it_and_resumes(
    fake_dll: Path, peer: Peer, tmp_path: Path
) -> None:
    app = open_store(f"sqlite:///{tmp_path / 'events.sqlite'}", SystemClock())
    feed = ProfitDLLFeed(fake_dll, Credentials("key", "user", "password"), offer_book=False)
    metrics = CaptureMetrics()
    publisher = WebSocketPublisher(peer.url, retry_interval=0.1, observer=metrics)
    service = CaptureService(
        feed,
        TapeRecorder(app),
        publisher,
        metrics,
        symbols=[WIN],
        supervision=Supervision(after=0.3, every=0.5),
    )
    fake = FakeProfitDLL(fake_dll)
    initializations = fake.counter(COUNTER_INITIALIZATIONS)
    service.start()
    try:
        feed.wait_until_connected(10)
        start_stream(fake, 200)
        assert fake.wait_idle(20)
        assert feed.drain(10)
        fake.drop_connection()  # and never restored: only a new initialization brings it back
        assert wait_until(lambda: fake.counter(COUNTER_INITIALIZATIONS) > initializations + 1)
        assert wait_until(lambda: service.health()[0])
        later = datetime(2025, 12, 1, 11, 0)

        def inject_after_resubscription() -> bool:
            try:
                fake.inject_trade("WINZ25", "F", trade_record(500, 127_900.0, 1, later))
            except Exception:
                return False
            return True

        assert wait_until(inject_after_resubscription)
        assert feed.drain(10)
    finally:
        assert service.close(drain_timeout=10)
    assert [row.trade_id for row in stored_trades(app, WIN, SESSION)] == [*range(1, 201), 500]
    app.close()
