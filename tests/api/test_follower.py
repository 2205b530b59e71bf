"""The store follower reads each notification once, even when most are not trades or signals."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from hosts.api.host import ApiHost
from tests.api.conftest import ALICE, Tape, headers


def test_follower_moves_past_orders_and_still_applies_the_next_trade(
    client: TestClient[Any], host: ApiHost, tape: Tape
) -> None:
    tape.print(127_850)
    for number in range(5):
        answer = client.post(
            "/api/v1/execute",
            json={"symbol": "WINZ25", "side": "BUY", "quantity": 1, "price": 127_800 - 5 * number},
            headers=headers(ALICE),
        )
        assert answer.status_code == 201
    host.follower.poll()
    moved_to, latest = host.follower.position, host.app.recorder.max_notification_id()

    tape.print(127_780)  # crosses every resting buy limit: the paper broker fills them

    assert moved_to == latest  # past the orders, not stuck at the last trade
    positions = client.get("/api/v1/positions", headers=headers(ALICE)).json()
    assert positions["positions"][0]["net_quantity"] == 5
