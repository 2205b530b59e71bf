"""The front door: `tradingcore demo` runs the whole pipeline on the embedded store,
reproducibly."""

from __future__ import annotations

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


def test_cli_without_command_exits_with_usage() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hosts"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "usage: tradingcore" in result.stderr
