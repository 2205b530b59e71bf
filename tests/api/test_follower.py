"""The store follower reads each notification once, even when most are not trades or signals."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from litestar.testing import TestClient

from hosts.api.activity import Activity
from hosts.api.activity_rows import packed_features
from hosts.api.host import ApiHost
from tests.api.conftest import ALICE, WIN, HostFactory, Tape, headers
from tradingcore.application.signal_desk import AutoExecution
from tradingcore.domain.order import OrderSubmitted
from tradingcore.domain.signal import Direction, SignalGenerated
from tradingcore.domain.tape import Trade, TradeColumns
from tradingcore.domain.values import Aggressor, Side

AT = datetime(2025, 12, 1, 13, 0, tzinfo=UTC)


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


def record_batches(host: ApiHost, batches: int, size: int) -> list[int]:
    """Store `batches` TradesRecorded events of `size` trades each; return their trade ids."""
    clock = host.app.clock
    start_ms = int(clock.now().timestamp() * 1000)
    ids = []
    for batch in range(batches):
        columns = TradeColumns()
        for row in range(size):
            trade_id = 10 * (batch * size + row + 1)
            columns.append(Trade(WIN, trade_id, start_ms, Decimal(127_850), 1, Aggressor.BUY))
            ids.append(trade_id)
        host.app.record_trades(WIN, clock.now().date(), columns)
    return ids


def test_follower_behind_its_feed_holds_at_most_max_held_trades_and_skips_none(
    make_host: HostFactory,
) -> None:
    host = make_host(max_held_trades=250, auto_execution=AutoExecution(enabled=True))
    host.start()
    assert host.cursor.hold
    applied: list[int] = []
    host.cursor.trade_listeners.append(lambda trade: applied.append(trade.trade_id))
    stored = record_batches(host, batches=12, size=100)  # stored faster than applied

    held = []
    for _ in range(20):
        host.follower.poll()
        held.append(host.cursor.pending())
        host.cursor.release()  # as the hold's age or a signal would apply them

    assert max(held) <= 250 + 100  # stops before the batch that would pass the bound
    assert host.follower.paused > 0
    assert applied == stored  # every trade, once, in tape order
    assert host.follower.position == host.app.recorder.max_notification_id()


def test_history_keeps_the_configured_number_of_orders_and_signals(
    make_host: HostFactory,
) -> None:
    host = make_host(history=3)
    activity = Activity(host.app, host.logger, history=host.config.history)
    for number in range(5):
        activity.apply(signal_event(number), sequence=number + 1)
        activity.apply(order_event(number), sequence=number + 100)
    assert [row.tick_trade_id for row in activity.signal_history] == [2, 3, 4]
    assert len(activity.order_history) == 3
    assert list(activity.signal_history[0].features.items()) == [
        ("spread", 2.0),
        ("imbalance", 0.5),
    ]


def signal_event(number: int) -> SignalGenerated:
    return SignalGenerated(
        originator_id=uuid.uuid4(),
        originator_version=1,
        timestamp=AT,
        symbol=WIN,
        direction=Direction.BUY,
        confidence=0.9,
        features={"spread": 2.0, "imbalance": 0.5},
        model_version="m-1",
        tick_trade_id=number,
        tick_timestamp_ms=1_764_594_000_000,
        price=127_850.0,
    )


def order_event(number: int) -> OrderSubmitted:
    return OrderSubmitted(
        originator_id=uuid.uuid4(),
        originator_version=1,
        timestamp=AT,
        client_order_id=f"order-{number}",
        account="alice",
        symbol=WIN,
        side=Side.BUY,
        quantity=1,
        price=Decimal(127_850),
        signal_id=None,
    )


@given(st.dictionaries(st.text(min_size=1, max_size=12), st.floats(allow_nan=False), max_size=20))
def test_packed_features_read_as_the_dict_they_came_from(features: dict[str, float]) -> None:
    packed = packed_features(features)
    assert dict(packed) == features and list(packed) == list(features)
    assert all(packed[name] == value for name, value in features.items())
    assert "not-a-feature-name-here" not in packed
