"""Store faults seen from outside: a real API process on a PostgreSQL reached through a proxy
the test cuts, as a database server stopping under the host."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from adapters.eventstore import drop_schema
from tests.api.server import ApiServer, create_key
from tests.conftest import require_postgres
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    require_postgres()
    running = TcpProxy(("127.0.0.1", 5432)).start()
    yield running
    running.cut()


@pytest.fixture
def server(tmp_path: Path, proxy: TcpProxy) -> Iterator[ApiServer]:
    url = f"postgresql://postgres@127.0.0.1:{proxy.port}/test?schema=t_{uuid.uuid4().hex[:12]}"
    (tmp_path / "key").write_text(create_key(tmp_path / "keys.json", "alice", "trader"))
    running = ApiServer(tmp_path, tmp_path / "keys.json")
    running.command[running.command.index("--store") + 1] = url
    yield running.start()
    running.stop()
    drop_schema(url.replace(str(proxy.port), "5432"))


def key(tmp_path: Path) -> dict[str, str]:
    return {"X-API-Key": (tmp_path / "key").read_text()}


def test_store_down_makes_health_say_so_and_orders_fail_fast_with_503(
    server: ApiServer, proxy: TcpProxy, tmp_path: Path
) -> None:
    trader = key(tmp_path)
    order = {"symbol": "WINZ25", "side": "BUY", "quantity": 1, "price": -1}
    execute = f"{server.url}/api/v1/execute"
    proxy.cut()
    # An order already on its way when the server went: it fails with 503 once the driver
    # gives up (2 s a try, not retried: it hung 40-60 s), and health answers meanwhile (the
    # order's store reads hold a worker thread, never the event loop).
    with ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(httpx.post, execute, json=order, headers=trader, timeout=15)
        while not in_flight.done():
            httpx.get(f"{server.url}/health", timeout=2)
            time.sleep(0.1)
    assert in_flight.result().status_code == 503, in_flight.result().text

    # Each answer comes within the client's 2 s timeout; the probe notices within a second.
    for _ in range(50):
        health = httpx.get(f"{server.url}/health", timeout=2)
        if health.status_code == 503:
            break
        time.sleep(0.1)
    refused = httpx.post(execute, json=order, headers=trader, timeout=2)

    assert health.status_code == 503
    assert health.json()["store"]["ok"] is False
    assert "event store" in health.json()["store"]["detail"]
    assert refused.status_code == 503
    assert "store" in refused.json()["detail"]
    proxy.restore()
    deadline = time.monotonic() + 30
    while httpx.get(f"{server.url}/health", timeout=5).json()["store"]["ok"] is not True:
        assert time.monotonic() < deadline, "the store never came back"
        time.sleep(0.2)
