"""Acceptance: `tradingcore up` on a seeded synthetic session trades on feed time and equals
`tradingcore backtest --trade` on the same ticks (signals, orders, fills, positions)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from decimal import Decimal
from pathlib import Path

from eventsourcing.utils import get_topic

from adapters.eventstore import open_store
from hosts.analytics.backtest_trading import TradingRecord, trading_record
from tests.supervisor.system import System, write_config
from tradingcore.domain.tape import TradesRecorded
from tradingcore.ports.clock import ManualClock

TRADES = 40_000


def metric(port: int, name: str) -> float | None:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        text = reply.read().decode()
    match = re.search(rf"^{name} ([0-9.e+-]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else None


def test_up_trades_a_seeded_session_like_the_backtest_of_its_ticks(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        # Trades only: the store keeps no book tops, so the backtest sees what analytics saw.
        capture={"trades": TRADES, "rate": 8_000.0, "seed": 11, "books": False},
        # A long hold: on a loaded machine the analytics host may lag the tape by seconds.
        api={"feed_hold": 300.0},
        # Not the defaults: the API's paper broker and the backtest read the same [fees].
        fees={"broker_per_order": "0.40", "source": "test"},
    )
    analytics_metrics = int(re.findall(r"metrics_port = (\d+)", config.read_text())[1])
    api_port = int(re.findall(r"\[api\]\nport = (\d+)", config.read_text())[0])
    system = System(tmp_path)
    try:
        system.wait_started()
        system.wait_for(
            "every tick processed and every signal delivered",
            lambda: (
                metric(analytics_metrics, "analytics_ticks_processed_total") == TRADES
                and metric(analytics_metrics, "analytics_signals_forward_queue") == 0
            ),
        )
        # The feed hold is 300 s: an order waits for the trade after its tick until the next
        # signal comes, or the analytics host's progress mark says none can come.
        system.wait_for(
            "every order filled before the system stops",
            lambda: unfilled(tmp_path / "data" / "events.sqlite") == 0,
        )
        by_marks = metric(api_port, re.escape('api_held_trades_applied_total{by="mark"}'))
        down = system.tradingcore("down")
        assert down.returncode == 0, down.stderr
        assert system.process.wait(120) == 0
    finally:
        system.close()
    store = f"sqlite:///{tmp_path / 'data' / 'events.sqlite'}"
    app = open_store(store, ManualClock())
    live = trading_record(app)
    app.close()
    events = tmp_path / "backtest.jsonl"
    backtest = subprocess.run(
        [
            sys.executable, "-m", "hosts", "backtest", "--config", str(config), "--store", store,
            "--trade", "--account", "operator", "--json", "--events-out", str(events),
        ],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    expected = [json.loads(line) for line in events.read_text().splitlines()]

    assert live.fills, "no order was filled"
    assert by_marks is not None and by_marks > 0  # the marks crossed the processes
    assert went_long_short_and_flat(live)
    assert live.realized_pnl != Decimal(0)
    # The configured schedule, not the defaults: WIN day trade R$ 0.25 per contract, plus the
    # broker's R$ 0.40 on each order's first fill.
    charged, first = [], set()
    for fill in live.fills:
        once = Decimal("0.40") if fill["order_id"] not in first else Decimal(0)
        first.add(fill["order_id"])
        charged.append(Decimal(fill["fees"]) == Decimal("0.25") * fill["quantity"] + once)
    assert all(charged) and any(fill["fees"] == "0.65" for fill in live.fills)
    assert list(live.events()) == expected
    assert json.loads(backtest.stdout)["trading"]["sha256"] == live.sha256()

    # The recording variant: the live store exported as a recording, replayed through the
    # position-policy strategy (the stored signals, the simulated venue at latency 0, the
    # same risk limits and fees) gives the live fills and positions.
    recording = tmp_path / "session.tcrec"
    subprocess.run(
        [sys.executable, "-m", "hosts", "recording", "export", str(recording), "--store", store],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    subprocess.run(
        [
            sys.executable, "-m", "hosts", "backtest", str(recording), "--config", str(config),
            "--strategy", "position-policy", "--account", "operator",
            "--output", str(tmp_path / "strategy"), "--quiet", "--no-png",
        ],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    replay_app = open_store(f"sqlite:///{tmp_path / 'strategy' / 'events.sqlite'}", ManualClock())
    replayed = trading_record(replay_app)
    replay_app.close()
    assert without_order_ids(replayed.fills) == without_order_ids(live.fills)
    assert replayed.positions == live.positions


def unfilled(path: Path) -> int:
    """Orders in the store, not denied, not filled in full, although trades followed their
    signal's tick (an order at the tape's last trade has none to fill it)."""
    app = open_store(f"sqlite:///{path}", ManualClock())
    try:
        record = trading_record(app)
        last_trade = 0
        for notification in app.recorder.select_notifications(
            start=1, limit=1_000_000, topics=[get_topic(TradesRecorded)]
        ):
            event = app.mapper.to_domain_event(notification)
            assert isinstance(event, TradesRecorded)
            last_trade = max(last_trade, *event.trade_ids)
    finally:
        app.close()
    ticks = {signal["signal_id"]: signal["tick_trade_id"] for signal in record.signals}
    filled: dict[str, int] = {}
    for fill in record.fills:
        filled[fill["order_id"]] = filled.get(fill["order_id"], 0) + fill["quantity"]
    return sum(
        1
        for order in record.orders
        if not order["denied"]
        and filled.get(order["order_id"], 0) != order["quantity"]
        and ticks.get(order["signal_id"], 0) < last_trade
    )


def went_long_short_and_flat(record: TradingRecord) -> bool:
    sides = {row["order_id"]: row["side"] for row in record.orders}
    net, seen = 0, set()
    for fill in record.fills:
        net += fill["quantity"] if sides[fill["order_id"]] == "BUY" else -fill["quantity"]
        seen.add((net > 0) - (net < 0))
    return seen == {1, 0, -1}


def without_order_ids(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """Fills without their order ids (a strategy names its orders after itself)."""
    return [{key: value for key, value in row.items() if key != "order_id"} for row in rows]
