"""Book tops recorded by capture: changes only, validated, exactly once, read back exactly."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.eventstore import open_store
from hosts.capture.recorder import TapeRecorder
from hosts.strategy.sources import split, store_events, synthetic_source
from tests.capture.factories import SESSION, WIN
from tests.capture.test_cli import capture
from tradingcore.domain.book import BookTop
from tradingcore.domain.book_tape import BookTopsRecorded, book_tape_id
from tradingcore.domain.tape import session_of
from tradingcore.ports.clock import ManualClock
from tradingcore.simulation.market import synthetic_session

START_MS = 1_764_590_400_000  # 2025-12-01 12:00 UTC, in SESSION


def _tops(app: object, symbol: object = WIN) -> list[BookTop]:
    from tradingcore.application.trading import TradingApplication

    assert isinstance(app, TradingApplication)
    tape_id = book_tape_id(WIN, SESSION)
    return [
        top
        for event in app.events.get(tape_id)
        if isinstance(event, BookTopsRecorded)
        for top in event.books()
    ]


tops = st.builds(
    lambda step, bid, bq, spread, aq: (step, Decimal(bid) * 5, bq, spread * 5, aq),
    st.integers(0, 50),
    st.integers(20_000, 30_000),
    st.integers(0, 500),
    st.integers(1, 4),
    st.integers(0, 500),
)


@settings(max_examples=30, deadline=None)
@given(rows=st.lists(tops, min_size=1, max_size=120), batch=st.integers(1, 50))
def test_recorded_tops_read_back_as_the_changes_of_the_feed(
    tmp_path_factory: object, rows: list[tuple[int, Decimal, int, int, int]], batch: int
) -> None:
    import pytest

    assert isinstance(tmp_path_factory, pytest.TempPathFactory)
    path = tmp_path_factory.mktemp("books") / "events.sqlite"
    app = open_store(f"sqlite:///{path}", ManualClock())
    recorder = TapeRecorder(app, batch_size=batch)
    expected: list[BookTop] = []
    stamp = START_MS
    for step, bid, bid_quantity, spread, ask_quantity in rows:
        stamp += step
        top = BookTop(WIN, stamp, bid, bid_quantity, bid + spread, ask_quantity)
        assert recorder.add_book(top) is None
        same = expected and (expected[-1].bid_price, expected[-1].bid_quantity) == (
            top.bid_price,
            top.bid_quantity,
        )
        if not (same and (expected[-1].ask_price, expected[-1].ask_quantity) == (
            top.ask_price, top.ask_quantity
        )):  # fmt: skip
            expected.append(top)
    assert recorder.close()
    assert _tops(app) == expected
    assert recorder.status().recorded_books == len(expected)
    app.close()
    reread = open_store(f"sqlite:///{path}", ManualClock())  # from the file, decoded
    assert _tops(reread) == expected
    reread.close()


def test_a_bad_top_is_refused_with_its_reason_and_the_rest_recorded(tmp_path: Path) -> None:
    app = open_store(f"sqlite:///{tmp_path / 'events.sqlite'}", ManualClock())
    recorder = TapeRecorder(app, batch_size=10)
    good = BookTop(WIN, START_MS, Decimal(127_850), 10, Decimal(127_855), 12)
    assert recorder.add_book(good) is None
    negative = BookTop(WIN, START_MS + 1, Decimal(127_850), -1, Decimal(127_855), 12)
    refused = recorder.add_book(negative)
    assert refused is not None and "bid quantity -1" in refused.message
    earlier = BookTop(WIN, START_MS - 5, Decimal(127_845), 3, Decimal(127_855), 12)
    refused = recorder.add_book(earlier)
    assert refused is not None and "goes back" in refused.message
    fine = BookTop(WIN, START_MS + 2, Decimal("127850.00001"), 3, Decimal(127_855), 12)
    refused = recorder.add_book(fine)
    assert refused is not None and refused.code == "invalid_price"
    later = BookTop(WIN, START_MS + 3, Decimal(127_845), 3, Decimal(127_855), 12)
    assert recorder.add_book(later) is None
    assert recorder.close()
    assert _tops(app) == [good, later]
    app.close()


def test_a_session_captured_twice_keeps_its_tops_once(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'events.sqlite'}"
    for _ in range(2):
        result = capture(
            tmp_path, "--source", "synthetic", "--symbols", "WINZ25", "--trades", "3000",
            "--seed", "5", "--fast", "--store", store, "--ws-url", "ws://127.0.0.1:9",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    app = open_store(store, ManualClock())
    recorded = _tops(app)
    app.close()
    events = synthetic_session(WIN, seed=5, trades=3_000)
    feed = [event.book for index, event in enumerate(events) if index % 10 == 0]  # book_every
    changes = [
        top for index, top in enumerate(feed) if index == 0 or _key(top) != _key(feed[index - 1])
    ]
    assert recorded == changes and len(changes) > 100
    assert session_of(recorded[0].timestamp_ms) == SESSION
    _, _, replayed = split(store_events(store), symbols=None, start_ms=None, end_ms=None)
    assert replayed == changes  # what a backtest of the store replays
    assert synthetic_source(["WINZ25"], seed=5, trades=3_000)[1] == changes  # and --synthetic


def _key(top: BookTop) -> tuple[Decimal, int, Decimal, int]:
    return (top.bid_price, top.bid_quantity, top.ask_price, top.ask_quantity)
