"""Progress marks of the signal source: held trades applied once no signal can come for them."""

from __future__ import annotations

import time
from typing import Any

import pytest
from litestar.testing import TestClient
from prometheus_client import REGISTRY

from hosts.api.app import create_app
from hosts.api.host import ApiHost
from tests.api.conftest import ALICE, HostFactory, Tape, headers
from tests.api.test_api import BUY_THEN_SELL, SIGNAL
from tradingcore.application.signal_desk import AutoExecution

PROGRESS = "/api/v1/signals/progress"
TICK_MS: int = SIGNAL["tick_timestamp_ms"]  # type: ignore[assignment]


def mark(trade_id: int, timestamp_ms: int = TICK_MS) -> dict[str, Any]:
    return {"symbol": "WINZ25", "tick_trade_id": trade_id, "tick_timestamp_ms": timestamp_ms}


@pytest.fixture
def auto(make_host: HostFactory) -> ApiHost:
    """A host that auto-executes signals (quantity 1) on feed time."""
    return make_host(auto_execution=AutoExecution(enabled=True, quantity=1))


def net(client: TestClient[Any]) -> int:
    positions = client.get("/api/v1/positions", headers=headers(ALICE)).json()["positions"]
    return sum(held["net_quantity"] for held in positions)


def test_a_batch_with_a_mark_past_its_last_signal_fills_that_order_at_the_next_trade(
    auto: ApiHost,
) -> None:
    host = auto
    with TestClient(app=create_app(host)) as client:
        Tape(host).print_rising(3)
        without = client.post(
            "/api/v1/signals/batch", json={"signals": BUY_THEN_SELL[:1]}, headers=headers(ALICE)
        )
        before = net(client)  # the BUY at tick 1 waits for trade 2, held for a signal at 2
        answer = client.post(
            "/api/v1/signals/batch",
            json={"signals": BUY_THEN_SELL[1:], "progress": [mark(3)]},
            headers=headers(ALICE),
        )
        after = net(client)
        held = host.cursor.pending()

    assert without.status_code == answer.status_code == 200
    assert before == 0
    assert after == -1  # BUY 1 filled at trade 2, then SELL 2 at trade 3, on the mark
    assert held == 0


def test_a_mark_alone_applies_the_held_trades_and_one_ahead_of_the_tape_waits_for_them(
    auto: ApiHost,
) -> None:
    host = auto
    with TestClient(app=create_app(host)) as client:
        tape = Tape(host)
        tape.print_rising(2)
        taken = client.post("/api/v1/signals", json={**SIGNAL}, headers=headers(ALICE))
        marks_before = REGISTRY.get_sample_value("api_signal_progress_marks_total") or 0
        applied = client.post(PROGRESS, json={"marks": [mark(2)]}, headers=headers(ALICE))
        filled = net(client)
        ahead = client.post(PROGRESS, json={"marks": [mark(4)]}, headers=headers(ALICE))
        tape.print(127_860)  # trade 3: covered by the mark at 4, applied as it is read
        tape.print(127_865)
        tape.print(127_870)  # trade 5: past the mark, held
        held = host.cursor.pending()
        marks = (REGISTRY.get_sample_value("api_signal_progress_marks_total") or 0) - marks_before

    assert taken.status_code == 201
    assert (applied.status_code, applied.json()) == (200, {"applied": 1})
    assert filled == 1
    assert (ahead.status_code, ahead.json()) == (200, {"applied": 0})
    assert held == 1
    assert marks == 2


def test_a_mark_stamped_far_ahead_of_the_clock_is_422_and_applies_nothing(auto: ApiHost) -> None:
    host = auto
    with TestClient(app=create_app(host)) as client:
        tape = Tape(host)
        tape.print_rising(2)
        client.post("/api/v1/signals", json={**SIGNAL}, headers=headers(ALICE))
        future = (time.time_ns() // 1_000_000) + 3_600_000
        answer = client.post(
            PROGRESS, json={"marks": [mark(2), mark(9, future)]}, headers=headers(ALICE)
        )
        held = host.cursor.pending()

    assert answer.status_code == 422
    assert "timestamp_implausible" in answer.text and "marks.1.tick_timestamp_ms" in answer.text
    assert held == 1


def test_marks_count_in_a_rate_limit_bucket_of_their_own(make_host: HostFactory) -> None:
    host = make_host(
        auto_execution=AutoExecution(enabled=True, quantity=1), requests_per_second_per_key=3
    )
    with TestClient(app=create_app(host)) as client:
        codes = [
            client.post(PROGRESS, json={"marks": [mark(n)]}, headers=headers(ALICE)).status_code
            for n in range(1, 6)
        ]
        signal = client.post("/api/v1/signals", json={**SIGNAL}, headers=headers(ALICE))

    assert codes == [200, 200, 200, 429, 429]
    assert signal.status_code == 201  # the marks took none of the signals' requests
