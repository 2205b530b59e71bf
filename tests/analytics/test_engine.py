"""The live engine: books feed book_delta, rejected ticks leave the stream untouched."""

from __future__ import annotations

import time

import pytest

from adapters.eventstore import open_store
from adapters.websocket.messages import BookMessage, TickMessage
from adapters.websocket.server import MessageRejected
from hosts.analytics.engine import AnalyticsEngine, session_of
from tests.analytics.factories import fast_config, session
from tradingcore.domain.features import FeaturesComputed
from tradingcore.ports.clock import ManualClock


def engine() -> AnalyticsEngine:
    clock = ManualClock()
    return AnalyticsEngine(open_store("memory://", clock), clock, fast_config(), feature_batch=10)


def rows_of(subject: AnalyticsEngine) -> list[tuple[float, ...]]:
    rows: list[tuple[float, ...]] = []
    for notification in subject.app.recorder.select_notifications(start=1, limit=1_000):
        event = subject.app.mapper.to_domain_event(notification)
        if isinstance(event, FeaturesComputed):
            rows.extend(event.rows)
    return rows


def test_tick_after_a_book_gets_its_delta_and_before_any_book_zero() -> None:
    subject = engine()
    ticks = [TickMessage.from_trade(event.trade) for event in session(3)]
    subject.handle(ticks[0], time.perf_counter())
    book = BookMessage(
        symbol="WINZ25",
        bid_price=127845.0,
        bid_quantity=30,
        ask_price=127850.0,
        ask_quantity=12,
        timestamp=ticks[1].timestamp,
    )
    subject.handle(book, time.perf_counter())
    subject.handle(ticks[1], time.perf_counter())
    subject.close()
    rows = rows_of(subject)
    assert [row[3] for row in rows] == [0.0, 12.0 - 30.0]


def test_tick_with_a_price_finer_than_the_scale_is_rejected_and_not_counted() -> None:
    subject = engine()
    tick = TickMessage(
        symbol="WINZ25", price=127850.00001, volume=1, aggressor="B", timestamp=1, trade_id=5
    )
    with pytest.raises(MessageRejected) as rejection:
        subject.handle(tick, time.perf_counter())
    subject.close()
    assert rejection.value.reason == "invalid_price"
    assert rows_of(subject) == []


def test_session_of_a_tick_is_the_brasilia_date() -> None:
    # 2025-12-02 02:00 UTC is still 2025-12-01 in Brasília (UTC-3).
    assert session_of(1_764_640_800_000).isoformat() == "2025-12-01"
