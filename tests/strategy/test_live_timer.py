"""A strategy's timer fires live (the API host, a real process, on feed time) exactly as in
the backtest of the same tape: the same timer calls, so the same orders and fills."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.eventstore import open_store
from hosts.cli import main
from hosts.strategy.sources import synthetic_tapes
from tests.api.server import ApiServer, create_key
from tradingcore.application.timers import TimerSchedule
from tradingcore.domain.order import OrderFilled, OrderSubmitted
from tradingcore.domain.tape import session_of
from tradingcore.domain.values import Symbol
from tradingcore.ports.clock import ManualClock

REPOSITORY = Path(__file__).resolve().parents[2]
WIN = Symbol("WINZ25")


@given(
    start=st.integers(0, 10**12),
    gaps=st.lists(st.integers(0, 5_000), max_size=60),
    every=st.integers(1, 3_000),
)
def test_each_interval_fires_once_in_order_before_the_first_trade_past_it(
    start: int, gaps: list[int], every: int
) -> None:
    schedule = TimerSchedule(timedelta(milliseconds=every))
    stamps = [start]
    for gap in gaps:
        stamps.append(stamps[-1] + gap)
    fired: list[tuple[int, int]] = []  # (due, index of the trade it fired before)
    for index, stamp in enumerate(stamps):
        fired.extend((due, index) for due in schedule.due_through(stamp))
    assert [due for due, _ in fired] == [start + every * k for k in range(1, len(fired) + 1)]
    for due, index in fired:
        assert stamps[index - 1] < due <= stamps[index]  # fired before the first trade past it
    assert schedule.next_ms is not None and schedule.next_ms > stamps[-1]  # none missed


def _orders_and_fills(url: str) -> tuple[list[tuple[str, str, str]], list[tuple[int, str, int]]]:
    app = open_store(url, ManualClock())
    try:
        orders: list[tuple[str, str, str]] = []
        fills: list[tuple[int, str, int]] = []
        for item in app.recorder.select_notifications(start=1, limit=10_000_000):
            if item.topic.endswith((":OrderSubmitted", ":OrderFilled")):
                event = app.mapper.to_domain_event(item)
                if isinstance(event, OrderSubmitted):
                    orders.append(
                        (event.client_order_id, str(event.side), event.timestamp.isoformat())
                    )
                elif isinstance(event, OrderFilled):
                    fills.append((event.trade_id, str(event.price), event.quantity))
        return orders, fills
    finally:
        app.close()


def test_the_live_timer_gives_the_backtests_orders_and_fills(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(REPOSITORY))  # the API process imports tests.strategy
    create_key(tmp_path / "keys.json", "alice", "trader")
    server = ApiServer(
        tmp_path,
        tmp_path / "keys.json",
        [
            "--clock", "feed",
            "--strategy", "tests.strategy.timed:Flipper",
            "--strategy-param", "seconds=2",
            "--strategy-account", "alice",
        ],
    ).start()  # fmt: skip
    try:
        tape = synthetic_tapes([WIN.ticker], seed=11, trades=3_000)[WIN]
        writer = open_store(server.store_url, ManualClock())
        try:  # the capture host's part: the tape, in batches, after the API started
            for start in range(0, 3_000, 250):
                session = session_of(int(tape.timestamps_ms[start]))
                writer.record_trades(WIN, session, tape.columns(start, start + 250))
        finally:
            writer.close()
        assert main(
            [
                "backtest", "--store", server.store_url,
                "--strategy", "tests.strategy.timed:Flipper", "--param", "seconds=2",
                "--account", "alice",
                "--output", str(tmp_path / "bt"), "--quiet", "--no-png",
            ]
        ) == 0  # fmt: skip
        expected = _orders_and_fills(f"sqlite:///{tmp_path / 'bt' / 'events.sqlite'}")
        assert len(expected[0]) > 20 and len(expected[1]) == len(expected[0])
        deadline = time.monotonic() + 60
        live = _orders_and_fills(server.store_url)
        while live != expected and time.monotonic() < deadline:
            time.sleep(0.5)
            live = _orders_and_fills(server.store_url)
        assert live == expected, server.errors()[-2_000:]
    finally:
        server.stop()
