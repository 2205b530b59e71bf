"""The signal source's progress marks: held trades are applied as soon as no signal can come for
them (`FeedCursor.advance`), with the same orders and fills as a backtest of the same ticks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hosts.analytics.backtest_trading import trading_record
from tests.core.test_one_transaction import (
    ACCOUNT,
    WIN,
    Desk,
    book_at_once,
    make_desk,
    received,
    session,
    trade,
)
from tradingcore.application.feed_cursor import key_of
from tradingcore.domain.order import Order
from tradingcore.domain.signal import Direction


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    made = make_desk(f"sqlite:///{tmp_path / 'events.sqlite'}")
    yield made
    made.app.close()


def fills(desk: Desk, order: Order) -> list[int]:
    return list(desk.app.load(Order, order.id).trade_ids)


def test_a_mark_past_the_signal_fills_its_order_at_once_at_the_next_trade(desk: Desk) -> None:
    for trade_id in (10, 20, 30):
        desk.cursor.on_trade(trade(trade_id))
    taken = desk.cursor.take_signal(received(Direction.BUY, trade(10)), "bot", ACCOUNT)
    assert taken.result.execution is not None
    order = taken.result.execution.order
    assert fills(desk, order) == []  # trade 20 is held: a signal at 10 < T <= 20 could come

    applied = desk.cursor.advance(WIN, key_of(trade(20)))

    assert applied == 1
    assert fills(desk, order) == [20]
    assert desk.cursor.pending() == 1  # trade 30: not decided yet by the source


def test_a_mark_ahead_of_the_tape_applies_the_trades_it_covers_as_they_arrive(
    desk: Desk,
) -> None:
    desk.cursor.on_trade(trade(10))
    taken = desk.cursor.take_signal(received(Direction.SELL, trade(10)), "bot", ACCOUNT)
    assert taken.result.execution is not None
    desk.cursor.advance(WIN, key_of(trade(30)))  # the source is ahead of this host's tape

    for trade_id in (20, 30, 40):
        desk.cursor.on_trade(trade(trade_id))
    applied = desk.cursor.catch_up(WIN)

    assert applied == 2
    assert fills(desk, taken.result.execution.order) == [20]
    assert desk.cursor.pending() == 1  # trade 40 is past the mark


def test_an_older_mark_changes_nothing_and_a_signal_behind_a_mark_is_late(desk: Desk) -> None:
    for trade_id in (10, 20, 30):
        desk.cursor.on_trade(trade(trade_id))
    desk.cursor.advance(WIN, key_of(trade(30)))

    assert desk.cursor.advance(WIN, key_of(trade(20))) == 0
    late = desk.cursor.take_signal(received(Direction.BUY, trade(20)), "bot", ACCOUNT)
    assert late.skipped == "SIGNAL_LATE"  # a source that broke its word is not followed


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    moves=st.lists(
        st.tuples(st.integers(-3, 3), st.integers(1, 4), st.sampled_from(list(Direction))),
        min_size=5,
        max_size=40,
    ),
    every=st.integers(1, 4),
    quantity=st.integers(1, 2),
    marked=st.lists(st.booleans(), min_size=40, max_size=40),
    order=st.lists(st.booleans(), min_size=160, max_size=160),
)
def test_marks_in_any_interleaving_with_the_tape_store_what_a_backtest_stores(
    tmp_path_factory: pytest.TempPathFactory,
    moves: list[tuple[int, int, Direction]],
    every: int,
    quantity: int,
    marked: list[bool],
    order: list[bool],
) -> None:
    """The source's messages (its signals, then marks after some of its ticks) and the tape
    reach the host in any interleaving; a signal waits for its tick, as the host does."""
    folder = tmp_path_factory.mktemp("marks")
    trades, signals = session(moves, every)
    source: list[tuple[str, int]] = []
    for index, tape in enumerate(trades):
        if tape.trade_id in signals:
            source.append(("signal", index))
        if marked[index]:
            source.append(("mark", index))
    reference = book_at_once(f"sqlite:///{folder / 'at-once.sqlite'}", trades, signals, quantity)
    live = make_desk(f"sqlite:///{folder / 'live.sqlite'}", quantity)
    try:
        seen = 0
        through = -1  # the last tick index a signal or a mark covered
        choices = iter(order)
        while source:
            kind, index = source[0]
            tape_first = seen < len(trades) and next(choices, True)
            if kind == "signal" and seen <= index:
                tape_first = True  # the host waits for the signal's tick to be seen
            if tape_first:
                live.cursor.on_trade(trades[seen])
                live.cursor.catch_up(WIN)
                seen += 1
            else:
                source.pop(0)
                tick = trades[index]
                through = max(through, index)
                if kind == "signal":
                    taken = live.cursor.take_signal(
                        received(signals[tick.trade_id], tick), "bot", ACCOUNT
                    )
                    assert taken.skipped == ""
                else:
                    live.cursor.advance(WIN, key_of(tick))
            # Every seen trade the source has decided past is applied, and no other.
            assert live.cursor.pending() == seen - min(seen, through + 1)
        for tape in trades[seen:]:
            live.cursor.on_trade(tape)
        live.cursor.release()

        assert trading_record(live.app).sha256() == trading_record(reference).sha256()
    finally:
        live.app.close()
        reference.close()
