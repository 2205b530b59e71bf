"""The REST API in process: auth, validation, limits, orders, positions, kill switch, signals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from prometheus_client import REGISTRY, generate_latest

from hosts.api.app import create_app
from hosts.api.host import ApiHost
from tests.api.conftest import ALICE, BOB, ROOT, HostFactory, Tape, headers
from tradingcore.domain.signal import signal_id_for
from tradingcore.domain.values import Symbol

ORDER = {"symbol": "WINZ25", "side": "BUY", "quantity": 1, "price": -1}
SIGNAL = {
    "symbol": "WINZ25",
    "direction": "BUY",
    "confidence": 0.8,
    "features": {"aggressor_flow": 0.4},
    "model_version": "m-1",
    "tick_trade_id": 1,
    "tick_timestamp_ms": 1_764_601_200_000,
    "price": 127_850.0,
}

BUY_THEN_SELL = [
    {**SIGNAL, "tick_trade_id": 1},
    {**SIGNAL, "direction": "SELL", "tick_trade_id": 2},
]
"""A BUY at trade 1 and a SELL at trade 2 (long 1, then short 1 with quantity 1)."""


def execute(client: TestClient[Any], key: str = ALICE, **changes: Any) -> Any:
    return client.post("/api/v1/execute", json={**ORDER, **changes}, headers=headers(key))


def metric(client: TestClient[Any], prefix: str) -> list[str]:
    return [line for line in client.get("/metrics").text.splitlines() if line.startswith(prefix)]


def test_execute_without_key_is_401_and_metrics_count_401(client: TestClient[Any]) -> None:
    response = client.post("/api/v1/execute", json=ORDER)

    assert response.status_code == 401
    assert "X-API-Key" in response.json()["detail"]
    counted = metric(client, "tradingcore_api_requests_total")
    assert any('path="/api/v1/execute"' in line and 'status_code="401"' in line for line in counted)


def test_execute_with_wrong_key_is_401(client: TestClient[Any]) -> None:
    assert execute(client, key="not-a-key").status_code == 401


def test_kill_switch_with_trader_key_is_403(client: TestClient[Any]) -> None:
    response = client.post(
        "/api/v1/risk/kill-switch",
        json={"action": "engage", "reason": "test"},
        headers=headers(ALICE),
    )

    assert response.status_code == 403


def test_execute_with_unknown_field_is_400_naming_it(client: TestClient[Any]) -> None:
    response = execute(client, account="mallory")

    assert response.status_code == 400
    assert response.json()["extra"][0]["key"] == "account"


def test_execute_with_quantity_as_text_is_400_naming_it(client: TestClient[Any]) -> None:
    response = execute(client, quantity="1")

    assert response.status_code == 400
    assert response.json()["extra"][0]["key"] == "quantity"


def test_execute_with_bad_symbol_is_400_naming_it(client: TestClient[Any]) -> None:
    response = execute(client, symbol="WIN")

    assert response.status_code == 400
    assert response.json()["extra"][0]["key"] == "symbol"


def test_execute_with_off_tick_price_is_422_naming_the_tick(
    client: TestClient[Any], tape: Tape
) -> None:
    response = execute(client, price=127_851)

    assert response.status_code == 422
    body = response.json()
    assert body["extra"][0]["key"] == "price"
    assert "tick 5" in body["detail"]


def test_execute_with_zero_price_is_422(client: TestClient[Any]) -> None:
    response = execute(client, price=0)

    assert response.status_code == 422
    assert response.json()["extra"][0]["key"] == "price"


def test_execute_with_unknown_futures_root_is_422(client: TestClient[Any]) -> None:
    response = execute(client, symbol="ABCZ25")

    assert response.status_code == 422
    assert response.json()["extra"][0]["key"] == "symbol"


def test_body_over_the_limit_is_413(make_host: HostFactory) -> None:
    host = make_host(max_body_bytes=512)
    with TestClient(app=create_app(host)) as client:
        big = {**SIGNAL, "features": {f"f{n}": float(n) for n in range(200)}}
        response = client.post("/api/v1/signals", json=big, headers=headers(ALICE))

    assert response.status_code == 413


def test_rate_limit_per_key_answers_429_with_standard_headers(make_host: HostFactory) -> None:
    host = make_host(requests_per_second_per_key=3)
    with TestClient(app=create_app(host)) as client:
        codes = [
            client.get("/api/v1/positions", headers=headers(ALICE)).status_code for _ in range(5)
        ]
        refused = client.get("/api/v1/positions", headers=headers(ALICE))
        other_key = client.get("/api/v1/positions", headers=headers(BOB))

    assert codes == [200, 200, 200, 429, 429]
    assert refused.headers["RateLimit-Limit"] == "3"
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert int(refused.headers["Retry-After"]) >= 1
    assert other_key.status_code == 200


def test_rate_limit_per_client_stops_key_guessing_before_auth(make_host: HostFactory) -> None:
    host = make_host(requests_per_second_per_client=4)
    with TestClient(app=create_app(host)) as client:
        codes = [execute(client, key=f"guess-{n}").status_code for n in range(6)]
    counted = generate_latest(REGISTRY).decode().splitlines()

    assert codes == [401, 401, 401, 401, 429, 429]
    assert any(
        line.startswith("tradingcore_api_requests_total") and 'status_code="429"' in line
        for line in counted
    )


def test_execute_market_order_fills_and_shows_in_positions(
    client: TestClient[Any], tape: Tape
) -> None:
    tape.print(127_850)

    created = execute(client, quantity=2, client_order_id="first")
    tape.print(127_900)
    order = client.get(f"/api/v1/orders/{created.json()['order_id']}", headers=headers(ALICE))
    positions = client.get("/api/v1/positions", headers=headers(ALICE)).json()

    assert created.status_code == 201
    assert created.json()["status"] == "ACCEPTED"
    assert order.json()["status"] == "FILLED"
    assert positions["positions"][0]["net_quantity"] == 2
    assert positions["positions"][0]["average_price"] == 127_900.0
    assert positions["unrealized_pnl"] == "0.00"
    assert positions["currency"] == "BRL"
    row = positions["positions"][0]
    # 2 WIN contracts opened at the default day-trade rate, R$ 0.25 each: fees at once.
    assert (row["gross_realized_pnl"], row["fees"], row["net_realized_pnl"]) == (
        "0.00",
        "0.50",
        "-0.50",
    )
    assert order.json()["fees"] == "0.50"


def test_execute_retry_with_client_order_id_returns_the_original_as_200(
    client: TestClient[Any], tape: Tape
) -> None:
    tape.print(127_850)
    sent_before = REGISTRY.get_sample_value("orders_executed_total") or 0

    first = execute(client, client_order_id="retry-me")
    second = execute(client, client_order_id="retry-me")

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["order_id"] == second.json()["order_id"]
    assert REGISTRY.get_sample_value("orders_executed_total") == sent_before + 1


def test_execute_reusing_client_order_id_differently_is_409(
    client: TestClient[Any], tape: Tape
) -> None:
    tape.print(127_850)
    execute(client, client_order_id="once")

    assert execute(client, client_order_id="once", quantity=2).status_code == 409


def test_denied_order_is_201_denied_with_reason_and_counted(client: TestClient[Any]) -> None:
    response = execute(client)  # no market data yet

    assert response.status_code == 201
    assert (response.json()["status"], response.json()["reason_code"]) == (
        "DENIED",
        "MARKET_DATA_MISSING",
    )
    assert 'orders_rejected_total{reason="MARKET_DATA_MISSING"}' in client.get("/metrics").text


def test_other_accounts_orders_and_positions_are_invisible(
    client: TestClient[Any], tape: Tape
) -> None:
    tape.print(127_850)
    order_id = execute(client, key=ALICE).json()["order_id"]
    tape.print(127_850)

    lookup = client.get(f"/api/v1/orders/{order_id}", headers=headers(BOB))
    cancel = client.post(f"/api/v1/orders/{order_id}/cancel", headers=headers(BOB))
    positions = client.get("/api/v1/positions", headers=headers(BOB)).json()

    assert (lookup.status_code, cancel.status_code) == (404, 404)
    assert positions == {
        "account": "bob",
        "currency": "BRL",
        "positions": [],
        "gross_realized_pnl": "0.00",
        "fees": "0.00",
        "net_realized_pnl": "0.00",
        "realized_pnl": "0.00",
        "unrealized_pnl": "0.00",
    }


def test_cancel_of_resting_limit_order_then_again_is_409(
    client: TestClient[Any], tape: Tape
) -> None:
    tape.print(127_850)
    order_id = execute(client, price=127_800).json()["order_id"]

    first = client.post(f"/api/v1/orders/{order_id}/cancel", headers=headers(ALICE))
    again = client.post(f"/api/v1/orders/{order_id}/cancel", headers=headers(ALICE))

    assert first.json()["status"] == "CANCELED"
    assert again.status_code == 409


def test_kill_switch_engage_cancels_and_blocks_then_admin_releases(
    client: TestClient[Any], tape: Tape
) -> None:
    tape.print(127_850)
    resting = execute(client, price=127_800).json()["order_id"]

    engaged = client.post(
        "/api/v1/risk/kill-switch",
        json={"action": "engage", "reason": "drill"},
        headers=headers(ROOT),
    ).json()
    blocked = execute(client, price=127_805).json()
    released = client.post(
        "/api/v1/risk/kill-switch",
        json={"action": "release", "reason": "drill over"},
        headers=headers(ROOT),
    ).json()

    assert (engaged["engaged"], engaged["canceled_orders"], engaged["actor"]) == (True, 1, "root")
    assert client.get(f"/api/v1/orders/{resting}", headers=headers(ALICE)).json()["status"] == (
        "CANCELED"
    )
    assert blocked["reason_code"] == "KILL_SWITCH_ENGAGED"
    assert released["engaged"] is False
    assert "kill_switch_engaged 0.0" in client.get("/metrics").text


def test_kill_switch_with_blank_reason_is_400(client: TestClient[Any]) -> None:
    response = client.post(
        "/api/v1/risk/kill-switch",
        json={"action": "engage", "reason": " "},
        headers=headers(ROOT),
    )

    assert response.status_code == 400
    assert response.json()["extra"][0]["key"] == "reason"


def test_signal_post_is_idempotent_and_listed_newest_first(client: TestClient[Any]) -> None:
    first = client.post("/api/v1/signals", json=SIGNAL, headers=headers(ALICE))
    again = client.post("/api/v1/signals", json=SIGNAL, headers=headers(ALICE))
    later = client.post(
        "/api/v1/signals", json={**SIGNAL, "tick_trade_id": 2}, headers=headers(ALICE)
    )
    latest = client.get("/api/v1/signals/latest?limit=5", headers=headers(ALICE)).json()

    assert (first.status_code, again.status_code, later.status_code) == (201, 200, 201)
    assert first.json()["signal"]["signal_id"] == again.json()["signal"]["signal_id"]
    assert [signal["tick_trade_id"] for signal in latest["signals"]] == [2, 1]


def test_signal_with_a_wrong_signal_id_is_422_naming_it(client: TestClient[Any]) -> None:
    body = {**SIGNAL, "signal_id": "00000000-0000-0000-0000-000000000000"}

    response = client.post("/api/v1/signals", json=body, headers=headers(ALICE))

    assert response.status_code == 422
    assert response.json()["extra"][0]["key"] == "signal_id"


def test_signal_with_auto_execution_sends_an_order_caused_by_it(make_host: HostFactory) -> None:
    from tradingcore.application.signal_desk import AutoExecution

    host = make_host(auto_execution=AutoExecution(enabled=True, quantity=2))
    with TestClient(app=create_app(host)) as client:
        Tape(host).print(127_850)
        expected = signal_id_for("m-1", Symbol("WINZ25"), 1, SIGNAL["tick_timestamp_ms"])  # type: ignore[arg-type]
        body = {**SIGNAL, "signal_id": str(expected)}
        first = client.post("/api/v1/signals", json=body, headers=headers(ALICE)).json()
        again = client.post("/api/v1/signals", json=body, headers=headers(ALICE)).json()

    assert first["order"]["signal_id"] == str(expected)
    assert (first["order"]["quantity"], first["order"]["status"]) == (2, "ACCEPTED")
    assert again["order"]["order_id"] == first["order"]["order_id"]


def test_signal_batch_answers_each_signal_as_its_own_post_would(client: TestClient[Any]) -> None:
    wrong_id = {**SIGNAL, "tick_trade_id": 3, "signal_id": "00000000-0000-0000-0000-000000000000"}
    batch = [SIGNAL, SIGNAL, wrong_id, {**SIGNAL, "tick_trade_id": 2}]

    response = client.post("/api/v1/signals/batch", json={"signals": batch}, headers=headers(ALICE))
    alone = client.post("/api/v1/signals", json=SIGNAL, headers=headers(ALICE))
    latest = client.get("/api/v1/signals/latest?limit=5", headers=headers(ALICE)).json()

    results = response.json()["results"]
    assert response.status_code == 200
    assert [result["status"] for result in results] == [201, 200, 422, 201]
    assert results[0]["recorded"]["signal"] == alone.json()["signal"]
    assert results[1]["recorded"]["created"] is False
    assert (results[2]["recorded"], results[2]["key"]) == (None, "signal_id")
    assert "invalid signal_id" in results[2]["error"]
    assert [signal["tick_trade_id"] for signal in latest["signals"]] == [2, 1]


def test_signal_batch_with_an_invalid_body_is_refused_whole_naming_it(
    client: TestClient[Any],
) -> None:
    bad = {"signals": [SIGNAL, {**SIGNAL, "confidence": 2.0}]}
    too_many = {"signals": [{**SIGNAL, "tick_trade_id": n} for n in range(101)]}

    responses = [
        client.post("/api/v1/signals/batch", json=body, headers=headers(ALICE))
        for body in (bad, {"signals": []}, too_many)
    ]
    listed = client.get("/api/v1/signals/latest?limit=5", headers=headers(ALICE)).json()

    assert [response.status_code for response in responses] == [400, 400, 400]
    assert "signals.1.confidence" in json.dumps(responses[0].json())
    assert listed["signals"] == []  # none of a refused batch is recorded


def test_signal_batch_whose_store_fails_midway_keeps_what_it_took_and_names_the_rest(
    host: ApiHost, client: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    put = host.app.events.put
    third = signal_id_for(
        SIGNAL["model_version"], Symbol(SIGNAL["symbol"]), 3, SIGNAL["tick_timestamp_ms"]
    )

    def refusing_the_third(events: Any, *args: Any, **kwargs: Any) -> Any:
        if any(event.originator_id == third for event in events):
            raise sqlite3.OperationalError("database or disk is full")
        return put(events, *args, **kwargs)

    monkeypatch.setattr(host.app.events, "put", refusing_the_third)
    batch = [{**SIGNAL, "tick_trade_id": number} for number in range(1, 5)]

    response = client.post("/api/v1/signals/batch", json={"signals": batch}, headers=headers(ALICE))
    monkeypatch.setattr(host.app.events, "put", put)
    latest = client.get("/api/v1/signals/latest?limit=5", headers=headers(ALICE)).json()
    health = client.get("/health")

    results = response.json()["results"]
    # The fourth was taken after the third, so it fails with it: nothing stands on a write
    # the store refused.
    assert [result["status"] for result in results] == [201, 201, 503, 503]
    assert "disk is full" in results[2]["error"] and results[3]["recorded"] is None
    assert [signal["tick_trade_id"] for signal in latest["signals"]] == [2, 1]
    assert health.json()["store"]["ok"] is False  # told, as a failed single POST tells it
    again = client.post("/api/v1/signals/batch", json={"signals": batch}, headers=headers(ALICE))
    assert [result["status"] for result in again.json()["results"]] == [200, 200, 201, 201]


def test_signal_batch_with_auto_execution_is_one_transaction(
    make_host: HostFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradingcore.application.signal_desk import AutoExecution

    host = make_host(auto_execution=AutoExecution(enabled=True, quantity=1))
    with TestClient(app=create_app(host)) as client:
        tape = Tape(host)
        tape.print_rising(6)
        puts: list[int] = []
        put = host.app.events.put

        def counted(events: Any, *args: Any, **kwargs: Any) -> Any:
            puts.append(len(events))
            return put(events, *args, **kwargs)

        monkeypatch.setattr(host.app.events, "put", counted)
        timed_before = REGISTRY.get_sample_value("order_latency_seconds_count") or 0
        directions = ["BUY", "SELL", "BUY", "SELL"]
        batch = [
            {**SIGNAL, "direction": direction, "tick_trade_id": number + 1}
            for number, direction in enumerate(directions)
        ]
        results = client.post(
            "/api/v1/signals/batch", json={"signals": batch}, headers=headers(ALICE)
        ).json()["results"]
        monkeypatch.setattr(host.app.events, "put", put)
        timed = (REGISTRY.get_sample_value("order_latency_seconds_count") or 0) - timed_before
        position = client.get("/api/v1/positions", headers=headers(ALICE)).json()

    orders = [result["recorded"]["order"] for result in results]
    assert [order["side"] for order in orders] == ["BUY", "SELL", "BUY", "SELL"]
    # Each order was filled by the next signal's tape: the orders, their fills and the
    # signals were stored in one transaction, in one write.
    assert [order["status"] for order in orders[:3]] == ["FILLED"] * 3
    assert len(puts) == 1 and puts[0] >= 4 * 2 + 3 * 2
    assert timed == 4  # each order timed once, from its signal's arrival to its answer
    # long 1, short 1, long 1; the last order waits for a trade after its tick
    assert [held["net_quantity"] for held in position["positions"]] == [1]


def test_signal_batch_makes_its_orders_durable_before_it_waits_for_a_later_tick(
    make_host: HostFactory,
) -> None:
    import threading

    from tradingcore.application.signal_desk import AutoExecution
    from tradingcore.domain.order import Order, order_id_for

    host = make_host(auto_execution=AutoExecution(enabled=True, quantity=1), signal_wait=30.0)
    with TestClient(app=create_app(host)) as client:
        tape = Tape(host)
        tape.print(127_850)
        batch = [
            {**SIGNAL, "tick_trade_id": 1},
            {**SIGNAL, "direction": "SELL", "tick_trade_id": 2},  # not printed yet
        ]
        first = signal_id_for("m-1", Symbol("WINZ25"), 1, SIGNAL["tick_timestamp_ms"])
        order_id = order_id_for("alice", f"signal-{first.hex}")
        answered: list[Any] = []
        posting = threading.Thread(
            target=lambda: answered.append(
                client.post(
                    "/api/v1/signals/batch", json={"signals": batch}, headers=headers(ALICE)
                )
            )
        )
        posting.start()
        # While the batch waits for tick 2, the first signal's order is stored and reported.
        seen = wait_for(lambda: host.app.exists(order_id) and signal_logged(host, first.hex))
        waiting = posting.is_alive()
        tape.print(127_855)
        posting.join(timeout=30)

    assert seen and waiting
    stored = host.app.load_fresh(Order, order_id)
    assert stored.side.value == "BUY" and stored.signal_id == first
    results = answered[0].json()["results"]
    assert [result["status"] for result in results] == [201, 201]
    assert [result["recorded"]["order"]["side"] for result in results] == ["BUY", "SELL"]


def wait_for(condition: Any, timeout: float = 10.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def signal_logged(host: ApiHost, client_order_hex: str) -> bool:
    """Whether the host's JSONL log says the order of this signal was sent."""
    host.flush_logs()
    assert host.config.log_dir is not None
    lines = "".join(path.read_text() for path in host.config.log_dir.rglob("*.jsonl"))
    return f"signal-{client_order_hex}" in lines and "Order sent" in lines


def test_signal_batch_with_auto_execution_trades_each_signal_in_order(
    make_host: HostFactory,
) -> None:
    from tradingcore.application.signal_desk import AutoExecution

    host = make_host(auto_execution=AutoExecution(enabled=True, quantity=1))
    with TestClient(app=create_app(host)) as client:
        Tape(host).print_rising(2)
        body = {"signals": BUY_THEN_SELL}
        results = client.post("/api/v1/signals/batch", json=body, headers=headers(ALICE)).json()

    orders = [result["recorded"]["order"] for result in results["results"]]
    assert [order["side"] for order in orders] == ["BUY", "SELL"]
    assert [order["quantity"] for order in orders] == [1, 2]  # long 1, then short 1
    signals = [result["recorded"]["signal"]["signal_id"] for result in results["results"]]
    assert [order["signal_id"] for order in orders] == signals


def test_health_is_503_when_the_broker_is_down(host: ApiHost, client: TestClient[Any]) -> None:
    assert client.get("/health").status_code == 200
    assert isinstance(host.broker, object)
    host.broker.disconnect()  # type: ignore[attr-defined]

    response = client.get("/health")

    assert response.status_code == 503
    assert response.json()["broker"]["connected"] is False


def test_risk_limits_change_needs_admin_and_takes_effect(
    client: TestClient[Any], tape: Tape
) -> None:
    tape.print(127_850)
    denied = client.put(
        "/api/v1/risk/limits", json={"max_order_quantity": 1}, headers=headers(ALICE)
    )
    changed = client.put(
        "/api/v1/risk/limits", json={"max_order_quantity": 1}, headers=headers(ROOT)
    )
    order = execute(client, quantity=2).json()

    assert denied.status_code == 403
    assert changed.json()["limits"]["max_order_quantity"] == 1
    assert order["reason_code"] == "MAX_ORDER_QUANTITY"


def test_audit_trail_and_logs_are_jsonl_and_never_hold_a_key(
    client: TestClient[Any], host: ApiHost, tape: Tape, tmp_path: Path
) -> None:
    tape.print(127_850)
    execute(client, client_order_id="audited")
    client.post(
        "/api/v1/risk/kill-switch",
        json={"action": "engage", "reason": "audit test"},
        headers=headers(ROOT),
    )
    execute(client, key="wrong-key-0123456789")
    host.flush_logs()  # written out by a background thread within 0.2 s otherwise

    audit = [
        json.loads(line)
        for path in (tmp_path / "logs" / "audit").glob("*.jsonl")
        for line in path.read_text().splitlines()
    ]
    everything = "".join(path.read_text() for path in (tmp_path / "logs").rglob("*.jsonl"))

    assert [entry["action"] for entry in audit] == ["ORDER_EXECUTED", "KILL_SWITCH_ENGAGED"]
    assert audit[1]["actor"] == "root" and audit[1]["reason"] == "audit test"
    assert set(audit[0]) == {"actor", "action", "timestamp", "details", "result", "reason"}
    for secret in (ALICE, ROOT, "wrong-key-0123456789"):
        assert secret not in everything


def test_dashboard_and_openapi_are_public(client: TestClient[Any]) -> None:
    assert client.get("/dashboard").status_code == 200
    assert client.get("/schema/openapi.json").status_code == 200
    assert client.get("/schema/swagger").status_code == 200


def test_signal_batch_logs_each_order_as_sent_then_as_filled(make_host: HostFactory) -> None:
    from tradingcore.application.signal_desk import AutoExecution

    host = make_host(auto_execution=AutoExecution(enabled=True, quantity=1))
    with TestClient(app=create_app(host)) as client:
        Tape(host).print_rising(3)
        client.post(
            "/api/v1/signals/batch", json={"signals": BUY_THEN_SELL}, headers=headers(ALICE)
        )
        host.flush_logs()

    assert host.config.log_dir is not None
    lines = [
        json.loads(line)
        for path in sorted(host.config.log_dir.rglob("*.jsonl"))
        for line in path.read_text().splitlines()
    ]
    sent = [line["context"] for line in lines if line.get("message") == "Order sent"]
    filled = [line["context"] for line in lines if line.get("message") == "Order filled"]
    # The BUY's fill (trade 2) is booked in the batch before the batch reports its orders:
    # the "Order sent" line still tells the order as it was sent.
    assert [(order["side"], order["status"]) for order in sent] == [
        ("BUY", "ACCEPTED"),
        ("SELL", "ACCEPTED"),
    ]
    assert (filled[0]["side"], filled[0]["status"]) == ("BUY", "FILLED")
