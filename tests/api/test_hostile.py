"""Hostile input through a real API server: poison and flood cases, bounded in count and time.

Each case is one of issue 16's findings, reproduced the way it was seen: over HTTP, against a
real uvicorn process and a real SQLite store, then (where the harm came later) the command the
harm showed in.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.server import ApiServer, create_key

YEAR_2126_MS = 4_949_909_918_654
SIGNAL: dict[str, Any] = {
    "symbol": "WINZ25",
    "direction": "BUY",
    "confidence": 0.8,
    "features": {"aggressor_flow": 0.4},
    "model_version": "m-1",
    "tick_trade_id": 1,
    "tick_timestamp_ms": 1_764_601_200_000,
    "price": 127_850.0,
}


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


@pytest.fixture(scope="module")
def trader(directory: Path) -> dict[str, str]:
    return {"X-API-Key": create_key(directory / "keys.json", "alice", "trader")}


@pytest.fixture(scope="module")
def server(directory: Path, trader: dict[str, str]) -> Iterator[ApiServer]:
    running = ApiServer(directory, directory / "keys.json").start()
    yield running
    running.stop()


def post_signal(server: ApiServer, trader: dict[str, str], **changes: Any) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/v1/signals", json={**SIGNAL, **changes}, headers=trader, timeout=10
    )


def test_signal_stamped_in_2126_is_refused_as_implausible(
    server: ApiServer, trader: dict[str, str]
) -> None:
    refused = post_signal(server, trader, tick_trade_id=2, tick_timestamp_ms=YEAR_2126_MS)

    assert refused.status_code == 422
    assert refused.json()["detail"].startswith("timestamp_implausible:")
    assert post_signal(server, trader, tick_trade_id=3).status_code == 201


def test_signal_with_a_timestamp_past_year_9999_is_refused_and_the_projector_runs(
    server: ApiServer, trader: dict[str, str], directory: Path
) -> None:
    refused = post_signal(server, trader, tick_trade_id=4, tick_timestamp_ms=2**53)
    accepted = post_signal(server, trader, tick_trade_id=5)
    projected = subprocess.run(
        [sys.executable, "-m", "hosts.projector.cli", "--store", server.store_url,
         "--output", str(directory / "parquet"), "--log-dir", str(directory / "logs")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert refused.status_code == 400
    assert "tick_timestamp_ms" in refused.text
    assert accepted.status_code == 201
    assert projected.returncode == 0, projected.stderr


def test_json_nested_10000_deep_is_a_400_that_says_why_with_no_traceback_logged(
    server: ApiServer, trader: dict[str, str]
) -> None:
    body = "[" * 10_000 + "]" * 10_000
    answers = [
        httpx.post(f"{server.url}/api/v1/{path}", content=body, timeout=10,
                   headers={**trader, "Content-Type": "application/json"})
        for path in ("execute", "signals")
    ]  # fmt: skip

    assert [answer.status_code for answer in answers] == [400, 400]
    assert all("nested" in answer.json()["detail"] for answer in answers)
    assert "Traceback" not in server.errors()
    assert post_signal(server, trader, tick_trade_id=6).status_code == 201


def test_execute_with_json_sent_as_text_plain_is_refused_with_415(
    server: ApiServer, trader: dict[str, str]
) -> None:
    body = '{"symbol":"WINZ25","side":"BUY","quantity":1,"price":-1}'
    answer = httpx.post(f"{server.url}/api/v1/execute", content=body, timeout=10,
                        headers={**trader, "Content-Type": "text/plain"})  # fmt: skip

    assert answer.status_code == 415
    assert "application/json" in answer.json()["detail"]


def rotating_forwarded_for(server: ApiServer, requests: int) -> list[int]:
    with httpx.Client(timeout=10) as client:
        return [
            client.get(f"{server.url}/health",
                       headers={"X-Forwarded-For": f"10.0.{n // 250}.{n % 250}"}).status_code
            for n in range(requests)
        ]  # fmt: skip


def test_rate_limit_with_rotating_x_forwarded_for_still_limits_the_address(
    tmp_path: Path,
) -> None:
    create_key(tmp_path / "keys.json", "alice", "trader")
    server = ApiServer(tmp_path, tmp_path / "keys.json", ["--rate-limit-client", "5"]).start()
    try:
        statuses = rotating_forwarded_for(server, 60)
    finally:
        server.stop()

    assert 429 in statuses  # 5 per second from one address, whatever the header says


def test_rate_limit_behind_a_configured_proxy_limits_each_forwarded_client(
    tmp_path: Path,
) -> None:
    create_key(tmp_path / "keys.json", "alice", "trader")
    extra = ["--rate-limit-client", "5", "--trusted-proxy", "127.0.0.1"]
    server = ApiServer(tmp_path, tmp_path / "keys.json", extra).start()
    try:
        statuses = rotating_forwarded_for(server, 60)
    finally:
        server.stop()

    assert 429 not in statuses  # each forwarded client sent one request


def test_key_removed_from_the_keys_file_stops_working_without_a_restart(
    tmp_path: Path,
) -> None:
    import json
    import time

    keys_file = tmp_path / "keys.json"
    alice = {"X-API-Key": create_key(keys_file, "alice", "trader")}
    bob = {"X-API-Key": create_key(keys_file, "bob", "trader")}
    server = ApiServer(tmp_path, keys_file).start()
    try:
        url = f"{server.url}/api/v1/positions"
        before = httpx.get(url, headers=bob, timeout=10).status_code
        stored = json.loads(keys_file.read_text())
        stored["keys"] = [key for key in stored["keys"] if key["name"] != "bob"]
        keys_file.write_text(json.dumps(stored))
        carol = {"X-API-Key": create_key(keys_file, "carol", "trader")}
        for _ in range(100):  # bounded: the server checks the file at most every 0.5 s
            if httpx.get(url, headers=bob, timeout=10).status_code == 401:
                break
            time.sleep(0.1)
        after = httpx.get(url, headers=bob, timeout=10).status_code
        others = [httpx.get(url, headers=key, timeout=10).status_code for key in (alice, carol)]
    finally:
        server.stop()

    assert (before, after, others) == (200, 401, [200, 200])


def record_trade(store: Any, trade_id: int) -> None:
    """Record one WINZ25 trade at the wall-clock time, as a capture host does."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from tradingcore.domain.tape import Trade, TradeColumns
    from tradingcore.domain.values import Aggressor, Symbol

    now = datetime.now(UTC)
    columns = TradeColumns()
    columns.append(Trade(Symbol("WINZ25"), trade_id, int(now.timestamp() * 1000),
                         Decimal(127_850), 10, Aggressor.SELL))  # fmt: skip
    store.record_trades(Symbol("WINZ25"), now.date(), columns)


def test_paper_venue_ids_stay_unique_across_a_server_restart(tmp_path: Path) -> None:
    from adapters.clock import SystemClock
    from adapters.eventstore import open_store
    from tests.api.test_server import eventually, order_body

    keys_file = tmp_path / "keys.json"
    trader = {"X-API-Key": create_key(keys_file, "alice", "trader")}
    venue_ids = []
    for attempt in range(2):
        server = ApiServer(tmp_path, keys_file).start()
        store = open_store(server.store_url, SystemClock())
        try:
            record_trade(store, trade_id=attempt + 1)
            eventually(lambda s=server: httpx.get(f"{s.url}/health").json()["feed"]["fresh"])
            placed = httpx.post(
                f"{server.url}/api/v1/execute",
                headers=trader,
                timeout=10,
                # a new price each time: the same order twice within seconds is DUPLICATE_ORDER
                json=order_body(price=127_800 - 5 * attempt, client_order_id=f"o-{attempt}"),
            )
            order_url = f"{server.url}/api/v1/orders/{placed.json()['order_id']}"
            eventually(lambda u=order_url: httpx.get(u, headers=trader).json()["venue_order_id"])
            venue_ids.append(httpx.get(order_url, headers=trader).json()["venue_order_id"])
        finally:
            store.close()
            server.stop()

    assert len(set(venue_ids)) == 2, venue_ids


def test_flood_of_poison_between_valid_signals_leaves_every_valid_one_recorded(
    tmp_path: Path,
) -> None:
    """Bounded: 150 valid signals and 300 poison requests of fifteen kinds (to the signal and
    the order endpoints), one at a time, on a server whose rate limits are out of the way (they
    have tests of their own above)."""
    import json
    import time

    trader = {"X-API-Key": create_key(tmp_path / "keys.json", "alice", "trader")}
    limits = ["--rate-limit-client", "100000", "--rate-limit-key", "100000"]
    server = ApiServer(tmp_path, tmp_path / "keys.json", limits).start()
    now_ms = time.time_ns() // 1_000_000
    valid = {**SIGNAL, "symbol": "WDOF26", "tick_timestamp_ms": now_ms}
    as_json = {"Content-Type": "application/json"}
    poisons: list[tuple[bytes, dict[str, str]]] = [
        (b"{oops", as_json),
        (b"[" * 10_000 + b"]" * 10_000, as_json),
        (b"[]", as_json),
        (b"\xff\xfe\x00garbage", as_json),
        (json.dumps(valid).encode(), {"Content-Type": "text/plain"}),
        (json.dumps({**valid, "confidence": "0.8"}).encode(), as_json),
        (json.dumps(valid).replace('"confidence": 0.8', '"confidence": NaN').encode(), as_json),
        (json.dumps(valid).replace('"price": 127850.0', '"price": 1e999').encode(), as_json),
        (json.dumps({**valid, "symbol": "WIN Z25; DROP"}).encode(), as_json),
        (json.dumps({**valid, "tick_timestamp_ms": YEAR_2126_MS}).encode(), as_json),
        (json.dumps({**valid, "tick_timestamp_ms": 2**63}).encode(), as_json),
        (json.dumps({**valid, "tick_trade_id": -1}).encode(), as_json),
        (json.dumps({**valid, "is_admin": True}).encode(), as_json),
        (json.dumps({**valid, "features": {f"f{n}": 1.0 for n in range(5_000)}}).encode(), as_json),
        (b'{"a":"' + b"x" * 2_000_000 + b'"}', as_json),
    ]
    valid_answers, poison_answers = [], []
    try:
        with httpx.Client(base_url=server.url, headers=trader, timeout=10) as client:
            for number in range(150):
                body = {**valid, "tick_trade_id": 1_000 + number}
                valid_answers.append(client.post("/api/v1/signals", json=body).status_code)
                content, headers = poisons[number % len(poisons)]
                for path in ("/api/v1/signals", "/api/v1/execute"):
                    poison_answers.append(
                        client.post(path, content=content, headers=headers).status_code
                    )
            latest = client.get("/api/v1/signals/latest", params={"limit": 500, "symbol": "WDOF26"})
            health = client.get("/health")
    finally:
        server.stop()

    assert valid_answers == [201] * 150
    assert all(400 <= status < 500 for status in poison_answers), sorted(set(poison_answers))
    assert 429 not in poison_answers
    assert len(latest.json()["signals"]) == 150
    assert health.json()["store"]["ok"] is True
    assert "Traceback" not in server.errors()
    logged = "".join(path.read_text() for path in (tmp_path / "logs").rglob("*.jsonl"))
    assert logged and "Traceback" not in logged


def test_trade_from_the_future_in_the_store_does_not_move_the_feed_clock(tmp_path: Path) -> None:
    """A store may hold a trade stamped in 2126 that no host admits today (an older version's
    capture, an imported file): the API's feed clock must not jump there, or every order after
    it would carry that time and be decided on that print."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from adapters.clock import SystemClock
    from adapters.eventstore import open_store
    from tests.api.test_server import eventually, order_body
    from tradingcore.domain.tape import Trade, TradeColumns, session_of
    from tradingcore.domain.values import Aggressor, Symbol

    trader = {"X-API-Key": create_key(tmp_path / "keys.json", "alice", "trader")}
    server = ApiServer(tmp_path, tmp_path / "keys.json").start()
    store = open_store(server.store_url, SystemClock())
    win = Symbol("WINZ25")
    now_ms = time_ms()
    try:
        for trade_id, stamp, price in ((1, now_ms, 127_850), (2, YEAR_2126_MS, 1),
                                       (3, now_ms + 1, 127_855)):  # fmt: skip
            columns = TradeColumns()
            columns.append(Trade(win, trade_id, stamp, Decimal(price), 10, Aggressor.SELL))
            store.record_trades(win, session_of(stamp), columns)
        eventually(lambda: httpx.get(f"{server.url}/health").json()["feed"]["fresh"])
        placed = httpx.post(f"{server.url}/api/v1/execute", headers=trader, timeout=10,
                            json=order_body(price=127_800, client_order_id="after"))  # fmt: skip
    finally:
        store.close()
        server.stop()

    assert placed.status_code == 201, placed.text
    submitted = datetime.fromisoformat(placed.json()["submitted_at"])
    assert submitted < datetime(2100, 1, 1, tzinfo=UTC), submitted
    assert "timestamp_implausible" in "".join(
        path.read_text() for path in (tmp_path / "logs").rglob("*.jsonl")
    )


def time_ms() -> int:
    import time

    return time.time_ns() // 1_000_000


def test_flood_of_signals_whose_tick_never_comes_holds_neither_health_nor_the_others(
    tmp_path: Path,
) -> None:
    """Bounded: 40 signals at once, 8 clients, for a symbol that never trades. With auto-
    execution each waits up to 4 s for its tick, holding a worker thread: all of them held every
    thread, so signals took 40 s and /health timed out."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    trader = {"X-API-Key": create_key(tmp_path / "keys.json", "alice", "trader")}
    extra = ["--auto-execute", "--rate-limit-client", "100000", "--rate-limit-key", "100000"]
    server = ApiServer(tmp_path, tmp_path / "keys.json", extra).start()
    now_ms = time_ms()
    body = {**SIGNAL, "symbol": "ABCD3", "tick_timestamp_ms": now_ms, "price": 10.0}

    def post(number: int) -> httpx.Response:
        return httpx.post(f"{server.url}/api/v1/signals", headers=trader, timeout=20,
                          json={**body, "tick_trade_id": number})  # fmt: skip

    healths = []
    try:
        with ThreadPoolExecutor(8) as pool:
            answers = [pool.submit(post, number) for number in range(40)]
            while not all(answer.done() for answer in answers):
                healths.append(httpx.get(f"{server.url}/health", timeout=2).status_code)
                time.sleep(0.2)
            results = [answer.result() for answer in answers]
    finally:
        server.stop()

    assert [result.status_code for result in results] == [201] * 40
    assert {result.json()["skipped"] for result in results} == {"TAPE_NOT_SEEN"}
    assert healths and set(healths) <= {200, 503}
