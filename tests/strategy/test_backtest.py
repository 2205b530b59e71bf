"""The backtest: both paths store the same, runs repeat exactly, orders name their strategy."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategy.helpers import WIN, run_backtest, stored_events, walk_tape
from tradingcore.application.backtest import BacktestConfig
from tradingcore.domain.audit import AuditEntry
from tradingcore.domain.order import Order
from tradingcore.domain.tape import session_of
from tradingcore.risk.limits import RiskLimits
from tradingcore.simulation.venue import VenueConfig
from tradingcore.strategy.examples import MovingAverageCross

LIMITS = RiskLimits(duplicate_window=timedelta(0), max_orders_per_window=1_000)


@st.composite
def tapes_and_strategy(draw: st.DrawFn) -> tuple[object, MovingAverageCross, int]:
    count = draw(st.integers(min_value=30, max_value=400))
    steps = draw(st.lists(st.integers(-2, 2), min_size=count, max_size=count))
    volumes = draw(st.lists(st.integers(1, 4), min_size=count, max_size=count))
    gaps = draw(st.lists(st.sampled_from([0, 0, 1, 7, 40]), min_size=count, max_size=count))
    fast = draw(st.integers(1, 8))
    slow = draw(st.integers(fast + 1, 20))
    quantity = draw(st.integers(1, 3))
    latency = draw(st.sampled_from([0, 0, 5, 50]))
    return walk_tape(steps, volumes, gaps), MovingAverageCross(fast, slow, quantity), latency


@settings(max_examples=40, deadline=None)
@given(tapes_and_strategy())
def test_columnar_path_stores_the_same_orders_and_fills_as_the_event_path(
    case: tuple[object, MovingAverageCross, int],
) -> None:
    tape, strategy, latency = case
    config = BacktestConfig(limits=LIMITS, venue=VenueConfig(latency_ms=latency), batch=50)
    copy = MovingAverageCross(strategy.fast, strategy.slow, strategy.quantity)
    events_app, events = run_backtest(
        {WIN: tape},  # type: ignore[dict-item]
        [strategy],
        config=replace(config, columnar=False),
    )
    columnar_app, columnar = run_backtest(
        {WIN: tape},  # type: ignore[dict-item]
        [copy],
        config=config,
    )
    assert not events.columnar and columnar.columnar
    assert columnar.fills == events.fills
    assert (columnar.orders, columnar.denied) == (events.orders, events.denied)
    assert stored_events(columnar_app) == stored_events(events_app)


def test_the_same_tape_and_config_give_byte_identical_stores(tmp_path: Path) -> None:
    rng = random.Random(5)
    count = 2_000
    tape = walk_tape(
        [rng.choice((-1, 0, 1)) for _ in range(count)],
        [rng.randint(1, 5) for _ in range(count)],
        [rng.choice((0, 1, 30)) for _ in range(count)],
    )
    first, _ = run_backtest(
        {WIN: tape}, [MovingAverageCross(5, 30)], url=f"sqlite:///{tmp_path / 'a.sqlite'}"
    )
    second, _ = run_backtest(
        {WIN: tape}, [MovingAverageCross(5, 30)], url=f"sqlite:///{tmp_path / 'b.sqlite'}"
    )
    assert stored_events(first) == stored_events(second)
    assert len(stored_events(first)) > 50


def test_every_order_names_its_strategy_on_the_order_and_in_the_audit() -> None:
    tape = walk_tape([1] * 40 + [-1] * 40, [2] * 80, [5] * 80)
    app, result = run_backtest({WIN: tape}, [MovingAverageCross(3, 10)])
    assert result.orders == 2 and result.fills
    orders = [
        app.mapper.to_domain_event(item)
        for item in app.recorder.select_notifications(start=1, limit=10_000)
    ]
    submitted = [
        app.load(Order, event.originator_id)
        for event in orders
        if type(event).__name__ == "OrderSubmitted"
    ]
    assert {order.strategy_id for order in submitted} == {"ma-cross-3-10"}
    assert all(order.client_order_id.startswith("ma-cross-3-10/") for order in submitted)
    audits = [event for event in orders if type(event).__module__ == AuditEntry.__module__]
    assert audits
    assert all(
        app.load(AuditEntry, event.originator_id).actor == "strategy:ma-cross-3-10"
        for event in audits
    )


def test_a_tape_that_moves_beyond_the_capture_band_replays_like_imported_history() -> None:
    # Imported B3 history has no circuit-breaker band: an option may double in a session.
    # The backtest stores the source's trades as they are instead of refusing them.
    tape = walk_tape([5_000] * 30 + [-5_000] * 30, [1] * 60, [10] * 60)
    app, result = run_backtest(
        {WIN: tape}, [MovingAverageCross(2, 5)], config=BacktestConfig(limits=LIMITS)
    )
    assert result.trades == 60 and result.fills
    stored_tape = app.tape(WIN, session_of(int(tape.timestamps_ms[0])))
    assert stored_tape.band_fraction is None and stored_tape.trade_count == 60
