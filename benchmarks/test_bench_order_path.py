"""The API host's order path in process: signal -> position policy -> risk -> order -> paper fill.

What the API host does for each auto-executed signal on feed time, without HTTP: the feed
cursor applies the tape up to the signal's tick (the paper broker fills the order in flight on
it), the signal desk records the signal and sends the order that moves the position to its
target. Every signal flips the target (BUY, SELL, BUY...), so each one is an order and a fill,
on a real SQLite file (synchronous=FULL, the default). `writer` adds a second process-like
writer on the same file recording trade batches meanwhile, as the capture host does. `batched`
takes the signals 100 at a time as `POST /api/v1/signals/batch` does (`SignalBatch`: one
transaction per batch), its per-signal figure being the batch's time over its signals.

    flock /tmp/tradingcore-bench.lock .venv/bin/pytest benchmarks/test_bench_order_path.py -s
    ORDER_PATH_STORE_QUERY="?checkpoint=inline" ...  # the store URL's options, to compare
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import numpy as np
import pytest

from adapters.broker.paper import PaperBroker
from adapters.clock import FeedClock
from adapters.eventstore import open_store
from hosts.api.clock import SystemClock
from hosts.api.store_mark import store_mark
from tradingcore.application.feed_cursor import FeedCursor
from tradingcore.application.order_manager import OrderManager
from tradingcore.application.signal_desk import (
    AutoExecution,
    SignalBatch,
    SignalDesk,
    SignalReceived,
)
from tradingcore.domain.signal import Direction
from tradingcore.domain.tape import Trade, TradeColumns
from tradingcore.domain.values import Aggressor, Symbol
from tradingcore.risk.calendar import SessionCalendar
from tradingcore.risk.limits import RiskLimits

WIN: Final = Symbol("WINZ25")
OTHER: Final = Symbol("WDOF26")
SIGNALS: Final = 1_500
TRADES_PER_SIGNAL: Final = 5
BATCH: Final = 100
START_MS: Final = int(datetime(2025, 12, 1, 13, 0, tzinfo=UTC).timestamp() * 1000)
LIMITS: Final = {
    "max_position": 10,
    "max_orders_per_window": 1_000_000,
    "duplicate_window_seconds": 0,
}


def trade(number: int) -> Trade:
    price = Decimal(127_850 + 5 * (number % 7))
    aggressor = Aggressor.BUY if number % 2 else Aggressor.SELL
    return Trade(WIN, number, START_MS + number, price, 1, aggressor)


def signal_at(tick: Trade, number: int) -> SignalReceived:
    return SignalReceived(
        symbol=WIN,
        direction=Direction.BUY if number % 2 == 0 else Direction.SELL,
        confidence=0.9,
        features={"momentum": 0.1},
        model_version="bench-1",
        tick_trade_id=tick.trade_id,
        tick_timestamp_ms=tick.timestamp_ms,
        price=float(tick.price),
    )


class TapeWriter:
    """Another writer on the store file: batches of trades of another symbol, every 10 ms."""

    def __init__(self, url: str, batch: int = 100) -> None:
        self.app = open_store(url, SystemClock())
        self.batch = batch
        self.batches = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        number = 1
        while not self._stop.wait(0.01):
            columns = TradeColumns()
            for trade_id in range(number, number + self.batch):
                columns.append(
                    Trade(OTHER, trade_id, START_MS + trade_id, Decimal("5000.0"), 1, Aggressor.BUY)
                )
            self.app.record_trades(OTHER, date(2025, 12, 1), columns)
            number += self.batch
            self.batches += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.app.close()


def run_order_path(url: str, *, writer: bool, batched: bool = False) -> dict[str, Any]:
    clock = FeedClock()
    app = open_store(url, clock)
    broker = PaperBroker()
    orders = OrderManager(
        app,
        broker,
        limits=RiskLimits.from_plain(LIMITS),
        calendar=SessionCalendar(always_open=True),
        store_mark=store_mark(app),  # as the API host reads the store's mark
    )
    orders.start()
    desk = SignalDesk(orders, AutoExecution(enabled=True, quantity=1))
    cursor = FeedCursor(orders, desk, fill=broker.on_trade, clock=clock, hold=True)
    tape = TapeWriter(url) if writer else None
    per_signal: list[float] = []
    number = 0
    size = BATCH if batched else 1
    started = time.perf_counter()
    try:
        for first in range(0, SIGNALS, size):
            signals = []
            for index in range(first, min(first + size, SIGNALS)):
                for _ in range(TRADES_PER_SIGNAL):
                    number += 1
                    cursor.on_trade(trade(number))
                signals.append(signal_at(trade(number), index))
            begun = time.perf_counter()
            batch = SignalBatch() if batched else None
            taken = [cursor.take_signal(s, "bench", "bench", batch=batch) for s in signals]
            if batch is not None:
                desk.finish(batch)
                taken = [replace(t, result=desk.settled(batch, t.result)) for t in taken]
            per_signal += [(time.perf_counter() - begun) / len(signals)] * len(signals)
            assert all(t.result.execution is not None for t in taken), taken
        cursor.release()
        orders.writes.flush()
    finally:
        elapsed = time.perf_counter() - started
        if tape is not None:
            tape.stop()
    fills = len(app.position("bench", WIN).applied_fills)
    app.close()
    ms = np.array(per_signal) * 1000
    return {
        "signals": SIGNALS,
        "orders_per_second": round(SIGNALS / elapsed, 1),
        "per_signal_ms": {
            "p50": round(float(np.percentile(ms, 50)), 2),
            "p99": round(float(np.percentile(ms, 99)), 2),
            "max": round(float(ms.max()), 2),
        },
        "fills": fills,
        "writer_batches": tape.batches if tape is not None else 0,
    }


@pytest.mark.parametrize("batched", [False, True], ids=["single", "batched"])
@pytest.mark.parametrize("writer", [False, True], ids=["alone", "with-writer"])
def test_bench_signal_order_fill_in_process(
    benchmark: Any, tmp_path: Path, writer: bool, batched: bool
) -> None:
    url = f"sqlite:///{tmp_path / 'events.sqlite'}{os.environ.get('ORDER_PATH_STORE_QUERY', '')}"
    result = benchmark.pedantic(
        run_order_path, args=(url,), kwargs={"writer": writer, "batched": batched}, rounds=1
    )
    benchmark.extra_info.update(result)
    how = f"{'with a writer' if writer else 'alone'}, {'batched' if batched else 'single'}"
    print(f"\norder path ({how}): {result}")
    assert result["orders_per_second"] > 0
