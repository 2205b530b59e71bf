"""FeatureSeries records each tick's row once, however often a prefix of the tape is re-sent."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from tradingcore.domain.features import FEATURE_NAMES, FeaturesComputed, FeatureSeries
from tradingcore.domain.values import Symbol

AT = datetime(2025, 12, 1, 12, tzinfo=UTC)
WIN = Symbol("WINZ25")
SESSION = date(2025, 12, 1)

Tick = tuple[int, int]
"""(trade id, timestamp ms)"""


def row(tick: Tick) -> tuple[float, ...]:
    return (float(tick[0]), float(tick[1]), 0.5, -1.0, float("nan"))


def record(series: FeatureSeries, ticks: list[Tick]) -> FeaturesComputed | None:
    return series.record(
        tuple(trade_id for trade_id, _ in ticks),
        tuple(stamp for _, stamp in ticks),
        FEATURE_NAMES,
        tuple(row(tick) for tick in ticks),
        AT,
    )


@st.composite
def tapes(draw: st.DrawFn) -> list[Tick]:
    """A symbol's tape: timestamps never go back, often several trades in one millisecond."""
    steps = draw(st.lists(st.integers(0, 2), min_size=1, max_size=60))
    ids = draw(st.permutations(range(1, len(steps) + 1)))
    stamps, stamp = [], 1_764_590_400_000
    for step in steps:
        stamp += step
        stamps.append(stamp)
    return list(zip(ids, stamps, strict=True))


@settings(max_examples=300, deadline=None)
@given(tape=tapes(), data=st.data())
def test_record_with_any_prefix_resent_any_number_of_times_stores_each_row_once(
    tape: list[Tick], data: st.DataObject
) -> None:
    series = FeatureSeries.start(WIN, SESSION, "features-v1")
    stored: list[FeaturesComputed] = []
    delivered = 0
    for _ in range(data.draw(st.integers(0, 6), label="restarts")):
        # A restart: the capture host re-sends from any point already delivered, to anywhere.
        start = data.draw(st.integers(0, delivered), label="from")
        stop = data.draw(st.integers(start, len(tape)), label="to")
        stored += deliver(series, tape[start:stop], data)
        delivered = max(delivered, stop)
        if data.draw(st.booleans(), label="reload"):  # a new host loads the series from the store
            series = FeatureSeries.rehydrate(series.id, stored)
    stored += deliver(series, tape[data.draw(st.integers(0, delivered), label="last") :], data)

    recorded = [
        (trade_id, stamp)
        for event in stored
        for trade_id, stamp in zip(event.trade_ids, event.timestamps_ms, strict=True)
    ]
    assert recorded == tape
    assert [value.hex() for event in stored for values in event.rows for value in values] == [
        value.hex() for tick in tape for value in row(tick)
    ]
    assert FeatureSeries.rehydrate(series.id, stored).row_count == len(tape)


def deliver(
    series: FeatureSeries, ticks: list[Tick], data: st.DataObject
) -> list[FeaturesComputed]:
    """Record `ticks` in batches of any size; return the events (batches of nothing old)."""
    events: list[FeaturesComputed] = []
    while ticks:
        size = data.draw(st.integers(1, 10), label="batch")
        event = record(series, ticks[:size])
        if event is not None:
            events.append(event)
        ticks = ticks[size:]
    series.collect_events()
    return events


def test_record_of_a_batch_already_recorded_returns_none_and_changes_nothing() -> None:
    series = FeatureSeries.start(WIN, SESSION, "features-v1")
    record(series, [(1, 100), (2, 100), (3, 101)])
    assert record(series, [(1, 100), (3, 101)]) is None
    assert series.row_count == 3
    assert series.version == 1


def test_record_at_the_high_water_timestamp_keeps_only_new_trade_ids() -> None:
    series = FeatureSeries.start(WIN, SESSION, "features-v1")
    record(series, [(1, 100), (2, 100)])
    event = record(series, [(2, 100), (4, 100), (1, 100), (5, 101)])
    assert event is not None
    assert event.trade_ids == (4, 5)
    assert [values[:2] for values in event.rows] == [(4.0, 100.0), (5.0, 101.0)]
