"""API host benchmarks: execute → risk → paper acknowledgement, over HTTP and in process.

Figures land in `benchmark.extra_info` and are printed; docs/performance.md records them.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
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

    def __init__(
        self, directory: Path, keys_file: Path, extra: list[str], label: str, query: str = ""
    ) -> None:
        self.label = label
        self.store_url = f"sqlite:///{directory / 'events.sqlite'}{query}"
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
NO_SHM = pytest.mark.skipif(not SHM.is_dir(), reason="no /dev/shm")
MEDIA = ["disk", pytest.param("tmpfs", marks=NO_SHM)]
"""Where the SQLite store lives: the disk (an fsync per commit) or tmpfs (CPU cost alone)."""
STORES = {
    "disk": ("disk", ""),
    "disk-normal": ("disk", "?synchronous=normal"),
    "tmpfs": ("tmpfs", ""),
}
"""HTTP benchmark stores: SQLite on the disk with synchronous=FULL (the default, an fsync per
commit), the same with synchronous=NORMAL (no fsync per commit in WAL mode; a power cut may
lose the last commits), and FULL on tmpfs (the CPU cost alone)."""
SERVER_ARGS = os.environ.get("API_BENCH_SERVER_ARGS", "").split()
"""Extra `python -m hosts.api` options, e.g. `--http h11 --loop asyncio` to compare."""


def bench_directory(factory: pytest.TempPathFactory, medium: str) -> Path:
    if medium == "disk":
        return factory.mktemp("api-bench")
    return Path(tempfile.mkdtemp(prefix="api-bench-", dir=SHM))


@pytest.fixture(
    scope="module",
    params=["disk", "disk-normal", pytest.param("tmpfs", marks=NO_SHM)],
)
def api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ApiServer, str]]:
    medium, query = STORES[request.param]
    directory = bench_directory(tmp_path_factory, medium)
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
            *SERVER_ARGS,
        ],
        request.param,
        query,
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
    run_load(server, key, "paced", 500, 200)  # warm up: imports, caches, the first pages
    yield server, key
    server.stop()
    if medium != "disk":
        shutil.rmtree(directory, ignore_errors=True)


def order(number: int) -> dict[str, Any]:
    """A resting limit order inside the price band (never filled: no more trades print)."""
    return {
        "symbol": "WINZ25",
        "side": "BUY" if number % 2 else "SELL",
        "quantity": 1,
        "price": 127_850 - 5 * (number % 40) if number % 2 else 127_850 + 5 * (number % 40),
    }


class RawClient:
    """A keep-alive HTTP/1.1 connection that sends prepared bytes (TCP_NODELAY, no library).

    The load generator must cost far less than the server: building a request is one
    `bytes.join`, reading the answer one or two `recv` calls.
    """

    def __init__(self, url: str, key: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.socket = socket.create_connection((host, int(port)))
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.head = (
            f"POST /api/v1/execute HTTP/1.1\r\nHost: {host}\r\nX-API-Key: {key}\r\n"
            "Content-Type: application/json\r\nContent-Length: "
        ).encode()

    def execute(self, body: dict[str, Any]) -> tuple[int, bytes]:
        payload = json.dumps(body).encode()
        self.socket.sendall(b"".join((self.head, str(len(payload)).encode(), b"\r\n\r\n", payload)))
        data = b""
        while b"\r\n\r\n" not in data:
            data += self._receive()
        head, _, rest = data.partition(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        while len(rest) < length:
            rest += self._receive()
        return int(head.split(b" ", 2)[1]), rest

    def _receive(self) -> bytes:
        chunk = self.socket.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        return chunk

    def close(self) -> None:
        self.socket.close()


def paced_load(url: str, key: str, rate: float, count: int) -> dict[str, float]:
    """Send `count` orders on one connection at `rate` per second; return latency figures."""
    client = RawClient(url, key)
    latencies: list[float] = []
    start = time.perf_counter()
    for number in range(count):
        due = start + number / rate
        while (wait := due - time.perf_counter()) > 0:
            time.sleep(wait)
        sent = time.perf_counter()
        status, body = client.execute(order(number))
        latencies.append((time.perf_counter() - sent) * 1000)
        if status != 201 or b'"ACCEPTED"' not in body:
            raise AssertionError(body.decode())
    client.close()
    return {
        "p50_ms": round(statistics.median(latencies), 3),
        "p90_ms": round(percentile(latencies, 0.90), 3),
        "p99_ms": round(percentile(latencies, 0.99), 3),
        "max_ms": round(max(latencies), 3),
    }


def flood_load(url: str, key: str, connections: int, per_connection: int) -> dict[str, float]:
    """Send orders back to back on several connections (one thread each); return orders/s."""
    clients = [RawClient(url, key) for _ in range(connections)]
    failures: list[str] = []

    def send(index: int) -> None:
        for number in range(per_connection):
            status, body = clients[index].execute(order(index * per_connection + number))
            if status != 201:
                failures.append(body.decode())
                return

    threads = [threading.Thread(target=send, args=(index,)) for index in range(connections)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    for client in clients:
        client.close()
    if failures:
        raise AssertionError(failures[0])
    return {"orders_per_second": round(connections * per_connection / elapsed)}


def run_load(server: ApiServer, key: str, *arguments: object) -> dict[str, float]:
    """Run the load generator in its own process (`python THIS_FILE ...`), off the server's GIL."""
    command = [PYTHON, str(Path(__file__).resolve()), server.url, key, *map(str, arguments)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        raise AssertionError(done.stderr)
    figures: dict[str, float] = json.loads(done.stdout)
    return figures


def cpu_seconds(process_id: int) -> float:
    """Return the user + system CPU time a process used so far (Linux)."""
    fields = Path(f"/proc/{process_id}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_bench_execute_latency_at_200_per_second(
    benchmark: Any, api: tuple[ApiServer, str]
) -> None:
    server, key = api
    result: dict[str, float] = {}
    benchmark.pedantic(
        lambda: result.update(run_load(server, key, "paced", 200, 2_000)), rounds=1, iterations=1
    )
    benchmark.extra_info.update(result, load=os.getloadavg()[0])
    print(f"\nexecute at 200/s ({server.label}): {benchmark.extra_info}")


def test_bench_execute_sustained_throughput(benchmark: Any, api: tuple[ApiServer, str]) -> None:
    server, key = api
    connections, per_connection = 8, 500
    result: dict[str, float] = {}
    assert server.process is not None
    before = cpu_seconds(server.process.pid)

    def flood() -> None:
        result.update(run_load(server, key, "flood", connections, per_connection))

    benchmark.pedantic(flood, rounds=1, iterations=1)
    server_ms = (cpu_seconds(server.process.pid) - before) * 1000 / (connections * per_connection)
    benchmark.extra_info.update(
        result, server_cpu_ms_per_order=round(server_ms, 3), load=os.getloadavg()[0]
    )
    print(f"\nexecute flood, {connections} connections ({server.label}): {benchmark.extra_info}")


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


if __name__ == "__main__":
    # The load generator: `python test_bench_api.py URL KEY paced RATE COUNT` or
    # `... flood CONNECTIONS PER_CONNECTION`; prints its figures as JSON.
    url, key, mode, first, second = sys.argv[1:6]
    if mode == "paced":
        figures = paced_load(url, key, float(first), int(second))
    else:
        figures = flood_load(url, key, int(first), int(second))
    print(json.dumps(figures))
