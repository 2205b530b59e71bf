"""Orders name their strategy; orders stored before the field existed still load."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from eventsourcing.persistence import StoredEvent

from adapters.eventstore import open_store
from tradingcore.application.codec import encode
from tradingcore.domain.order import Order, OrderSubmitted, order_id_for
from tradingcore.domain.values import Side, Symbol
from tradingcore.ports.clock import ManualClock

AT = datetime(2025, 12, 1, 12, tzinfo=UTC)


def test_an_order_submitted_event_of_version_1_loads_with_no_strategy() -> None:
    app = open_store("memory://", ManualClock(AT))
    order_id = order_id_for("acct", "old-1")
    state = {  # as stored before strategy_id and class_version 2
        "timestamp": AT,
        "client_order_id": "old-1",
        "account": "acct",
        "symbol": Symbol("WINZ25"),
        "side": Side.BUY,
        "quantity": 1,
        "price": Decimal(127_000),
        "signal_id": None,
    }
    topic = f"{OrderSubmitted.__module__}:{OrderSubmitted.__qualname__}"
    app.recorder.insert_events([StoredEvent(order_id, 1, topic, encode(state))])
    order = app.load(Order, order_id)
    assert order.strategy_id is None
    assert order.client_order_id == "old-1"


def test_a_new_order_submitted_event_stores_its_strategy() -> None:
    app = open_store("memory://", ManualClock(AT))
    from tradingcore.domain.commands import SubmitOrder
    from tradingcore.domain.values import Price, Quantity

    order = app.submit_order(
        SubmitOrder(
            "new-1",
            "acct",
            Symbol("WINZ25"),
            Side.SELL,
            Quantity(1),
            Price.of(127_000),
            strategy_id="ma-cross-20-100",
        )
    )
    assert app.load_fresh(Order, order.id).strategy_id == "ma-cross-20-100"
