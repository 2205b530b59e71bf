"""A session's seen trade ids: the compact runs answer exactly as a plain set would."""

from __future__ import annotations

import sys
import threading
from datetime import date
from decimal import Decimal
from itertools import accumulate

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from tests.core.factories import AT, WIN
from tradingcore.domain.errors import InvalidTrade
from tradingcore.domain.tape import (
    ADMITTED_PRUNE_AT,
    DUPLICATE,
    MarketTape,
    TradeColumns,
    TradeRefusal,
    TradesRecorded,
)
from tradingcore.domain.trade_ids import TradeIdSet

MAX_ID = 2**63 - 1
ids = st.integers(0, 400)
"""Small ids collide often, so duplicates, neighbours and run edges are all exercised."""


def near_order(draw: st.DrawFn) -> list[int]:
    """Ids as a feed gives them: mostly a constant step, a few gaps, a few out of order."""
    step = draw(st.sampled_from([1, 10, 7]))
    trade_id = draw(st.integers(0, 50))
    result = []
    for _ in range(draw(st.integers(0, 60))):
        kind = draw(st.sampled_from(["next"] * 6 + ["gap", "back", "odd"]))
        if kind == "next":
            trade_id += step
            result.append(trade_id)
        elif kind == "gap":
            trade_id += draw(st.integers(1, 40))
            result.append(trade_id)
        elif kind == "back":
            result.append(max(0, trade_id - draw(st.integers(0, 30))))
        else:
            result.append(trade_id + draw(st.integers(1, 3)))
    return result


feeds = st.composite(near_order)()


class AgainstAPlainSet(RuleBasedStateMachine):
    """Every operation on a TradeIdSet and on a set[int] gives the same answers."""

    def __init__(self) -> None:
        super().__init__()
        self.compact = TradeIdSet()
        self.plain: set[int] = set()

    @rule(trade_id=ids)
    def add(self, trade_id: int) -> None:
        self.compact.add(trade_id)
        self.plain.add(trade_id)

    @rule(batch=feeds)
    def update_with_a_feed_batch(self, batch: list[int]) -> None:
        self.compact.update(tuple(batch))
        self.plain.update(batch)

    @rule(start=ids, step=st.integers(1, 12), size=st.integers(3, 40))
    def update_with_an_even_batch(self, start: int, step: int, size: int) -> None:
        batch = list(range(start, start + step * size, step))
        self.compact.update(batch)
        self.plain.update(batch)

    @rule(batch=st.lists(ids, max_size=20))
    def isdisjoint_agrees(self, batch: list[int]) -> None:
        assert self.compact.isdisjoint(batch) == self.plain.isdisjoint(batch)

    @invariant()
    def membership_length_and_order_agree(self) -> None:
        for probe in range(-2, 460):
            assert (probe in self.compact) == (probe in self.plain), probe
        assert len(self.compact) == len(self.plain)
        assert list(self.compact) == sorted(self.plain)
        assert bool(self.compact) == bool(self.plain)
        assert self.compact == self.plain
        assert self.compact.high == max(self.plain, default=-1)


TestAgainstAPlainSet = AgainstAPlainSet.TestCase


@given(st.lists(st.integers(0, MAX_ID), max_size=50), st.lists(st.integers(0, MAX_ID)))
def test_any_ids_up_to_the_largest_answer_as_a_set(added: list[int], probes: list[int]) -> None:
    compact = TradeIdSet(added)
    assert all((probe in compact) == (probe in set(added)) for probe in probes + added)
    assert list(compact) == sorted(set(added))


@given(feeds, feeds)
def test_equal_sets_are_equal_whatever_order_built_them(
    first: list[int], second: list[int]
) -> None:
    one, other = TradeIdSet(first + second), TradeIdSet()
    for trade_id in sorted(set(first + second), reverse=True):
        other.add(trade_id)
    assert one == other
    assert (one == TradeIdSet([*first, *second, 10_000])) is False


def test_a_session_numbered_as_b3_does_is_one_run() -> None:
    seen = TradeIdSet()
    for start in range(10, 2_000_010, 10_000):
        seen.update(tuple(range(start, start + 10_000, 10)))
    assert (seen.runs, len(seen.loose), len(seen)) == (1, 0, 200_000)
    assert 2_000_000 in seen and 1_999_995 not in seen and 2_000_010 not in seen and 0 not in seen


def test_ids_arriving_a_little_out_of_order_join_the_runs_they_border() -> None:
    seen = TradeIdSet([10, 20, 40, 30, 50, 60, 80, 70, 90])
    assert list(seen) == [10, 20, 30, 40, 50, 60, 70, 80, 90]
    assert (seen.runs, seen.loose) == (3, set())


def test_an_id_just_below_a_run_is_kept_loose_not_prepended() -> None:
    seen = TradeIdSet([10, 20, 30, 50, 60])
    seen.add(40)
    assert (list(seen), seen.runs, seen.loose) == ([10, 20, 30, 40, 50, 60], 2, set())
    seen.add(5)
    assert seen.loose == {5}


def test_an_id_inside_a_run_that_is_not_of_it_is_kept_loose() -> None:
    seen = TradeIdSet(range(10, 110, 10))
    seen.add(55)
    assert seen.loose == {55}
    assert 55 in seen and 50 in seen and 56 not in seen


def test_a_negative_id_is_refused() -> None:
    with pytest.raises(ValueError, match="-3 must be >= 0"):
        TradeIdSet([-3])


def batch(*trade_ids: int) -> TradeColumns:
    size = len(trade_ids)
    return TradeColumns(list(trade_ids), [1_000] * size, [1_278_500_000] * size, [1] * size,
                        ["B"] * size, [0] * size)  # fmt: skip


def test_a_replayed_batch_is_refused_as_already_recorded_after_a_reload() -> None:
    tape = MarketTape.open(WIN, date(2025, 12, 1), AT)
    tape.record(batch(*range(10, 10_010, 10)), AT)
    reloaded = MarketTape.rehydrate(tape.id, tape.collect_events())
    with pytest.raises(InvalidTrade, match=r"invalid trade 5000 .*duplicate trade id") as error:
        reloaded.record(batch(10_010, 5_000), AT)
    assert (error.value.row, error.value.trade_id) == (1, 5_000)
    refusal = reloaded.admission().admit(10, 1_000, 1_278_500_000, 1)
    assert refusal is not None and refusal.code == DUPLICATE


def test_the_admission_remembers_what_it_admitted_but_never_changes_the_tape() -> None:
    tape = MarketTape.open(WIN, date(2025, 12, 1), AT)
    tape.record(batch(10, 20), AT)
    admission = tape.admission()
    assert admission.admit(30, 1_000, 1_278_500_000, 1) is None
    refusal = admission.admit(30, 1_000, 1_278_500_000, 1)
    assert refusal is not None and refusal.code == DUPLICATE
    assert 30 not in tape.seen_trade_ids
    event = tape.record(batch(30), AT)
    assert isinstance(event, TradesRecorded) and 30 in tape.seen_trade_ids


@given(feeds)
def test_a_tape_rebuilt_from_its_events_equals_the_one_that_recorded_them(
    trade_ids: list[int],
) -> None:
    tape = MarketTape.open(WIN, date(2025, 12, 1), AT, band_fraction=Decimal("0.2"))
    unique = list(dict.fromkeys(trade_ids))
    for start in range(0, len(unique), 7):
        tape.record(batch(*unique[start : start + 7]), AT)
    events = tape.collect_events()
    assert MarketTape.rehydrate(tape.id, [events[0], *events[1:]]) == tape
    assert tape.seen_trade_ids == set(unique)


def test_the_admission_keeps_only_ids_the_tape_does_not_hold_yet() -> None:
    tape = MarketTape.open(WIN, date(2025, 12, 1), AT)
    admission = tape.admission()
    admitted = range(10, 10 + 10 * 3 * ADMITTED_PRUNE_AT, 10)
    for start in range(0, len(admitted), 1_000):
        chunk = admitted[start : start + 1_000]
        assert all(admission.admit(one, 1_000, 1_278_500_000, 1) is None for one in chunk)
        tape.record(batch(*chunk), AT)  # as the recorder's writer does, a batch behind
    assert len(admission._admitted) < 2 * 1_000
    assert {admission.admit(one, 1_000, 1_278_500_000, 1) for one in admitted[::97]} == {
        TradeRefusal(DUPLICATE, f"invalid trade {one} (WINZ25): duplicate trade id in this session")
        for one in admitted[::97]
    }


def test_a_lookup_during_adds_from_another_thread_answers_as_before_or_after_them() -> None:
    """Gaps of 3 to 8 start a run every other id, the case where a run's step changes."""
    gaps = [3, 5, 3, 8, 5, 5, 3, 3, 8]
    feed = list(accumulate(gaps[index % len(gaps)] for index in range(60_000)))
    seen = TradeIdSet()
    done = 0
    stop = threading.Event()
    errors: list[str] = []

    def look() -> None:
        while not stop.is_set():
            known = done  # every id of feed[:known] was added before this lookup began
            for index in range(max(0, known - 20), min(known + 2, len(feed))):
                trade_id = feed[index]
                if index < known and trade_id not in seen:
                    errors.append(f"missed {trade_id}")
                for neighbour in (trade_id - 1, trade_id + 1):
                    if neighbour in seen:
                        errors.append(f"found {neighbour}")

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    reader = threading.Thread(target=look)
    reader.start()
    try:
        for index, trade_id in enumerate(feed):
            seen.add(trade_id)
            done = index + 1
    finally:
        stop.set()
        reader.join()
        sys.setswitchinterval(interval)
    assert errors == []
    assert list(seen) == feed
