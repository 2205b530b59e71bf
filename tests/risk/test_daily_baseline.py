"""The daily P&L's baseline: the first order of a day does not read the position's history."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from adapters.eventstore import open_store
from tradingcore.application.risk_book import RiskBook
from tradingcore.domain.instruments import infer_instrument
from tradingcore.domain.money import Money
from tradingcore.domain.position import Position
from tradingcore.domain.values import Side, Symbol
from tradingcore.ports.clock import ManualClock

WIN = Symbol("WINZ25")
DAY_ONE = datetime(2025, 12, 1, 13, 0, tzinfo=UTC)  # 10:00 in São Paulo
DAY_TWO_START = datetime(2025, 12, 2, 3, 0, tzinfo=UTC)  # São Paulo midnight


def test_first_order_of_a_day_takes_the_baseline_without_reading_the_history(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The soak's API host decoded the position's whole history (~15,000 events) at the first
    order after midnight: a one-off step in its RSS."""
    app = open_store("memory://", ManualClock(DAY_ONE))
    position = Position.open_for("alice", infer_instrument(WIN))
    for number in range(20):  # day one: round trips that realize P&L and pay fees
        at = DAY_ONE + timedelta(minutes=number)
        side, price = (Side.BUY, 127_850) if number % 2 == 0 else (Side.SELL, 127_900)
        position.apply_fill(
            uuid.uuid4(), number, side, 1, Decimal(price), at, fees=Money(Decimal("0.50"))
        )
    app.store(position)
    reads: list[Any] = []
    get = app.events.get
    monkeypatch.setattr(app.events, "get", lambda *a, **k: reads.append(a) or get(*a, **k))

    book = RiskBook()
    first = book.daily_realized(app, position, DAY_TWO_START)

    assert first == Money.zero() and reads == []
    day_one = position.realized_pnl
    position.apply_fill(
        uuid.uuid4(), 99, Side.BUY, 1, Decimal(127_800), DAY_TWO_START + timedelta(hours=13)
    )
    position.apply_fill(
        uuid.uuid4(), 100, Side.SELL, 1, Decimal(127_810), DAY_TWO_START + timedelta(hours=14)
    )
    app.store(position)
    restarted = RiskBook().daily_realized(app, position, DAY_TWO_START)  # mid-day: reads it
    assert reads
    assert book.daily_realized(app, position, DAY_TWO_START) == restarted
    assert restarted == position.realized_pnl - day_one > Money.zero()
    since_day_one = RiskBook().daily_realized(app, position, DAY_TWO_START - timedelta(days=1))
    assert since_day_one == position.realized_pnl
