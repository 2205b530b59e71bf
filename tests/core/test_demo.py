"""The front door: `tradingcore demo` runs the whole pipeline on the embedded store,
reproducibly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from adapters.eventstore import open_store
from tradingcore.domain.order import Order
from tradingcore.ports.clock import ManualClock


def run_demo(data_dir: Path) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "hosts", "demo", "--data-dir", str(data_dir), "--trades", "22000"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return result.stdout.replace(str(data_dir), "DATA").splitlines()


def test_demo_with_same_seed_prints_the_same_result_and_traces_fills_to_signals(
    tmp_path: Path,
) -> None:
    first = run_demo(tmp_path / "a")
    second = run_demo(tmp_path / "b")
    assert first[1:] == second[1:]  # the first line carries the elapsed time
    text = "\n".join(first)
    assert "signals: " in text and "BUY" in text
    assert any(line.startswith("WINZ25") for line in first)
    assert "traced to its cause" in text
    assert (tmp_path / "a" / "parquet" / "WINZ25" / "2025-12-01" / "trades.parquet").exists()
    app = open_store(f"sqlite:///{tmp_path / 'a' / 'events.sqlite'}", ManualClock())
    submitted = [
        n
        for n in app.recorder.select_notifications(start=1, limit=100_000)
        if n.topic.endswith(":OrderSubmitted")
    ]
    assert submitted, "the demo's signals sent no order"
    for notification in submitted:
        order = app.load(Order, notification.originator_id)  # type: ignore[arg-type]
        assert order.signal_id is not None, "every demo order names the signal behind it"


def sql(root: Path, query: str) -> list[dict[str, object]]:
    result = subprocess.run(
        [sys.executable, "-m", "hosts", "sql", "--root", str(root), "--format", "json", query],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    rows: list[dict[str, object]] = json.loads(result.stdout)
    return rows


def test_demo_default_session_signals_both_ways_and_positions_go_long_and_short(
    tmp_path: Path,
) -> None:
    """The default demo (no --seed, no --trades) must not be a market that only ever buys:
    each symbol gets BUY and SELL signals, and the position policy holds it long and short."""
    subprocess.run(
        [sys.executable, "-m", "hosts", "demo", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    root = tmp_path / "parquet"
    signals = sql(root, "SELECT symbol, direction, count(*) AS n FROM signals GROUP BY ALL")
    positions = sql(
        root,
        "SELECT symbol, min(net_quantity) AS lowest, max(net_quantity) AS highest "
        "FROM positions GROUP BY symbol",
    )
    symbols = {str(row["symbol"]) for row in signals}
    assert symbols == {"WINZ25", "WDOF26"}
    for symbol in symbols:
        directions = {str(row["direction"]) for row in signals if row["symbol"] == symbol}
        assert {"BUY", "SELL"} <= directions, f"{symbol} signalled only {sorted(directions)}"
    assert {str(row["symbol"]) for row in positions} == symbols
    for row in positions:
        assert int(str(row["highest"])) > 0, f"{row['symbol']} never went long"
        assert int(str(row["lowest"])) < 0, f"{row['symbol']} never went short"


def test_cli_without_command_exits_with_usage() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hosts"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "usage: tradingcore" in result.stderr
