"""ProfitDLL binding speed: fake DLL callbacks → queue → translation → listener.

Run: `.venv/bin/pytest benchmarks/test_bench_profitdll.py --benchmark-only -s`
The fake generates trades on its own pthread and fires the V2 trade callback from its
ConnectorThread, as the real DLL does; figures include TranslateTrade, the copy, the queue hop,
the dispatcher thread and the pure translation into `Trade`. Latency: the fake stamps each trade
with CLOCK_MONOTONIC when it queues it (STAMP_VOLUME); a consumer that runs right after the
feed's listener reads the stamp, so it is DLL-queue-to-listener latency (`time.monotonic`).
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.profitdll.binding import Credentials, ProfitDLL
from adapters.profitdll.errors import NotInitialized
from adapters.profitdll.fakebuild import STAMP_VOLUME, FakeProfitDLL, build_fake_dll
from adapters.profitdll.feed import ProfitDLLFeed
from adapters.profitdll.records import DLLRecord, RawTrade
from adapters.profitdll.translate import TradeTranslator
from tradingcore.domain.book import BookTop
from tradingcore.domain.tape import Trade
from tradingcore.domain.values import Symbol
from tradingcore.ports.market_data import ConnectionState

FLAT_OUT_TRADES = 100_000
PACED_TRADES = 20_000
PACED_RATE = 10_000


class CountingListener:
    def __init__(self) -> None:
        self.trades = 0

    def on_trade(self, trade: Trade) -> None:
        self.trades += 1

    def on_book(self, book: BookTop) -> None: ...

    def on_state(self, state: ConnectionState) -> None: ...

    def on_invalid(self, reason: str, record: object) -> None: ...


class LatencyProbe:
    """Runs after the feed on the dispatcher thread: DLL queue time to listener delivery."""

    def __init__(self) -> None:
        self.latencies_ms: list[float] = []

    def handle_record(self, record: DLLRecord) -> None:
        if isinstance(record, RawTrade):
            self.latencies_ms.append((time.monotonic() - record.decode().volume) * 1000)

    def handle_state(self, state: ConnectionState) -> None: ...


@pytest.fixture(scope="module")
def library_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fake_dll(tmp_path_factory.mktemp("fake-profitdll"))


@pytest.fixture
def running_feed(library_path: Path) -> Iterator[tuple[ProfitDLLFeed, FakeProfitDLL]]:
    fake = FakeProfitDLL(library_path)
    fake.set_behaviour(0)
    feed = ProfitDLLFeed(library_path, Credentials("key", "user", "password"), offer_book=False)
    yield feed, fake
    feed.stop()
    fake.set_behaviour(0)
    with contextlib.suppress(NotInitialized):
        ProfitDLL(library_path).finalize()


def test_bench_feed_flat_out_throughput(benchmark, running_feed) -> None:  # type: ignore[no-untyped-def]
    feed, fake = running_feed
    listener = CountingListener()
    feed.start(listener)
    feed.subscribe(Symbol("WINZ25"))
    feed.wait_until_connected(5)
    assert feed.drain()

    def stream() -> None:
        before = listener.trades
        fake.start_stream("WINZ25", "F", FLAT_OUT_TRADES, rate=0)
        assert fake.wait_idle(120) and feed.drain(120)
        assert listener.trades - before == FLAT_OUT_TRADES

    benchmark.pedantic(stream, rounds=3, iterations=1)
    rate = FLAT_OUT_TRADES / benchmark.stats.stats.median
    benchmark.extra_info["trades_per_second"] = round(rate)
    print(f"\nProfitDLL fake → listener flat out: {rate:,.0f} trades/s (median of 3 x 100k)")


def test_bench_feed_latency_at_10k_per_second(benchmark, running_feed) -> None:  # type: ignore[no-untyped-def]
    feed, fake = running_feed
    probe = LatencyProbe()
    feed.session.add_consumer(probe)
    feed.start(CountingListener())
    feed.subscribe(Symbol("WINZ25"))
    feed.wait_until_connected(5)
    assert feed.drain()
    fake.set_behaviour(STAMP_VOLUME)

    def stream() -> None:
        fake.start_stream("WINZ25", "F", PACED_TRADES, rate=PACED_RATE)
        assert fake.wait_idle(60) and feed.drain(60)

    benchmark.pedantic(stream, rounds=1, iterations=1)
    latencies = sorted(probe.latencies_ms)
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    benchmark.extra_info.update({"p50_ms": round(p50, 3), "p99_ms": round(p99, 3)})
    print(f"\nProfitDLL fake → listener at 10k/s: p50 {p50:.3f} ms, p99 {p99:.3f} ms")


def test_bench_translate_one_trade(benchmark) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime

    from adapters.profitdll.fakebuild import trade_record

    raw = RawTrade("WINZ25", "F", bytes(trade_record(1, 127850.0, 2, datetime(2025, 12, 1, 10))), 0)
    translator = TradeTranslator()

    trade = benchmark(lambda: translator.translate(raw.decode()))

    assert trade.trade_id == 1
