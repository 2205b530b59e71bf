"""Per-trade admission and batched, durable recording of the tape."""

from __future__ import annotations

import gc
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.eventstore import open_store
from hosts.capture.guard import Rejection, session_of
from hosts.capture.recorder import TapeRecorder
from tests.capture.factories import OPEN_MS, SESSION, WDO, WIN, stored_trades, trade
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.book import BookTop
from tradingcore.domain.book_tape import BookColumns, BookTape
from tradingcore.domain.tape import MarketTape, Trade, TradeColumns
from tradingcore.ports.clock import ManualClock
from tradingcore.simulation.market import session_open_ms


def recorder_for(app: TradingApplication, **options: Any) -> TapeRecorder:
    return TapeRecorder(app, **{"batch_size": 1_000, "max_age": 0.05, **options})


def test_session_of_with_a_late_utc_trade_is_the_brasilia_date() -> None:
    # 01:30 UTC on 2 Dec is 22:30 on 1 Dec in Brasília
    assert str(session_of(OPEN_MS + 13 * 3_600_000 + 30 * 60_000)) == "2025-12-01"
    assert session_of(OPEN_MS) == SESSION


def test_add_with_bad_trades_in_a_batch_records_the_good_ones_and_says_why(
    memory_app: TradingApplication,
) -> None:
    recorder = recorder_for(memory_app)
    verdicts = [
        recorder.add(trade(1)),
        recorder.add(trade(2)),
        recorder.add(trade(2)),  # duplicate id
        recorder.add(trade(3, offset_ms=0)),  # before trade 2's time
        recorder.add(trade(4, price=200_000)),  # far outside the 20 % band
        recorder.add(trade(5, volume=0)),
        recorder.add(trade(6)),
    ]
    recorder.flush()
    codes = [verdict.code if verdict else None for verdict in verdicts]
    assert codes == [
        None,
        None,
        "duplicate_trade_id",
        "timestamp_before_previous",
        "price_outside_band",
        "invalid_volume",
        None,
    ]
    assert verdicts[2] is not None and "invalid trade 2 (WINZ25)" in verdicts[2].message
    assert [row.trade_id for row in stored_trades(memory_app)] == [1, 2, 6]
    assert recorder.status().recorded_trades == 3


def test_add_with_two_symbols_records_one_tape_per_symbol_and_session(
    memory_app: TradingApplication,
) -> None:
    recorder = recorder_for(memory_app)
    for number in range(1, 6):
        assert recorder.add(trade(number)) is None
        assert recorder.add(trade(number, symbol=WDO, price=5_412)) is None
    recorder.flush()
    assert [row.trade_id for row in stored_trades(memory_app, WIN)] == [1, 2, 3, 4, 5]
    assert [row.trade_id for row in stored_trades(memory_app, WDO)] == [1, 2, 3, 4, 5]


def test_writer_with_batch_size_reached_records_without_waiting_for_close(
    memory_app: TradingApplication,
) -> None:
    recorder = recorder_for(memory_app, batch_size=100, max_age=60)
    recorder.start()
    try:
        for number in range(1, 251):
            recorder.add(trade(number))
        for _ in range(500):
            if recorder.status().recorded_trades >= 200:
                break
            time.sleep(0.01)
        assert recorder.status().recorded_trades >= 200
    finally:
        assert recorder.close()
    assert len(stored_trades(memory_app)) == 250


class FlakyApplication(TradingApplication):
    """A real application whose first `failures` batch writes fail like a lost database."""

    failures = 2

    def record_trades(self, *args: Any, **kwargs: Any) -> Any:
        if self.failures:
            self.failures -= 1
            raise OSError("database is unreachable")
        return super().record_trades(*args, **kwargs)


def test_write_with_store_failing_keeps_the_batch_in_order_and_retries() -> None:
    app = FlakyApplication(clock=ManualClock())
    recorder = recorder_for(app, retry_interval=0.01)
    for number in range(1, 4):
        recorder.add(trade(number))
    recorder.flush()
    status = recorder.status()
    assert (status.store_ok, status.pending_trades) == (False, 3)
    assert "database is unreachable" in status.last_error
    for number in range(4, 6):
        recorder.add(trade(number))
    recorder.flush()  # fails again
    recorder.flush()
    assert recorder.status().store_ok
    assert [row.trade_id for row in stored_trades(app)] == [1, 2, 3, 4, 5]


def test_restart_with_the_same_sqlite_file_keeps_recorded_trades_and_refuses_repeats(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'events.sqlite'}"
    first = open_store(url, ManualClock())
    recorder = recorder_for(first)
    for number in range(1, 101):
        recorder.add(trade(number))
    assert recorder.close()
    first.close()

    second = open_store(url, ManualClock())
    recorder = recorder_for(second)
    repeat = recorder.add(trade(100))
    older = recorder.add(trade(101, offset_ms=50))
    assert repeat is not None and repeat.code == "duplicate_trade_id"
    assert older is not None and older.code == "timestamp_before_previous"
    for number in range(101, 151):
        assert recorder.add(trade(number)) is None
    assert recorder.close()
    assert [row.trade_id for row in stored_trades(second)] == list(range(1, 151))
    second.close()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 40), st.integers(0, 60), st.integers(-3, 3), st.integers(0, 3)),
        max_size=80,
    ),
    st.integers(1, 10),
)
def test_add_with_any_trade_sequence_never_makes_the_tape_refuse_a_batch(
    rows: list[tuple[int, int, int, int]], batch_size: int
) -> None:
    app = TradingApplication(clock=ManualClock())
    refused: list[Rejection] = []
    recorder = recorder_for(app, batch_size=batch_size, on_rejected=refused.append)
    admitted: list[Trade] = []
    for trade_id, offset, ticks, volume in rows:
        candidate = trade(trade_id, offset_ms=offset, price=127_850 + ticks * 15_000, volume=volume)
        if recorder.add(candidate) is None:
            admitted.append(candidate)
        if len(admitted) % batch_size == 0:
            recorder.flush()
    recorder.flush()
    assert refused == []  # the tape agreed with every admission
    assert stored_trades(app) == admitted
    ids = [row.trade_id for row in admitted]
    assert len(ids) == len(set(ids))
    times = [row.timestamp_ms for row in admitted]
    assert times == sorted(times)


def test_record_with_trade_another_writer_recorded_is_refused_at_admission(
    memory_app: TradingApplication,
) -> None:
    refused: list[Rejection] = []
    recorder = recorder_for(memory_app, on_rejected=refused.append)
    recorder.add(trade(1))
    recorder.flush()
    # Another writer records trade 2 behind this recorder's back: the admission reads the
    # live tape, so the duplicate is refused before it reaches a batch.
    other = TradeColumns()
    other.append(trade(2))
    memory_app.record_trades(WIN, SESSION, other)
    rejection = recorder.add(trade(2))
    assert rejection is not None and rejection.code == "duplicate_trade_id"
    recorder.add(trade(3))
    recorder.flush()
    assert refused == []
    assert [row.trade_id for row in stored_trades(memory_app)] == [1, 2, 3]


@pytest.mark.parametrize("options", [{"batch_size": 0}, {"max_age": 0}])
def test_recorder_with_bad_settings_refuses_to_start(
    memory_app: TradingApplication, options: dict[str, Any]
) -> None:
    with pytest.raises(ValueError, match="must be"):
        TapeRecorder(memory_app, **options)


def _top(number: int, offset_ms: int = 0) -> BookTop:
    """A book top that differs from the one before (only changes are recorded)."""
    return BookTop(WIN, OPEN_MS + offset_ms + number, Decimal(127_845), number, Decimal(127_850), 1)


def _tapes(kind: type[MarketTape | BookTape], session: date) -> set[int]:
    """The ids of the live tapes of this kind and session (other tests' included)."""
    gc.collect()
    return {id(o) for o in gc.get_objects() if type(o) is kind and o.session == session}


def test_replay_into_the_next_session_lets_the_earlier_one_go_without_reading_it_back(
    memory_app: TradingApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the synthetic feed's session change the capture host's RSS stepped from ~52 to
    60-80 MB: the earlier session's last book batch was written after the next session's book
    tape was opened, and as one book tape per symbol was held, the earlier one was rebuilt from
    every top of its session (~1.2M ints for a day). A replay also kept the earlier session's
    partial batches, and so its state, until it closed."""
    reads: list[str] = []
    load_fresh = memory_app.load_fresh

    def counted(kind: Any, aggregate_id: Any) -> Any:
        reads.append(kind.__name__)
        return load_fresh(kind, aggregate_id)

    monkeypatch.setattr(memory_app, "load_fresh", counted)
    earlier = {kind: _tapes(kind, SESSION) for kind in (MarketTape, BookTape)}
    next_day = session_open_ms(SESSION + timedelta(days=1)) - OPEN_MS
    recorder = recorder_for(memory_app, batch_size=100)  # a replay: flushed by size only
    recorder.start()
    try:
        for number in range(1, 251):  # two full batches of trades and tops, a partial one each
            assert recorder.add(trade(number)) is None
            assert recorder.add_book(_top(number)) is None
        for number in range(251, 261):
            assert recorder.add(trade(number, offset_ms=next_day + number)) is None
            assert recorder.add_book(_top(number, next_day)) is None
        for _ in range(500):
            if recorder.status().open_tapes == 1:
                break
            time.sleep(0.01)
        status = recorder.status()
        assert (status.open_tapes, status.recorded_trades, status.recorded_books) == (1, 250, 250)
        assert _tapes(MarketTape, SESSION) <= earlier[MarketTape]  # none of this test's
        assert _tapes(BookTape, SESSION) <= earlier[BookTape]
    finally:
        assert recorder.close()
    assert reads == []
    assert [row.trade_id for row in stored_trades(memory_app)] == list(range(1, 251))
    next_session = SESSION + timedelta(days=1)
    assert len(stored_trades(memory_app, WIN, next_session)) == 10


def test_book_tapes_held_are_two_sessions_a_symbol(memory_app: TradingApplication) -> None:
    sessions = [SESSION + timedelta(days=day) for day in range(4)]
    earlier = [_tapes(BookTape, session) for session in sessions]
    for session in sessions:
        books = BookColumns()
        books.append(_top(1, session_open_ms(session) - OPEN_MS))
        memory_app.record_books(WIN, session, books)
    held = [len(_tapes(BookTape, s) - before) for s, before in zip(sessions, earlier, strict=True)]
    assert held == [0, 0, 1, 1]
    memory_app.forget_tape(WIN, sessions[3])
    assert _tapes(BookTape, sessions[3]) <= earlier[3]
