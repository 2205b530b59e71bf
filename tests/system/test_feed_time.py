"""Acceptance: a seeded synthetic session through capture -> analytics -> api trades on feed time
and equals `tradingcore backtest --trade` on the same ticks (signals, orders, fills, positions)."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from adapters.eventstore import open_store
from hosts.analytics.backtest_trading import trading_record
from tests.system.harness import System, wait_until
from tradingcore.ports.clock import ManualClock

TRADES = 40_000


def test_a_seeded_session_trades_like_the_backtest_of_its_ticks(tmp_path: Path) -> None:
    system = System(tmp_path)
    try:
        # A long hold: on a loaded machine the analytics host may lag the tape by seconds, and
        # a trade applied before a lagging signal's tick would make that signal late.
        api = system.api("--feed-hold", "300")
        analytics = system.analytics(api)
        system.capture(
            analytics,
            "--source",
            "synthetic",
            "--seed",
            "11",
            "--trades",
            str(TRADES),
            "--rate",
            "8000",
            "--no-books",  # the store keeps trades only: the backtest sees what analytics saw
        )
        wait_until(
            lambda: (
                analytics.metric("analytics_ticks_processed_total") == TRADES
                and analytics.metric("analytics_signals_forward_queue") == 0
            ),
            timeout=300,
            what="the analytics host to process every tick and deliver every signal",
        )
        assert analytics.stop() == 0
        # uvicorn shuts down gracefully (the host stops) and then re-raises SIGTERM.
        assert api.stop() in (0, -15)
    finally:
        system.stop_all()
    app = open_store(system.store, ManualClock())
    live = trading_record(app)
    app.close()
    events = tmp_path / "backtest.jsonl"
    backtest = subprocess.run(
        [
            sys.executable,
            "-m",
            "hosts",
            "backtest",
            "--store",
            system.store,
            "--trade",
            "--account",
            "bot",
            "--json",
            "--events-out",
            str(events),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    expected = [json.loads(line) for line in events.read_text().splitlines()]

    fills = live.fills
    assert fills, "no order was filled"
    net, seen = 0, set()
    sides = {row["order_id"]: row["side"] for row in live.orders}
    for fill in fills:
        net += fill["quantity"] if sides[fill["order_id"]] == "BUY" else -fill["quantity"]
        seen.add((net > 0) - (net < 0))
    assert seen == {1, 0, -1}, "the position did not go long, short and back to flat"
    assert live.realized_pnl != Decimal(0)
    assert list(live.events()) == expected
    assert json.loads(backtest.stdout)["trading"]["sha256"] == live.sha256()
