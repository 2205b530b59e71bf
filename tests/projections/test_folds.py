"""Pure folds: events in, row blocks out; a resumed fold equals a fold from scratch."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tradingcore.application.trading import TradingApplication
from tradingcore.domain.aggregate import DomainEvent
from tradingcore.domain.tape import TradesRecorded
from tradingcore.domain.values import Symbol
from tradingcore.ports.clock import ManualClock
from tradingcore.projections.blocks import Block, Characters, Constant
from tradingcore.projections.history import InMemoryHistory
from tradingcore.projections.market import trade_block
from tradingcore.projections.projector import Projector
from tradingcore.projections.tables import B3_TIME, b3_date_of_ms

from .helpers import populate

AT = datetime(2025, 12, 1, 13, tzinfo=UTC)


def stored_events(app: TradingApplication) -> list[tuple[int, DomainEvent]]:
    notifications = app.recorder.select_notifications(start=1, limit=100_000)
    return [(n.id, app.mapper.to_domain_event(n)) for n in notifications]  # type: ignore[misc]


def fold(events: list[tuple[int, DomainEvent]], projector: Projector) -> list[Block]:
    return [block for nid, event in events for block in projector.project(event, nid)]


def test_trade_block_with_a_batch_event_reuses_its_columns() -> None:
    event = TradesRecorded(
        originator_id=uuid.uuid4(),
        originator_version=2,
        timestamp=AT,
        symbol=Symbol("WINZ25"),
        first_sequence=10,
        trade_ids=(5, 6, 7),
        timestamps_ms=(1, 2, 3),
        prices=(1_278_500_000, 1_278_550_000, 1_278_500_000),
        volumes=(1, 2, 3),
        aggressors="BSN",
        flags=(0, 1, 2),
    )

    block = trade_block(event, date(2025, 12, 1), notification_id=42)

    assert block.length == 3
    assert block.key == ("trades", "WINZ25", date(2025, 12, 1))
    assert block.columns["price"] is event.prices
    assert block.columns["aggressor"] == Characters("BSN")
    assert block.columns["notification_id"] == Constant(42)
    assert list(block.columns["sequence"]) == [10, 11, 12]  # type: ignore[arg-type]


def test_project_with_every_event_type_gives_rows_for_each_table(
    memory_app: TradingApplication, clock: ManualClock
) -> None:
    populate(memory_app, clock, trades=400, batch=100, signal_every=50)

    blocks = fold(stored_events(memory_app), Projector(InMemoryHistory()))

    tables = {block.table.name for block in blocks}
    assert tables == {"trades", "features", "signals", "orders", "fills", "positions"}
    fills = [block for block in blocks if block.table.name == "fills"]
    assert all(block.columns["signal_id"][0] is not None for block in fills)  # type: ignore[index]


def test_order_rows_with_a_fill_carry_the_status_after_the_event(
    memory_app: TradingApplication, clock: ManualClock
) -> None:
    populate(memory_app, clock, trades=400, batch=100, signal_every=50)

    blocks = fold(stored_events(memory_app), Projector(InMemoryHistory()))

    statuses = [
        (block.columns["event"][0], block.columns["status"][0])  # type: ignore[index]
        for block in blocks
        if block.table.name == "orders"
    ]
    assert ("OrderSubmitted", "SUBMITTED") in statuses
    assert ("OrderAccepted", "ACCEPTED") in statuses
    assert ("OrderFilled", "FILLED") in statuses
    assert all(status != "FILLED" for event, status in statuses if event != "OrderFilled")


def test_project_with_an_unknown_event_type_yields_no_rows() -> None:
    class SomethingHappened(DomainEvent):
        pass

    event = SomethingHappened(originator_id=uuid.uuid4(), originator_version=1, timestamp=AT)

    assert Projector(InMemoryHistory()).project(event, 1) == []


@settings(max_examples=25, deadline=None)
@given(split=st.integers(min_value=0, max_value=1_000))
def test_fold_resumed_anywhere_with_history_equals_fold_from_scratch(split: int) -> None:
    app = _populated_memory_app()
    events = stored_events(app)
    split %= len(events) + 1
    history = InMemoryHistory([event for _, event in events])

    whole = fold(events, Projector(history))
    first, second = Projector(history), Projector(history)
    resumed = fold(events[:split], first) + fold(events[split:], second)

    assert resumed == whole


_CACHE: dict[str, TradingApplication] = {}


def _populated_memory_app() -> TradingApplication:
    if "app" not in _CACHE:
        from adapters.eventstore import open_store

        clock = ManualClock(datetime(2025, 11, 30, tzinfo=UTC))
        app = open_store("memory://", clock)
        populate(app, clock, trades=300, batch=100, signal_every=40)
        _CACHE["app"] = app
    return _CACHE["app"]


@given(st.integers(min_value=0, max_value=4_102_444_800_000))
def test_b3_date_with_any_instant_is_the_date_at_utc_minus_three(timestamp_ms: int) -> None:
    expected = datetime.fromtimestamp(timestamp_ms / 1000, UTC).astimezone(B3_TIME).date()
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=timestamp_ms)

    assert b3_date_of_ms(timestamp_ms) == expected == moment.astimezone(B3_TIME).date()
