"""Capture host speed: fake ProfitDLL → store (SQLite file) and WebSocket → a peer process.

Run: `.venv/bin/pytest benchmarks/test_bench_capture.py --benchmark-only -s`
Targets: flat out >= 50k ticks/s sustained through the store and the WebSocket;
paced at 10k ticks/s, callback-to-peer latency p99 < 5 ms. The peer is a separate process (as
the analytics host is); latency is from the capture host's trade callback (`on_trade`) to the
peer's receipt, both on CLOCK_MONOTONIC (`time.perf_counter_ns`), so they compare across
processes on one machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.eventstore import open_store
from adapters.profitdll.binding import Credentials
from adapters.profitdll.fakebuild import FakeProfitDLL, build_fake_dll
from adapters.profitdll.feed import ProfitDLLFeed
from adapters.websocket.publisher import WebSocketPublisher
from hosts.capture.cli import SWITCH_INTERVAL_S
from hosts.capture.metrics import CaptureMetrics
from hosts.capture.recorder import TapeRecorder
from hosts.capture.service import CaptureService
from hosts.capture.sources import SystemClock
from tradingcore.domain.tape import Trade
from tradingcore.domain.values import Symbol

PEER = r"""
import asyncio, json, sys, time
from websockets.asyncio.server import serve

expected, out = int(sys.argv[1]), sys.argv[2]
received = []

async def handle(connection):
    async for message in connection:
        received.append((time.perf_counter_ns(), message))
        if len(received) >= expected:
            done.set()

async def main():
    global done
    done = asyncio.Event()
    async with serve(handle, "127.0.0.1", 0, compression=None) as server:
        print(next(iter(server.sockets)).getsockname()[1], flush=True)
        seen = -1
        while not done.is_set():  # all expected arrived, or 2 s of silence after the first
            await asyncio.sleep(2)
            if received and len(received) == seen:
                break
            seen = len(received)
    rows = []
    for stamp, message in received:
        body = json.loads(message)
        if body.get("type") == "trade":
            rows.append((body["trade_id"], stamp))
    with open(out, "w") as file:
        json.dump({"first": received[0][0], "last": received[-1][0], "rows": rows}, file)

asyncio.run(main())
"""

WIN = Symbol("WINZ25")


class TimedService(CaptureService):
    """Keeps the callback time of every trade, for callback-to-peer latency."""

    callbacks: dict[int, int]

    def on_trade(self, trade: Trade) -> None:
        self.callbacks[trade.trade_id] = time.perf_counter_ns()
        super().on_trade(trade)


@pytest.fixture(scope="module")
def fake_dll(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fake_dll(tmp_path_factory.mktemp("fake-profitdll"))


@pytest.fixture
def peer_process(tmp_path: Path) -> Iterator[Any]:
    processes: list[subprocess.Popen[str]] = []

    def start(expected: int) -> tuple[str, Path, subprocess.Popen[str]]:
        out = tmp_path / f"peer-{len(processes)}.json"
        process = subprocess.Popen(
            [sys.executable, "-c", PEER, str(expected), str(out)],
            stdout=subprocess.PIPE,
            text=True,
        )
        processes.append(process)
        assert process.stdout is not None
        port = int(process.stdout.readline())
        return f"ws://127.0.0.1:{port}", out, process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def capture_run(
    fake_dll: Path, tmp_path: Path, peer_process: Any, count: int, rate: int, timed: bool
) -> dict[str, float]:
    default = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL_S)  # as the capture host sets it
    try:
        return _capture(fake_dll, tmp_path, peer_process, count, rate, timed)
    finally:
        sys.setswitchinterval(default)


def _capture(
    fake_dll: Path, tmp_path: Path, peer_process: Any, count: int, rate: int, timed: bool
) -> dict[str, float]:
    url, out, process = peer_process(count)
    app = open_store(f"sqlite:///{tmp_path / f'capture-{rate}.sqlite'}", SystemClock())
    feed = ProfitDLLFeed(fake_dll, Credentials("key", "user", "password"), offer_book=False)
    metrics = CaptureMetrics()
    publisher = WebSocketPublisher(url, retry_interval=0.1, observer=metrics)
    recorder = TapeRecorder(app)
    kind = TimedService if timed else CaptureService
    service = kind(feed, recorder, publisher, metrics, symbols=[WIN])
    callbacks: dict[int, int] = {}
    if isinstance(service, TimedService):
        service.callbacks = callbacks
    fake = FakeProfitDLL(fake_dll)
    service.start()
    feed.wait_until_connected(10)
    deadline = time.monotonic() + 10
    while not publisher.status().connected and time.monotonic() < deadline:
        time.sleep(0.01)
    while True:
        try:
            fake.start_stream("WINZ25", "F", count, rate)
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)
    started = time.perf_counter_ns()
    cpu = time.process_time()
    while recorder.status().recorded_trades < count and time.monotonic() < deadline + 120:
        time.sleep(0.002)
    finished = time.perf_counter_ns()
    cpu_per_tick_us = (time.process_time() - cpu) / count * 1e6
    process.wait(120)
    service.close(drain_timeout=10)
    app.close()
    report = json.loads(out.read_text())
    latencies = sorted(
        (stamp - callbacks[trade_id]) / 1e6 for trade_id, stamp in report["rows"] if callbacks
    )
    seconds = (finished - started) / 1e9
    delivered = len(report["rows"])
    delivery_seconds = (report["last"] - started) / 1e9
    result: dict[str, float] = {
        "ticks": count,
        "seconds": round(seconds, 3),
        "recorded_per_s": round(count / seconds),
        "recorded": recorder.status().recorded_trades,
        "delivered": delivered,
        "dropped": publisher.status().dropped,
        "delivered_per_s": round(delivered / delivery_seconds),
        "cpu_us_per_tick": round(cpu_per_tick_us, 2),
    }
    if latencies:
        result["p50_ms"] = round(latencies[len(latencies) // 2], 3)
        result["p99_ms"] = round(latencies[int(len(latencies) * 0.99)], 3)
        result["max_ms"] = round(latencies[-1], 3)
    return result


def test_capture_flat_out_from_the_fake_dll_through_store_and_websocket(
    benchmark: Any, fake_dll: Path, tmp_path: Path, peer_process: Any
) -> None:
    result = benchmark.pedantic(
        capture_run,
        args=(fake_dll, tmp_path, peer_process, 200_000, 0, False),
        rounds=1,
        iterations=1,
    )
    benchmark.extra_info.update(result)
    print(f"\nflat out: {result}")
    assert result["recorded"] == 200_000


def test_capture_paced_at_10k_ticks_per_second_latency(
    benchmark: Any, fake_dll: Path, tmp_path: Path, peer_process: Any
) -> None:
    result = benchmark.pedantic(
        capture_run,
        args=(fake_dll, tmp_path, peer_process, 100_000, 10_000, True),
        rounds=1,
        iterations=1,
    )
    benchmark.extra_info.update(result)
    print(f"\npaced 10k/s: {result}")
    assert result["recorded"] == 100_000


def test_capture_paced_at_50k_ticks_per_second_sustained(
    benchmark: Any, fake_dll: Path, tmp_path: Path, peer_process: Any
) -> None:
    result = benchmark.pedantic(
        capture_run,
        args=(fake_dll, tmp_path, peer_process, 250_000, 50_000, False),
        rounds=1,
        iterations=1,
    )
    benchmark.extra_info.update(result)
    print(f"\npaced 50k/s: {result}")
    assert result["recorded"] == 250_000
