"""End to end against a real uvicorn server on loopback: keys from the CLI, trades in the store."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.eventstore import open_store
from hosts.api.clock import SystemClock
from tests.api.server import ApiServer, create_key
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.tape import Trade, TradeColumns
from tradingcore.domain.values import Aggressor, Symbol
from tradingcore.risk.limits import RiskLimits

WIN = Symbol("WINZ25")
ALL_LIMITS = sorted(RiskLimits().to_plain())


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Any]:
    keys_file = tmp_path / "keys.json"
    return {
        "file": keys_file,
        "trader": create_key(keys_file, "alice", "trader"),
        "admin": create_key(keys_file, "root", "admin"),
    }


@pytest.fixture
def server(tmp_path: Path, keys: dict[str, Any]) -> Iterator[ApiServer]:
    running = ApiServer(tmp_path, keys["file"]).start()
    yield running
    running.stop()


@pytest.fixture
def store(server: ApiServer) -> Iterator[TradingApplication]:
    app = open_store(server.store_url, SystemClock())
    yield app
    app.close()


def printer(store: TradingApplication) -> Callable[[int], None]:
    """Return a function that records one trade at the wall-clock time, as a capture host does."""
    trade_ids = iter(range(1, 1_000_000))

    def print_trade(price: int) -> None:
        now = datetime.now(UTC)
        columns = TradeColumns()
        columns.append(
            Trade(WIN, next(trade_ids), int(now.timestamp() * 1000), Decimal(price), 10,
                  Aggressor.SELL)
        )  # fmt: skip
        store.record_trades(WIN, now.date(), columns)

    return print_trade


def eventually(check: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the condition never held")
        time.sleep(0.05)


def order_body(**changes: Any) -> dict[str, Any]:
    return {"symbol": "WINZ25", "side": "BUY", "quantity": 1, "price": -1, **changes}


def test_order_through_a_real_server_fills_on_the_next_stored_trade(
    server: ApiServer, store: TradingApplication, keys: dict[str, Any]
) -> None:
    trader = {"X-API-Key": keys["trader"]}
    print_trade = printer(store)
    print_trade(127_850)
    eventually(lambda: httpx.get(f"{server.url}/health").json()["feed"]["fresh"] is True)

    created = httpx.post(f"{server.url}/api/v1/execute", json=order_body(), headers=trader)
    print_trade(127_855)
    order_url = f"{server.url}/api/v1/orders/{created.json()['order_id']}"
    eventually(lambda: httpx.get(order_url, headers=trader).json()["status"] == "FILLED")
    positions = httpx.get(f"{server.url}/api/v1/positions", headers=trader).json()

    assert created.status_code == 201
    assert positions["positions"][0]["net_quantity"] == 1
    assert positions["positions"][0]["average_price"] == 127_855.0


def test_same_client_order_id_sent_concurrently_makes_one_order(
    server: ApiServer, store: TradingApplication, keys: dict[str, Any]
) -> None:
    trader = {"X-API-Key": keys["trader"]}
    printer(store)(127_850)
    eventually(lambda: httpx.get(f"{server.url}/health").json()["feed"]["fresh"] is True)
    body = order_body(price=127_800, client_order_id="once-only")

    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(
            pool.map(
                lambda _: httpx.post(f"{server.url}/api/v1/execute", json=body, headers=trader),
                range(6),
            )
        )

    assert len({response.json()["order_id"] for response in responses}) == 1
    assert sorted(response.status_code for response in responses) == [200] * 5 + [201]
    metrics = httpx.get(f"{server.url}/metrics").text
    assert "orders_executed_total 1.0" in metrics


def test_kill_switch_survives_a_server_restart(
    tmp_path: Path, server: ApiServer, keys: dict[str, Any]
) -> None:
    admin = {"X-API-Key": keys["admin"]}
    engaged = httpx.post(
        f"{server.url}/api/v1/risk/kill-switch",
        json={"action": "engage", "reason": "before the restart"},
        headers=admin,
    )
    server.stop()

    restarted = ApiServer(tmp_path, keys["file"]).start()
    try:
        state = httpx.get(f"{restarted.url}/api/v1/risk/kill-switch", headers=admin).json()
        order = httpx.post(
            f"{restarted.url}/api/v1/execute",
            json=order_body(),
            headers={"X-API-Key": keys["trader"]},
        ).json()
        metrics = httpx.get(f"{restarted.url}/metrics").text
    finally:
        restarted.stop()

    assert engaged.json()["engaged"] is True
    assert (state["engaged"], state["reason"]) == (True, "before the restart")
    assert order["reason_code"] == "KILL_SWITCH_ENGAGED"
    assert "kill_switch_engaged 1.0" in metrics


def test_unauthenticated_requests_are_counted_as_401_by_a_real_server(
    server: ApiServer,
) -> None:
    httpx.get(f"{server.url}/api/v1/positions", headers={"X-API-Key": "nope"})

    metrics = httpx.get(f"{server.url}/metrics").text

    assert (
        'tradingcore_api_requests_total{app_name="tradingcore_api",method="GET",'
        'path="/api/v1/positions",status_code="401"} 1.0'
    ) in metrics


def test_server_without_keys_refuses_to_start(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hosts.api", "--keys-file", str(tmp_path / "none.json")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert done.returncode == 2
    assert "--create-key" in done.stderr


def test_the_order_log_is_written_while_the_server_runs(
    tmp_path: Path, server: ApiServer, keys: dict[str, Any], store: TradingApplication
) -> None:
    """uvicorn's logging setup (dictConfig) closes every handler that exists: the host's JSONL
    handler was closed at start, and its lines then waited in memory for the shutdown."""
    printer(store)(127_850)
    eventually(lambda: httpx.get(f"{server.url}/health").json()["feed"]["fresh"])
    answer = httpx.post(
        f"{server.url}/api/v1/execute", json=order_body(), headers={"X-API-Key": keys["trader"]}
    )

    def logged() -> str:
        return "".join(path.read_text() for path in (tmp_path / "logs" / "ordermanager").glob("*"))

    assert answer.status_code == 201
    eventually(lambda: '"Order sent"' in logged())  # before any shutdown
    assert '"API host started"' in logged()


def test_clean_shutdown_writes_out_every_buffered_log_and_audit_line(
    tmp_path: Path, server: ApiServer, keys: dict[str, Any], store: TradingApplication
) -> None:
    printer(store)(127_850)
    trader = {"X-API-Key": keys["trader"]}
    eventually(lambda: httpx.get(f"{server.url}/health").json()["feed"]["fresh"])
    answers = [
        httpx.post(
            f"{server.url}/api/v1/execute",
            json=order_body(price=127_800 - 5 * number, client_order_id=f"log-{number}"),
            headers=trader,
        )
        for number in range(20)
    ]

    server.stop()  # SIGTERM: a clean shutdown, right after the last answer

    audit = [
        line
        for path in (tmp_path / "logs" / "audit").glob("*.jsonl")
        for line in path.read_text().splitlines()
    ]
    logs = "".join(path.read_text() for path in (tmp_path / "logs" / "ordermanager").glob("*"))
    assert all(answer.status_code == 201 for answer in answers)
    assert sum('"ORDER_EXECUTED"' in line for line in audit) == 20
    assert logs.count('"Order sent"') == 20 and '"API host stopped"' in logs


def test_sigterm_stops_the_server_with_exit_code_0(tmp_path: Path, keys: dict[str, Any]) -> None:
    """uvicorn re-raises the SIGTERM it handled: the host died of it (-15) after a clean stop."""
    server = ApiServer(tmp_path, keys["file"]).start()
    assert server.process is not None
    process = server.process

    process.terminate()

    assert process.wait(timeout=30) == 0, server.errors()
    logs = "".join(path.read_text() for path in (tmp_path / "logs" / "ordermanager").glob("*"))
    assert '"API host stopped"' in logs


def test_changed_risk_limits_stay_in_force_after_a_server_restart(
    tmp_path: Path, keys: dict[str, Any]
) -> None:
    risk_file = tmp_path / "risk.json"
    risk_file.write_text('{"max_order_quantity": 10, "max_position": 20}')
    configured = ["--risk-config", str(risk_file)]
    admin, trader = {"X-API-Key": keys["admin"]}, {"X-API-Key": keys["trader"]}
    first = ApiServer(tmp_path, keys["file"], configured).start()
    try:
        changed = httpx.put(
            f"{first.url}/api/v1/risk/limits",
            json={"max_order_quantity": 2, "reason": "volatile open"},
            headers=admin,
        )
    finally:
        first.stop()

    restarted = ApiServer(tmp_path, keys["file"], configured).start()
    tape = open_store(restarted.store_url, SystemClock())
    try:
        printer(tape)(127_850)
        eventually(lambda: httpx.get(f"{restarted.url}/health").json()["feed"]["fresh"])
        limits = httpx.get(f"{restarted.url}/api/v1/risk/limits", headers=trader).json()
        order = httpx.post(
            f"{restarted.url}/api/v1/execute", json=order_body(quantity=3), headers=trader
        ).json()
    finally:
        restarted.stop()
        tape.close()

    logged = [
        json.loads(line)
        for path in (tmp_path / "logs" / "ordermanager").glob("*.jsonl")
        for line in path.read_text().splitlines()
        if '"Risk limits in force"' in line
    ]
    assert changed.status_code == 200 and changed.json()["limits"]["max_order_quantity"] == 2
    assert (limits["limits"]["max_order_quantity"], limits["limits"]["max_position"]) == (2, 20)
    assert order["reason_code"] == "MAX_ORDER_QUANTITY"
    assert [entry["context"]["from_store"] for entry in logged] == [[], ALL_LIMITS]
    assert logged[1]["context"]["stored_change"]["reason"] == "volatile open"
    assert logged[1]["context"]["limits"]["max_order_quantity"] == 2
