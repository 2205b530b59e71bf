"""The synthetic and recording sources behind the market-data port."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.eventstore import open_store
from adapters.feeds import AsFastAsPossible, FixedRate, RecordedPace, RecordingFeed, SyntheticFeed
from adapters.recordings import RecordingError, export_recording
from hosts.capture.recorder import TapeRecorder
from tests.capture.factories import OPEN_MS, SESSION, WDO, WIN, stored_trades
from tradingcore.domain.book import BookTop
from tradingcore.domain.tape import Trade, TradesRecorded
from tradingcore.domain.values import Aggressor
from tradingcore.ports.clock import ManualClock
from tradingcore.ports.market_data import ConnectionState


class Collector:
    """A FeedListener that keeps everything it is given."""

    def __init__(self) -> None:
        self.trades: list[Trade] = []
        self.books: list[BookTop] = []
        self.states: list[ConnectionState] = []
        self.invalid: list[tuple[str, object]] = []

    def on_trade(self, trade: Trade) -> None:
        self.trades.append(trade)

    def on_book(self, book: BookTop) -> None:
        self.books.append(book)

    def on_state(self, state: ConnectionState) -> None:
        self.states.append(state)

    def on_invalid(self, reason: str, record: object) -> None:
        self.invalid.append((reason, record))


def play(feed: SyntheticFeed | RecordingFeed) -> Collector:
    collector = Collector()
    feed.start(collector)
    assert feed.wait(20)
    return collector


def test_synthetic_with_the_same_seed_replays_the_same_market() -> None:
    first = play(SyntheticFeed([WIN, WDO], seed=3, trades=500))
    second = play(SyntheticFeed([WIN, WDO], seed=3, trades=500))
    other = play(SyntheticFeed([WIN, WDO], seed=4, trades=500))
    assert first.trades == second.trades
    assert first.books == second.books
    assert first.trades != other.trades


def test_synthetic_with_two_symbols_gives_grid_prices_both_aggressors_and_books() -> None:
    seen = play(SyntheticFeed([WIN, WDO], seed=7, trades=1_000, book_every=10))
    win = [row for row in seen.trades if row.symbol == WIN]
    wdo = [row for row in seen.trades if row.symbol == WDO]
    assert len(win) == len(wdo) == 1_000
    assert all(row.price % 5 == 0 for row in win)
    assert all(row.price % Decimal("0.5") == 0 for row in wdo)
    assert {row.aggressor for row in win} == set(Aggressor)
    assert len(seen.books) == 200
    times = [row.timestamp_ms for row in seen.trades]
    assert times == sorted(times)
    assert seen.states[0].healthy


def test_recording_with_captured_trades_replays_each_symbol_exactly(tmp_path: Path) -> None:
    source = open_store(f"sqlite:///{tmp_path / 'source.sqlite'}", ManualClock())
    recorder = TapeRecorder(source, batch_size=300)
    original = play(SyntheticFeed([WIN, WDO], seed=11, trades=1_000))
    for row in original.trades:
        assert recorder.add(row) is None
        if recorder.status().pending_trades >= 300:
            recorder.flush()
    recorder.flush()
    export_recording(source, tmp_path / "session.tcrec")

    replayed = play(RecordingFeed(tmp_path / "session.tcrec"))
    assert replayed.invalid == []
    for symbol in (WIN, WDO):
        assert [row for row in replayed.trades if row.symbol == symbol] == [
            row for row in original.trades if row.symbol == symbol
        ]
        assert stored_trades(source, symbol) == [
            row for row in replayed.trades if row.symbol == symbol
        ]
    only_wdo = RecordingFeed(tmp_path / "session.tcrec")
    only_wdo.subscribe(WDO)
    assert {row.symbol for row in play(only_wdo).trades} == {WDO}


def test_recording_with_a_corrupt_file_is_refused_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "broken.tcrec"
    path.write_bytes(b"TCREC1\nnot msgpack at all")
    with pytest.raises(RecordingError, match=r"broken\.tcrec"):
        RecordingFeed(path)
    with pytest.raises(RecordingError, match="cannot read"):
        RecordingFeed(tmp_path / "missing.tcrec")


def test_recording_with_a_malformed_row_reports_it_and_plays_the_rest(tmp_path: Path) -> None:
    app = open_store(f"sqlite:///{tmp_path / 'source.sqlite'}", ManualClock())
    tape = app.tape(WIN, SESSION)
    # A batch written by a foreign tool: its second row's aggressor is not B, S or N.
    bad = TradesRecorded(
        originator_id=tape.id,
        originator_version=tape.version + 1,
        timestamp=datetime(2025, 12, 1, 12, tzinfo=UTC),
        symbol=WIN,
        first_sequence=0,
        trade_ids=(1, 2, 3),
        timestamps_ms=(OPEN_MS, OPEN_MS + 1, OPEN_MS + 2),
        prices=(1_278_500_000, 1_278_500_000, 1_278_550_000),
        volumes=(1, 2, 3),
        aggressors="BXS",
        flags=(0, 0, 0),
    )
    app.append([bad])
    path = tmp_path / "session.tcrec"
    export_recording(app, path)
    seen = play(RecordingFeed(path))
    assert [row.trade_id for row in seen.trades] == [1, 3]
    assert len(seen.invalid) == 1
    reason, record = seen.invalid[0]
    assert reason.startswith("malformed trade") and "'X'" in reason
    assert isinstance(record, dict) and record["symbol"] == "WINZ25"


@pytest.mark.parametrize(
    ("pacer", "message"),
    [
        (lambda: RecordedPace(0), "speed 0"),
        (lambda: FixedRate(-1), "rate -1"),
    ],
)
def test_pacers_with_nonsense_settings_say_what_is_wrong(pacer: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pacer()  # type: ignore[operator]


def test_as_fast_as_possible_never_waits() -> None:
    AsFastAsPossible().wait(0, threading.Event())


def test_recorded_pace_with_speed_10_keeps_the_gaps_divided_by_10() -> None:
    pacer = RecordedPace(10)
    stopping = threading.Event()
    started = time.monotonic()
    for timestamp_ms in (1_000, 1_100, 1_300):  # 300 ms of market time
        pacer.wait(timestamp_ms, stopping)
    assert time.monotonic() - started >= 0.03 - 0.002  # at least 30 ms: never ahead of pace
