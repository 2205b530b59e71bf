"""API host benchmarks: execute → risk → paper acknowledgement, over HTTP and in process.

Figures land in `benchmark.extra_info` and are printed; docs/performance.md records them.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.broker.paper import PaperBroker
from adapters.eventstore import open_store
from hosts.api.clock import SystemClock
from tradingcore.application.order_commands import ExecuteOrder
from tradingcore.application.order_manager import OrderManager
from tradingcore.domain.tape import Trade, TradeColumns
from tradingcore.domain.values import Aggressor, Side, Symbol
from tradingcore.ports.clock import ManualClock
from tradingcore.risk.calendar import SessionCalendar
from tradingcore.risk.limits import RiskLimits

WIN = Symbol("WINZ25")
PYTHON = sys.executable


class ApiServer:
    """`python -m hosts.api` on a free loopback port (as tests/api/server.py does)."""

    def __init__(self, directory: Path, keys_file: Path, extra: list[str]) -> None:
        self.store_url = f"sqlite:///{directory / 'events.sqlite'}"
        self.command = [
            PYTHON, "-m", "hosts.api", "--store", self.store_url, "--keys-file", str(keys_file),
            "--port", "0", "--log-dir", str(directory / "logs"), "--trading-hours", "always",
            *extra,
        ]  # fmt: skip
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> ApiServer:
        self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().rsplit(" ", 1)[-1].strip()
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


def create_key(keys_file: Path, name: str, role: str) -> str:
    command = [PYTHON, "-m", "hosts.api", "--keys-file", str(keys_file), "--create-key", name]
    done = subprocess.run(
        [*command, "--role", role], capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout.strip()


OPEN_LIMITS = {
    "max_position": 1_000_000,
    "max_orders_per_window": 1_000_000,
    "duplicate_window_seconds": 0,
    "market_data_max_age_seconds": 3_600,
}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


SHM = Path("/dev/shm")
MEDIA = [
    "disk",
    pytest.param("tmpfs", marks=pytest.mark.skipif(not SHM.is_dir(), reason="no /dev/shm")),
]
"""Where the SQLite store lives: the disk (an fsync per commit) or tmpfs (CPU cost alone)."""


def bench_directory(factory: pytest.TempPathFactory, medium: str) -> Path:
    if medium == "disk":
        return factory.mktemp("api-bench")
    return Path(tempfile.mkdtemp(prefix="api-bench-", dir=SHM))


@pytest.fixture(scope="module", params=MEDIA)
def api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ApiServer, str]]:
    directory = bench_directory(tmp_path_factory, request.param)
    keys_file = directory / "keys.json"
    key = create_key(keys_file, "bench", "trader")
    risk_file = directory / "risk.json"
    risk_file.write_text(json.dumps(OPEN_LIMITS))
    server = ApiServer(
        directory,
        keys_file,
        [
            "--risk-config", str(risk_file),
            "--rate-limit-client", "1000000",
            "--rate-limit-key", "1000000",
        ],
    ).start()  # fmt: skip
    store = open_store(server.store_url, SystemClock())
    now = datetime.now(UTC)
    columns = TradeColumns()
    columns.append(Trade(WIN, 1, int(now.timestamp() * 1000), Decimal(127_850), 5, Aggressor.BUY))
    store.record_trades(WIN, now.date(), columns)
    store.close()
    deadline = time.monotonic() + 10
    while not httpx.get(f"{server.url}/health").json()["feed"]["fresh"]:
        if time.monotonic() > deadline:
            raise RuntimeError("the API never saw the trade")
        time.sleep(0.05)
    yield server, key
    server.stop()
    if request.param != "disk":
        shutil.rmtree(directory, ignore_errors=True)


def order(number: int) -> dict[str, Any]:
    """A resting limit order inside the price band (never filled: no more trades print)."""
    return {
        "symbol": "WINZ25",
        "side": "BUY" if number % 2 else "SELL",
        "quantity": 1,
        "price": 127_850 - 5 * (number % 40) if number % 2 else 127_850 + 5 * (number % 40),
    }


def test_bench_execute_latency_at_200_per_second(
    benchmark: Any, api: tuple[ApiServer, str]
) -> None:
    server, key = api
    latencies: list[float] = []

    def paced() -> None:
        with httpx.Client(base_url=server.url, headers={"X-API-Key": key}) as client:
            start = time.perf_counter()
            for number in range(1_000):
                due = start + number / 200
                while (wait := due - time.perf_counter()) > 0:
                    time.sleep(wait)
                sent = time.perf_counter()
                response = client.post("/api/v1/execute", json=order(number))
                latencies.append((time.perf_counter() - sent) * 1000)
                if response.json()["status"] != "ACCEPTED":
                    raise AssertionError(response.text)

    benchmark.pedantic(paced, rounds=1, iterations=1)
    benchmark.extra_info.update(
        p50_ms=round(statistics.median(latencies), 3),
        p99_ms=round(percentile(latencies, 0.99), 3),
        max_ms=round(max(latencies), 3),
    )
    print(f"\nexecute at 200/s: {benchmark.extra_info}")


def test_bench_execute_sustained_throughput(benchmark: Any, api: tuple[ApiServer, str]) -> None:
    server, key = api
    per_client, clients = 750, 4
    result: dict[str, float] = {}

    def flood() -> None:
        def send(offset: int) -> None:
            with httpx.Client(base_url=server.url, headers={"X-API-Key": key}) as client:
                for number in range(per_client):
                    client.post("/api/v1/execute", json=order(offset + number)).raise_for_status()

        threads = [
            threading.Thread(target=send, args=(index * per_client,)) for index in range(clients)
        ]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        result["orders_per_second"] = per_client * clients / (time.perf_counter() - start)

    benchmark.pedantic(flood, rounds=1, iterations=1)
    benchmark.extra_info.update(orders_per_second=round(result["orders_per_second"]))
    print(f"\nexecute flood, {clients} clients: {benchmark.extra_info}")


@pytest.mark.parametrize("medium", MEDIA)
def test_bench_order_manager_execute_in_process(
    benchmark: Any, tmp_path_factory: pytest.TempPathFactory, medium: str
) -> None:
    directory = bench_directory(tmp_path_factory, medium)
    clock = ManualClock(datetime(2025, 12, 1, 15, 0, tzinfo=UTC))
    app = open_store(f"sqlite:///{directory / 'events.sqlite'}", clock)
    orders = OrderManager(
        app,
        PaperBroker(),
        limits=RiskLimits.from_plain(OPEN_LIMITS),
        calendar=SessionCalendar(always_open=True),
    )
    orders.start()
    orders.on_trade(
        Trade(WIN, 1, int(clock.now().timestamp() * 1000), Decimal(127_850), 5, Aggressor.BUY)
    )
    counter = iter(range(10_000_000))

    def execute() -> None:
        number = next(counter)
        body = order(number)
        orders.execute(
            ExecuteOrder(
                actor="bench",
                account="bench",
                symbol=WIN,
                side=Side(body["side"]),
                quantity=1,
                price=Decimal(body["price"]),
                client_order_id=f"bench-{number}",
            )
        )

    benchmark.pedantic(execute, rounds=500, iterations=1, warmup_rounds=20)
    app.close()
    if medium != "disk":
        shutil.rmtree(directory, ignore_errors=True)
