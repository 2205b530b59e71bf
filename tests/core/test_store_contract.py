"""The event store contract, run against every backend (SQLite file and PostgreSQL)."""

from __future__ import annotations

import threading
import uuid
from datetime import date
from decimal import Decimal

import pytest

from adapters.eventstore import open_store
from tests.core.factories import WIN, submit_order
from tradingcore.application.errors import (
    AggregateMissing,
    ConcurrencyConflict,
    IdempotencyConflict,
)
from tradingcore.application.trading import TradingApplication, state_hash
from tradingcore.domain.audit import AuditEntry, audit_id_for
from tradingcore.domain.errors import InvalidOrderTransition, InvalidPrice, InvalidTrade
from tradingcore.domain.order import Order, OrderStatus
from tradingcore.domain.position import Position
from tradingcore.domain.signal import Direction, Signal
from tradingcore.domain.tape import MarketTape, TradeColumns, session_tape_id
from tradingcore.domain.values import Side
from tradingcore.ports.clock import ManualClock

SESSION = date(2025, 12, 1)


def batch(start: int, count: int, ts: int = 1_764_590_400_000) -> TradeColumns:
    return TradeColumns(
        trade_ids=list(range(start, start + count)),
        timestamps_ms=[ts + i for i in range(count)],
        prices=[1_278_500_000 + 50_000 * (i % 3) for i in range(count)],
        volumes=[1 + i % 7 for i in range(count)],
        aggressors=["BSN"[i % 3] for i in range(count)],
        flags=[0] * count,
    )


def assert_rebuilt_equals(app: TradingApplication, aggregate: Order | Position) -> None:
    rebuilt = app.load_fresh(type(aggregate), aggregate.id)
    assert rebuilt == aggregate
    assert state_hash(rebuilt) == state_hash(aggregate)


def test_order_lifecycle_rebuilt_from_store_equals_live_after_each_command(
    app: TradingApplication,
) -> None:
    order = app.submit_order(submit_order(quantity=3))
    assert_rebuilt_equals(app, order)
    order = app.accept_order(order.id, "v-1")
    assert_rebuilt_equals(app, order)
    order, position = app.fill_order(order.id, 11, Decimal(127_850), 2)
    assert_rebuilt_equals(app, order)
    assert_rebuilt_equals(app, position)
    order, position = app.fill_order(order.id, 12, Decimal(127_800), 1)
    assert order.status is OrderStatus.FILLED
    assert position.net_quantity == 3
    assert_rebuilt_equals(app, position)


def test_submit_with_same_client_order_id_returns_the_original(app: TradingApplication) -> None:
    first = app.submit_order(submit_order("dup"))
    before = app.recorder.max_notification_id()
    second = app.submit_order(submit_order("dup"))
    assert second.id == first.id
    assert app.recorder.max_notification_id() == before


def test_submit_with_reused_client_order_id_for_other_order_is_refused(
    app: TradingApplication,
) -> None:
    app.submit_order(submit_order("dup", quantity=1))
    with pytest.raises(IdempotencyConflict, match="already used for a different order"):
        app.submit_order(submit_order("dup", quantity=2))


def test_concurrent_submits_with_same_client_order_id_create_one_order(
    store_url: str, clock: ManualClock
) -> None:
    apps = [open_store(store_url, clock) for _ in range(4)]
    results: list[Order] = []
    errors: list[Exception] = []
    barrier = threading.Barrier(len(apps))

    def submit(application: TradingApplication) -> None:
        barrier.wait()
        try:
            results.append(application.submit_order(submit_order("race")))
        except Exception as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=submit, args=(a,)) for a in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({order.id for order in results}) == 1
    submitted = [
        n
        for n in apps[0].recorder.select_notifications(start=1, limit=100)
        if n.topic.endswith("OrderSubmitted")
    ]
    assert len(submitted) == 1


def test_two_writers_of_the_same_version_one_wins_other_gets_conflict(
    store_url: str, clock: ManualClock
) -> None:
    first, second = open_store(store_url, clock), open_store(store_url, clock)
    order = first.submit_order(submit_order("cc"))
    mine, theirs = first.load(Order, order.id), second.load_fresh(Order, order.id)
    mine.accept("v-1", clock.now())
    theirs.cancel("user", clock.now())
    first.store(mine)
    with pytest.raises(ConcurrencyConflict, match="another writer saved it first"):
        second.store(theirs)
    assert first.load_fresh(Order, order.id).status is OrderStatus.ACCEPTED


def test_rejected_command_appends_nothing(app: TradingApplication) -> None:
    before = app.recorder.max_notification_id() or 0
    with pytest.raises(InvalidPrice):
        app.submit_order(submit_order(price=127_851))
    assert (app.recorder.max_notification_id() or 0) == before
    order = app.submit_order(submit_order("ok"))
    app.cancel_order(order.id, "user")
    with pytest.raises(InvalidOrderTransition, match="OrderAccepted is not allowed"):
        app.accept_order(order.id, "late")
    assert app.recorder.max_notification_id() == before + 2
    assert app.get_order(order.id).status is OrderStatus.CANCELED


def test_fill_with_duplicate_trade_id_is_not_double_counted(app: TradingApplication) -> None:
    order = app.submit_order(submit_order(quantity=2))
    app.accept_order(order.id, "v")
    app.fill_order(order.id, 5, Decimal(127_850), 1)
    order, position = app.fill_order(order.id, 5, Decimal(127_850), 1)
    assert order.filled_quantity == 1
    assert app.load_fresh(Position, position.id).net_quantity == 1


def test_trade_batches_round_trip_through_the_store(app: TradingApplication) -> None:
    app.record_trades(WIN, SESSION, batch(0, 1_000))
    app.record_trades(WIN, SESSION, batch(1_000, 500, ts=1_764_590_500_000))
    tape = app.load_fresh(MarketTape, session_tape_id(WIN, SESSION))
    assert tape.trade_count == 1_500
    assert tape.last_timestamp_ms == 1_764_590_500_499


def test_trade_batch_breaking_a_rule_is_rejected_and_tape_stays_consistent(
    app: TradingApplication,
) -> None:
    app.record_trades(WIN, SESSION, batch(0, 10))
    with pytest.raises(InvalidTrade, match="duplicate trade id"):
        app.record_trades(WIN, SESSION, batch(5, 10, ts=1_764_590_500_000))
    app.record_trades(WIN, SESSION, batch(10, 10, ts=1_764_590_500_000))
    assert app.load_fresh(MarketTape, session_tape_id(WIN, SESSION)).trade_count == 20


def test_load_with_unknown_id_raises_aggregate_missing(app: TradingApplication) -> None:
    with pytest.raises(AggregateMissing, match="no Order with id"):
        app.get_order(uuid.UUID(int=7))


def test_cached_aggregate_is_fast_forwarded_with_other_writers_events(
    store_url: str, clock: ManualClock
) -> None:
    reader, writer = open_store(store_url, clock), open_store(store_url, clock)
    order = reader.submit_order(submit_order("ff", side=Side.SELL))
    writer.accept_order(order.id, "v-9")
    assert reader.get_order(order.id).venue_order_id == "v-9"


def test_concurrent_store_signal_stores_one_signal_and_one_audit_entry(
    store_url: str, clock: ManualClock
) -> None:
    apps = [open_store(store_url, clock) for _ in range(4)]
    outcomes: list[tuple[uuid.UUID, bool]] = []
    errors: list[Exception] = []
    barrier = threading.Barrier(len(apps))

    def record(application: TradingApplication, number: int) -> None:
        signal = Signal.generate(
            symbol=WIN,
            direction=Direction.BUY,
            confidence=0.8,
            features={"aggressor_flow": 3.0},
            model_version="m-1",
            tick_trade_id=42,
            tick_timestamp_ms=1_764_590_400_000,
            price=127_850.0,
            at=clock.now(),
        )
        audit = AuditEntry.record(
            entry_id=audit_id_for("SIGNAL_RECORDED", f"{signal.id}/{number}"),
            actor=f"writer-{number}",
            action="SIGNAL_RECORDED",
            details={"signal_id": str(signal.id)},
            result="SUCCESS",
            reason="",
            at=clock.now(),
        )
        barrier.wait()
        try:
            stored, created = application.store_signal(signal, audit)
        except Exception as error:  # collected and asserted below
            errors.append(error)
            return
        outcomes.append((stored.id, created))

    threads = [threading.Thread(target=record, args=(a, n)) for n, a in enumerate(apps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({signal_id for signal_id, _ in outcomes}) == 1
    assert sorted(created for _, created in outcomes) == [False, False, False, True]
    topics = [n.topic for n in apps[0].recorder.select_notifications(start=1, limit=100)]
    assert sum(topic.endswith("SignalGenerated") for topic in topics) == 1
    assert sum(topic.endswith("AuditRecorded") for topic in topics) == 1
