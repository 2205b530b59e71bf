"""The three hosts as real processes on ephemeral ports, sharing one SQLite store, with a seeded
trading session so that every metric the hosts declare has a value."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO

import httpx
from prometheus_client.parser import text_string_to_metric_families

from adapters.clock import SystemClock
from adapters.eventstore import open_store
from hosts.api.auth import Role, create_key
from tradingcore.domain.tape import Aggressor, Trade, TradeColumns
from tradingcore.domain.values import Symbol

PYTHON = sys.executable
TRADED = Symbol("WINZ25")
"""The API trades this symbol on trades dated now; the capture host streams another one (its
synthetic trades carry the synthetic session's dates, stale for the risk checks)."""
STREAMED = "WDOF26"
ANALYTICS_FAST = [
    "--window=20", "--momentum-lag=5", "--horizon=10", "--train-stride=2", "--batch-size=40",
    "--update-delay=7", "--warmup-updates=1", "--buy-threshold=0.4", "--sell-threshold=0.4",
    "--accuracy-batches=2", "--trainer=thread", "--writer=thread",
]  # fmt: skip


def eventually(condition: Callable[[], object], timeout: float = 30.0, what: str = "") -> None:
    """Wait until `condition()` is truthy (no timed assertion: the deadline only ends a hang)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (httpx.HTTPError, OSError, KeyError, ValueError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what or condition}")


@dataclass
class Host:
    name: str
    process: subprocess.Popen[str]
    metrics_url: str = ""
    output: list[str] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.metrics_url.split(":")[2].split("/")[0])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


class System:
    """API, analytics and capture hosts; `hosts` maps the job names of the scrape config."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.store_url = f"sqlite:///{directory / 'events.sqlite'}"
        self.keys_file = directory / "api-keys.json"
        self.trader = create_key(self.keys_file, "alice", Role.TRADER)
        self.admin = create_key(self.keys_file, "ops", Role.ADMIN)
        self.hosts: dict[str, Host] = {}
        self.environment = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "TRADINGCORE_API_KEY": self.trader,
        }

    def start(self) -> System:
        api = self._spawn("api", [
            "-m", "hosts.api", "--store", self.store_url, "--keys-file", str(self.keys_file),
            "--port", "0", "--trading-hours", "always",
        ])  # fmt: skip
        api.metrics_url = _first_line(api, "listening on").split()[-1] + "/metrics"
        analytics = self._spawn("analytics", [
            "-m", "hosts.analytics", "--store", self.store_url, "--listen", "127.0.0.1:0",
            "--metrics-port", "0", "--api-url", self.api_url, *ANALYTICS_FAST,
        ])  # fmt: skip
        line = _first_line(analytics, "analytics listening on")
        ws_url = line.split()[3].rstrip(",")
        analytics.metrics_url = f"http://127.0.0.1:{line.rsplit(':', 1)[1].strip()}/metrics"
        capture = self._spawn("capture", [
            "-m", "hosts.capture", "--source", "synthetic", "--symbols", STREAMED,
            "--trades", "400000", "--rate", "400", "--store", self.store_url,
            "--ws-url", ws_url, "--metrics-port", "0",
        ])  # fmt: skip
        capture.metrics_url = _first_line(capture, "metrics on").split()[-1]
        for host in self.hosts.values():  # an undrained pipe would block a chatty host
            threading.Thread(target=_drain, args=(host,), daemon=True).start()
        return self

    @property
    def api_url(self) -> str:
        return self.hosts["api"].metrics_url.removesuffix("/metrics")

    def _spawn(self, name: str, arguments: list[str]) -> Host:
        logs = self.directory / "logs"
        stderr = (self.directory / f"{name}.stderr").open("w")
        process = subprocess.Popen(
            [PYTHON, *arguments, "--log-dir", str(logs)],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=self.environment,
            cwd=self.directory,
        )
        stderr.close()
        host = Host(name, process)
        self.hosts[name] = host
        return host

    def scrape(self, name: str) -> str:
        return httpx.get(self.hosts[name].metrics_url, timeout=10).text

    def families(self, name: str) -> dict[str, int]:
        """Each metric family the host declares, with its number of samples."""
        return {
            family.name: len(family.samples)
            for family in text_string_to_metric_families(self.scrape(name))
        }

    def errors(self, name: str) -> str:
        return (self.directory / f"{name}.stderr").read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        for host in reversed(list(self.hosts.values())):
            host.stop()

    # Seeding a trading session through the API ---------------------------------------------

    def seed_trading(self) -> None:
        """A round trip that wins, a denied order, a refused key and a signal's delivery."""
        trades = iter(range(1, 1_000))
        self.record_trade(next(trades), 127_850)
        health = f"{self.api_url}/health"
        eventually(lambda: httpx.get(health).json()["feed"]["fresh"], what="a fresh trade")
        self.order("BUY", 1, "seed-buy")
        self.record_trade(next(trades), 127_850)
        eventually(lambda: self.net_quantity() == 1, what="the buy filled")
        self.order("SELL", 1, "seed-sell")
        self.record_trade(next(trades), 127_900)
        eventually(lambda: self.net_quantity() == 0, what="the sell filled")
        self.order("BUY", 100_000, "seed-denied")  # over the order size limit: denied
        httpx.get(f"{self.api_url}/api/v1/positions", headers={"X-API-Key": "tc_wrong"})

    def order(self, side: str, quantity: int, client_order_id: str) -> None:
        response = httpx.post(
            f"{self.api_url}/api/v1/execute",
            json={
                "symbol": TRADED.ticker,
                "side": side,
                "quantity": quantity,
                "price": -1,
                "client_order_id": client_order_id,
            },
            headers={"X-API-Key": self.trader},
            timeout=10,
        )
        assert response.status_code in (200, 201, 422), response.text

    def net_quantity(self) -> int:
        positions = httpx.get(
            f"{self.api_url}/api/v1/positions", headers={"X-API-Key": self.trader}, timeout=10
        ).json()
        rows = positions if isinstance(positions, list) else positions.get("positions", [])
        return sum(int(row["net_quantity"]) for row in rows if row["symbol"] == TRADED.ticker)

    def record_trade(self, trade_id: int, price: int) -> None:
        app = open_store(self.store_url, SystemClock())
        try:
            now = datetime.now(UTC)
            columns = TradeColumns()
            at_ms = int(now.timestamp() * 1000)
            columns.append(Trade(TRADED, trade_id, at_ms, Decimal(price), 5, Aggressor.BUY))
            app.record_trades(TRADED, now.date(), columns)
        finally:
            app.close()


def _first_line(host: Host, marker: str) -> str:
    stdout: IO[str] | None = host.process.stdout
    assert stdout is not None
    while True:
        line = stdout.readline()
        if not line:
            raise RuntimeError(f"{host.name} exited before saying {marker!r}")
        host.output.append(line)
        if marker in line:
            return line.strip()


def _drain(host: Host) -> None:
    stdout = host.process.stdout
    if stdout is not None:
        for line in stdout:
            host.output.append(line)
