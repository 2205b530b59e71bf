"""The dashboard page in a real headless Chromium shows the API's data."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from adapters.eventstore import open_store
from hosts.api.clock import SystemClock
from tests.api.server import ApiServer, create_key
from tests.api.test_server import eventually
from tradingcore.domain.tape import Trade, TradeColumns
from tradingcore.domain.values import Aggressor, Symbol

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WIN = Symbol("WINZ25")


@pytest.fixture
def chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is required in CI (scripts/test-services installs it)")
        pytest.skip("chromium is not installed: apt-get install chromium")
    return CHROMIUM


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[ApiServer, str, str]]:
    keys_file = tmp_path / "keys.json"
    trader = create_key(keys_file, "alice", "trader")
    admin = create_key(keys_file, "root", "admin")
    running = ApiServer(tmp_path, keys_file).start()
    yield running, trader, admin
    running.stop()


def record_trade(store_url: str, trade_id: int, price: int) -> None:
    app = open_store(store_url, SystemClock())
    try:
        now = datetime.now(UTC)
        columns = TradeColumns()
        columns.append(
            Trade(WIN, trade_id, int(now.timestamp() * 1000), Decimal(price), 5, Aggressor.BUY)
        )
        app.record_trades(WIN, now.date(), columns)
    finally:
        app.close()


def test_dashboard_in_chromium_shows_positions_signals_and_kill_switch(
    chromium: str, server: tuple[ApiServer, str, str], tmp_path: Path
) -> None:
    api, trader, admin = server
    headers = {"X-API-Key": trader}
    record_trade(api.store_url, 1, 127_850)
    eventually(lambda: httpx.get(f"{api.url}/health").json()["feed"]["fresh"] is True)
    order = httpx.post(
        f"{api.url}/api/v1/execute",
        json={"symbol": "WINZ25", "side": "BUY", "quantity": 3, "price": -1},
        headers=headers,
    ).json()
    record_trade(api.store_url, 2, 127_900)
    order_url = f"{api.url}/api/v1/orders/{order['order_id']}"
    eventually(lambda: httpx.get(order_url, headers=headers).json()["status"] == "FILLED")
    httpx.post(
        f"{api.url}/api/v1/signals",
        json={
            "symbol": "WINZ25",
            "direction": "SELL",
            "confidence": 0.73,
            "features": {},
            "model_version": "dashboard-model",
            "tick_trade_id": 2,
            "tick_timestamp_ms": 1_764_601_200_000,
            "price": 127_900.0,
        },
        headers=headers,
    )
    httpx.post(
        f"{api.url}/api/v1/risk/kill-switch",
        json={"action": "engage", "reason": "dashboard check"},
        headers={"X-API-Key": admin},
    )

    done = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'chromium'}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            f"{api.url}/dashboard#key={trader}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    dom = done.stdout

    assert 'data-loaded="true"' in dom, done.stderr[-2000:]
    assert 'data-symbol="WINZ25"' in dom
    assert "<td>3</td>" in dom  # net quantity
    assert "dashboard-model" in dom
    assert "ENGAGED" in dom and "dashboard check" in dom
