"""The dashboard in a real headless Chromium against running hosts and a seeded store.

The API host and a capture host (synthetic feed, its own store) run as processes; the analytics
host is not started, so its card must say unreachable. Waits have bounds, never timings.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.eventstore import open_store
from hosts.api.clock import SystemClock
from tests.api.browser import (
    chrome,
    require_chromium,
    screenshot,
    text_of,
    texts_of,
    wait_for,
)
from tests.api.server import ApiServer, create_key
from tests.api.test_server import eventually
from tradingcore.domain.tape import Trade, TradeColumns
from tradingcore.domain.values import Aggressor, Symbol

WIN = Symbol("WINZ25")
UPDATE_BOUND_SECONDS = 1.0
"""The spec's bound: an event is on the page within a second."""

pytestmark = pytest.mark.slow


@dataclass
class Session:
    api: ApiServer
    alice: str
    bob: str
    root: str
    next_trade: int = 1

    def print_trade(self, price: int) -> None:
        app = open_store(self.api.store_url, SystemClock())
        try:
            now = datetime.now(UTC)
            columns = TradeColumns()
            columns.append(
                Trade(
                    WIN,
                    self.next_trade,
                    int(now.timestamp() * 1000),
                    Decimal(price),
                    50,
                    Aggressor.BUY,
                )
            )
            app.record_trades(WIN, now.date(), columns)
            self.next_trade += 1
        finally:
            app.close()

    def post(self, path: str, key: str, body: dict[str, Any]) -> Any:
        response = httpx.post(f"{self.api.url}{path}", json=body, headers={"X-API-Key": key})
        assert response.status_code < 300, response.text
        return response.json()

    def order(self, key: str, side: str, quantity: int) -> Any:
        body = {"symbol": "WINZ25", "side": side, "quantity": quantity, "price": -1}
        return self.post("/api/v1/execute", key, body)

    def signal(self, key: str, direction: str, model: str, tick: int) -> Any:
        body = {
            "symbol": "WINZ25",
            "direction": direction,
            "confidence": 0.71,
            "features": {},
            "model_version": model,
            "tick_trade_id": tick,
            "tick_timestamp_ms": int(time.time() * 1000) - 3,
            "price": 127_900.0,
        }
        return self.post("/api/v1/signals", key, body)

    def status(self, key: str, order_id: str) -> str:
        url = f"{self.api.url}/api/v1/orders/{order_id}"
        return str(httpx.get(url, headers={"X-API-Key": key}).json()["status"])


@pytest.fixture
def capture(tmp_path: Path) -> Iterator[str]:
    """A real capture host on a synthetic feed (its own store): its /health URL."""
    process = subprocess.Popen(
        [
            sys.executable, "-m", "hosts.capture",
            "--source", "synthetic", "--symbols", "WINZ25", "--rate", "5",
            "--store", f"sqlite:///{tmp_path / 'capture.sqlite'}",
            "--metrics-port", "0", "--log-dir", str(tmp_path / "capture-logs"),
            "--ws-url", "ws://127.0.0.1:9/",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "metrics on" in line, line
        yield line.split()[-1].replace("/metrics", "/health")
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture
def session(tmp_path: Path, capture: str) -> Iterator[Session]:
    require_chromium()
    keys_file = tmp_path / "keys.json"
    alice = create_key(keys_file, "alice", "trader")
    bob = create_key(keys_file, "bob", "trader")
    root = create_key(keys_file, "root", "admin")
    api = ApiServer(
        tmp_path,
        keys_file,
        extra=(
            "--capture-health-url", capture,
            "--analytics-health-url", "http://127.0.0.1:9/health",
            "--clock", "wall",  # live-like: the stored times are wall-clock times
        ),
    ).start()  # fmt: skip
    seeded = Session(api, alice, bob, root)
    try:
        seed(seeded)
        yield seeded
    finally:
        api.stop()


def seed(s: Session) -> None:
    """Two accounts trade WINZ25: alice buys 3 and sells 2 at a profit, bob sells 2; one
    order is denied; two signals."""
    s.print_trade(127_850)
    eventually(lambda: httpx.get(f"{s.api.url}/health").json()["feed"]["fresh"] is True)
    bought = s.order(s.alice, "BUY", 3)["order_id"]
    sold_short = s.order(s.bob, "SELL", 2)["order_id"]
    s.print_trade(127_900)
    eventually(lambda: s.status(s.alice, bought) == "FILLED")
    eventually(lambda: s.status(s.bob, sold_short) == "FILLED")
    sold = s.order(s.alice, "SELL", 2)["order_id"]
    s.print_trade(127_950)
    eventually(lambda: s.status(s.alice, sold) == "FILLED")
    assert s.order(s.alice, "BUY", 50)["status"] == "DENIED"
    s.signal(s.alice, "BUY", "seed-model-1", 2)
    s.signal(s.alice, "SELL", "seed-model-2", 3)


def open_dashboard(driver: Any, s: Session, key: str) -> None:
    driver.get(f"{s.api.url}/dashboard#key={key}")
    wait_for(driver, lambda d: d.execute_script("return document.body.dataset.loaded"), 15)
    wait_for(driver, lambda d: d.execute_script("return document.body.dataset.stream") == "live", 5)


def card_value(driver: Any, host: str, label: str) -> str:
    """The value beside `label` on a host's health card."""
    lines = text_of(driver, f'[data-host="{host}"] dl').splitlines()
    return lines[lines.index(label) + 1].strip() if label in lines else ""


def rows(driver: Any, tbody: str) -> list[str]:
    """Each row's cells joined by single spaces."""
    return [" ".join(row.split()) for row in texts_of(driver, f"#{tbody} tr")]


def test_every_panel_shows_the_seeded_session_and_an_update_arrives_within_a_second(
    session: Session, tmp_path: Path
) -> None:
    with chrome(tmp_path / "profile") as driver:
        open_dashboard(driver, session, session.root)
        assert "#key=" not in driver.current_url  # the key leaves the address bar
        # Offline: every resource the page loaded came from the API host.
        loaded = driver.execute_script(
            "return performance.getEntriesByType('resource').map(entry => entry.name)"
        )
        assert loaded and all(url.startswith(session.api.url) for url in loaded), loaded

        # Health: the API and the capture host answer, the analytics host does not.
        wait_for(driver, lambda d: "ok" in text_of(d, '[data-host="capture"] h3'), 10)
        assert "ok" in text_of(driver, '[data-host="api"] h3')
        assert "unreachable" in text_of(driver, '[data-host="analytics"] h3')
        assert "logged_in" in text_of(driver, '[data-host="capture"] dl').lower() or (
            "connected" in text_of(driver, '[data-host="capture"] dl').lower()
        )
        # The capture host streams: its card gives the age of its last tick.
        wait_for(driver, lambda d: card_value(d, "capture", "Last tick") not in ("", "–"), 10)

        # The admin sees both accounts' positions, in R$, prices on the tick (no float noise).
        positions = rows(driver, "positions")
        assert any(row.startswith("alice WINZ25 1 ") for row in positions), positions
        assert any(row.startswith("bob WINZ25 -2 ") for row in positions), positions
        assert "R$ 20,00" in text_of(driver, "#positions-table")  # 2 x 50 points x R$ 0.20
        assert "127.900" in text_of(driver, "#positions-table")
        assert text_of(driver, "#total-gross") == "R$ 20,00"
        assert text_of(driver, "#kpi-net") == text_of(driver, "#total-net") != "R$ 20,00"  # fees

        # Signals newest first, with time and model; orders with the denial's reason; fills.
        signals = rows(driver, "signals")
        assert "seed-model-2" in signals[0] and "seed-model-1" in signals[1], signals
        orders = rows(driver, "orders")
        assert "DENIED" in orders[0] and "QUANTITY" in orders[0].upper(), orders
        assert sum("FILLED" in row for row in orders) == 3
        assert len(rows(driver, "fills")) == 3

        # Charts have points: P&L, hit rate (1 of 1 closing fill won), latencies.
        points = driver.execute_script(
            "return ['chart-pnl','chart-hit','chart-signal-latency','chart-order-latency']"
            ".map(id => Number(document.getElementById(id).dataset.points))"
        )
        assert all(count > 0 for count in points), points
        # Order latency from the API host's own request histogram (wall clock), once a poll
        # window holds the seeded orders.
        wait_for(driver, lambda d: "API host" in text_of(d, "#chart-order-latency-source"), 5)
        assert "100%" in text_of(driver, "#kpi-hit")

        # A new signal is on the page within a second of being stored.
        stored = time.monotonic()
        session.signal(session.bob, "HOLD", "live-model", 4)
        wait_for(driver, lambda d: "live-model" in rows(d, "signals")[0], UPDATE_BOUND_SECONDS)
        assert time.monotonic() - stored < UPDATE_BOUND_SECONDS + 0.5

        # No horizontal overflow on a desktop or a phone.
        for width in (1280, 390):
            sizes = screenshot(driver, tmp_path / f"dashboard-{width}.png", width)
            assert sizes["scroll"] <= sizes["inner"], (width, sizes)

        # The admin filters one account.
        from selenium.webdriver.support.select import Select

        driver.set_window_size(1280, 900)
        Select(driver.find_element("id", "account")).select_by_value("bob")
        wait_for(driver, lambda d: all(" bob " in row for row in rows(d, "orders")), 5)
        assert all(row.startswith("bob ") for row in rows(driver, "positions"))


def test_kill_switch_engages_and_releases_through_the_page_and_a_trader_cannot_release_it(
    session: Session, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    def change(driver: Any, reason: str) -> None:
        driver.find_element(By.ID, "kill-button").click()
        wait_for(driver, lambda d: d.find_element(By.ID, "kill-dialog").is_displayed(), 5)
        driver.find_element(By.ID, "kill-reason").send_keys(reason)
        driver.find_element(By.ID, "kill-confirm").click()

    def badge(driver: Any) -> str:
        return text_of(driver, "#kill-badge")

    with chrome(tmp_path / "admin") as admin, chrome(tmp_path / "trader") as trader:
        open_dashboard(admin, session, session.root)
        open_dashboard(trader, session, session.alice)
        assert "Trading enabled" in badge(admin)

        # Cancelling the dialog changes nothing.
        admin.find_element(By.ID, "kill-button").click()
        admin.find_element(By.ID, "kill-cancel").click()
        assert "Trading enabled" in badge(admin)

        change(admin, "drill from the dashboard")
        wait_for(admin, lambda d: "ENGAGED" in badge(d), 5)
        wait_for(trader, lambda d: "ENGAGED" in badge(d), UPDATE_BOUND_SECONDS)
        assert "drill from the dashboard" in text_of(trader, "#kill-detail")

        change(trader, "a trader tries")
        wait_for(trader, lambda d: "403" in text_of(d, "#alerts"), 5)
        # The refusal stays on screen across later updates; the switch stays engaged.
        session.signal(session.alice, "BUY", "after-403", 9)
        wait_for(trader, lambda d: "after-403" in rows(d, "signals")[0], 5)
        assert "403" in text_of(trader, "#alerts")
        assert "ENGAGED" in badge(trader)
        state = httpx.get(
            f"{session.api.url}/api/v1/risk/kill-switch", headers={"X-API-Key": session.root}
        ).json()
        assert state["engaged"] is True

        change(admin, "drill over")
        wait_for(admin, lambda d: "Trading enabled" in badge(d), 5)
        wait_for(trader, lambda d: "Trading enabled" in badge(d), UPDATE_BOUND_SECONDS)
        screenshot(trader, tmp_path / "dashboard-trader-403.png", 390)
