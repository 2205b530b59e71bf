"""kill -9 during order flow: no acknowledged order is lost, and retries never duplicate."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import httpx

from adapters.eventstore import open_store
from hosts.api.clock import SystemClock
from tests.api.server import ApiServer, create_key
from tests.api.test_server import eventually, printer
from tradingcore.domain.order import Order, order_id_for


def test_kill_during_order_flow_loses_no_acknowledged_order(tmp_path: Path) -> None:
    keys_file = tmp_path / "keys.json"
    key = create_key(keys_file, "alice", "trader")
    limits = tmp_path / "risk.json"
    limits.write_text('{"max_position": 100000, "max_orders_per_window": 100000}')
    extra = ["--risk-config", str(limits)]
    server = ApiServer(tmp_path, keys_file, extra).start()
    store = open_store(server.store_url, SystemClock())
    printer(store)(127_850)
    store.close()
    eventually(lambda: httpx.get(f"{server.url}/health").json()["feed"]["fresh"] is True)
    acknowledged: dict[str, str] = {}
    stop = threading.Event()

    def send() -> None:
        with httpx.Client(base_url=server.url, headers={"X-API-Key": key}, timeout=2) as client:
            for number in range(100_000):
                if stop.is_set():
                    return
                body = {
                    "symbol": "WINZ25",
                    "side": "BUY" if number % 2 else "SELL",
                    "quantity": 1,
                    "price": 127_800 if number % 2 else 127_900,
                    "client_order_id": f"crash-{number}",
                }
                try:
                    response = client.post("/api/v1/execute", json=body)
                except httpx.TransportError:
                    return
                if response.status_code in (200, 201):
                    acknowledged[body["client_order_id"]] = response.json()["order_id"]

    sender = threading.Thread(target=send)
    sender.start()
    eventually(lambda: len(acknowledged) >= 30)
    assert server.process is not None
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    stop.set()
    sender.join()
    sent_before_kill = len(acknowledged)

    restarted = ApiServer(tmp_path, keys_file, extra).start()
    in_flight = f"crash-{sent_before_kill}"  # sent when the process died: outcome unknown
    number = sent_before_kill
    retry = {
        "symbol": "WINZ25",
        "side": "BUY" if number % 2 else "SELL",
        "quantity": 1,
        "price": 127_800 if number % 2 else 127_900,
        "client_order_id": in_flight,
    }
    try:
        headers = {"X-API-Key": key}
        for client_order_id, order_id in acknowledged.items():
            found = httpx.get(f"{restarted.url}/api/v1/orders/{order_id}", headers=headers)
            assert found.status_code == 200, client_order_id
        first = httpx.post(f"{restarted.url}/api/v1/execute", json=retry, headers=headers)
        second = httpx.post(f"{restarted.url}/api/v1/execute", json=retry, headers=headers)
    finally:
        restarted.stop()
    assert first.status_code in (200, 201)  # resolved to exactly one order either way
    assert second.status_code == 200
    assert second.json()["order_id"] == first.json()["order_id"]
    store = open_store(restarted.store_url, SystemClock())
    try:
        for client_order_id, order_id in acknowledged.items():
            assert order_id == str(order_id_for("alice", client_order_id))
            assert store.load_fresh(Order, order_id_for("alice", client_order_id)).version >= 1
    finally:
        store.close()
    assert sent_before_kill >= 30
