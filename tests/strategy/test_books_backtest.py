"""Recorded book tops in a backtest: strategies' on_book and the queue fill model see them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.eventstore import open_store
from hosts.cli import main
from hosts.strategy.sources import split, store_events
from tests.strategy.helpers import OPEN_MS, WIN, walk_tape
from tradingcore.application.backtest import Backtest, BacktestConfig
from tradingcore.domain.book import BookTop
from tradingcore.domain.book_tape import BookColumns, BookTopsRecorded
from tradingcore.domain.fees import B3FeeModel
from tradingcore.domain.order import OrderFilled
from tradingcore.domain.tape import session_of
from tradingcore.domain.values import Side
from tradingcore.ports.clock import ManualClock
from tradingcore.simulation.venue import VenueConfig
from tradingcore.strategy.api import NOTHING, BaseStrategy, Commands, SendOrder, StrategyView


class Watcher(BaseStrategy):
    """Remembers the tops it is shown (with the view's time) and the trades around them."""

    strategy_id = "watcher"

    def __init__(self) -> None:
        self.seen: list[tuple[str, int, int]] = []  # (what, its time, the view's time)

    def on_book(self, book: BookTop, view: StrategyView) -> Commands:
        self.seen.append(("book", book.timestamp_ms, int(view.now.timestamp() * 1000)))
        return NOTHING

    def on_trade(self, trade: object, view: StrategyView) -> Commands:
        stamp = getattr(trade, "timestamp_ms")  # noqa: B009
        self.seen.append(("trade", stamp, int(view.now.timestamp() * 1000)))
        return NOTHING


class Joiner(BaseStrategy):
    """Joins the bid (a limit buy at the best bid) on the first top after a trade: before
    any trade, risk has no market data and denies (fail closed)."""

    strategy_id = "joiner"

    def __init__(self) -> None:
        self.traded = False
        self.sent = False

    def on_trade(self, trade: object, view: StrategyView) -> Commands:
        self.traded = True
        return NOTHING

    def on_book(self, book: BookTop, view: StrategyView) -> Commands:
        if self.sent or not self.traded:
            return NOTHING
        self.sent = True
        return (SendOrder(book.symbol, Side.BUY, 1, book.bid_price, tag="join"),)


def _top(at_ms: int, bid_quantity: int) -> BookTop:
    return BookTop(WIN, at_ms, Decimal(126_995), bid_quantity, Decimal(127_000), 5)


def _fills(queue: bool, books: list[BookTop]) -> list[int]:
    """Trades at 126,995 of 3 contracts each, after a bid of 7 was shown: the fill's trade."""
    tape = walk_tape([0, -1, 0, 0, 0], [1, 3, 3, 3, 3], [0, 10, 10, 10, 10])
    clock = ManualClock(datetime(2025, 1, 1, tzinfo=UTC))
    app = open_store("memory://", clock)
    config = BacktestConfig(venue=VenueConfig(limit_fill="queue" if queue else "touch"))
    Backtest(app, clock, [Joiner()], config=config, fee_model=B3FeeModel()).run(
        {WIN: tape}, (), books
    )
    return [
        event.trade_id
        for item in app.recorder.select_notifications(start=1, limit=1_000)
        if item.topic.endswith(":OrderFilled")
        for event in [app.mapper.to_domain_event(item)]
        if isinstance(event, OrderFilled)
    ]


def test_the_queue_model_waits_for_the_quantity_shown_ahead_at_the_bid() -> None:
    books = [_top(OPEN_MS + 5, 7)]  # 7 contracts bid ahead of us, shown after the 1st trade
    assert _fills(False, books) == [20]  # at touch: the first print at our price fills us
    assert _fills(True, books) == [40]  # queue: 3 + 3 trade the 7 ahead down to 1; then us
    assert _fills(True, [_top(OPEN_MS + 5, 0)]) == [20]  # nobody ahead: at once


def test_a_backtest_of_a_store_shows_its_tops_in_time_order_before_the_trades(
    tmp_path: Path,
) -> None:
    source = f"sqlite:///{tmp_path / 'source.sqlite'}"
    tape = walk_tape([0, 1, 0, -1, 0, 1], [1] * 6, [0, 100, 100, 0, 100, 100])
    app = open_store(source, ManualClock())
    session = session_of(OPEN_MS)
    app.record_trades(WIN, session, tape.columns(0, 6))
    stamps = [int(stamp) for stamp in tape.timestamps_ms]
    tops = BookColumns()
    for at_ms, quantity in ((stamps[0] - 50, 3), (stamps[1], 4), (stamps[3] + 20, 5)):
        tops.append(_top(at_ms, quantity))
    app.record_books(WIN, session, tops)
    app.close()
    _, _, books = split(store_events(source), symbols=None, start_ms=None, end_ms=None)
    assert [book.bid_quantity for book in books] == [3, 4, 5]
    watcher = Watcher()
    clock = ManualClock(datetime(2025, 1, 1, tzinfo=UTC))
    run = open_store("memory://", clock)
    tapes, _, books = split(store_events(source), symbols=None, start_ms=None, end_ms=None)
    Backtest(run, clock, [watcher], fee_model=B3FeeModel()).run(tapes, (), books)
    times = [(what, at) for what, at, _ in watcher.seen]
    assert times == [
        ("book", stamps[0] - 50),
        ("trade", stamps[0]),
        ("book", stamps[1]),  # same millisecond as a trade: the top goes first
        ("trade", stamps[1]),
        ("trade", stamps[2]),
        ("trade", stamps[3]),
        ("book", stamps[3] + 20),
        ("trade", stamps[4]),
        ("trade", stamps[5]),
    ]
    assert all(at == now for _, at, now in watcher.seen)  # the clock at each one's time
    stored = [
        book
        for item in run.recorder.select_notifications(start=1, limit=1_000)
        if item.topic.endswith(":BookTopsRecorded")
        for event in [run.mapper.to_domain_event(item)]
        if isinstance(event, BookTopsRecorded)
        for book in event.books()
    ]
    assert stored == books  # the run's own store keeps them too


@pytest.mark.parametrize("source", ["store", "synthetic"])
def test_the_backtest_command_replays_the_sources_tops(tmp_path: Path, source: str) -> None:
    """A store the capture host wrote (synthetic feed, book tops recorded), or `--synthetic`
    itself: a limit order joining the bid fills later with the queue model than at touch, so
    the tops reached the venue (and the strategy: it sends its order from on_book)."""
    store = f"sqlite:///{tmp_path / 'events.sqlite'}"
    if source == "store":
        assert main(
            ["capture", "--source", "synthetic", "--symbols", "WINZ25", "--trades", "5000",
             "--fast", "--store", store, "--ws-url", "ws://127.0.0.1:9", "--metrics-port",
             "-1", "--log-dir", str(tmp_path / "logs"), "--drain-timeout", "0"]
        ) == 0  # fmt: skip
    given = ["--store", store] if source == "store" else ["--synthetic", "5000", "--seed", "7"]
    filled_at = {}
    for model in ("touch", "queue"):
        output = tmp_path / model
        assert main(
            ["backtest", *given,
             "--strategy", "tests.strategy.test_books_backtest:Joiner",
             "--limit-fill", model, "--output", str(output), "--quiet", "--no-png"]
        ) == 0  # fmt: skip
        run = open_store(f"sqlite:///{output / 'events.sqlite'}", ManualClock())
        filled_at[model] = [
            event.trade_id
            for item in run.recorder.select_notifications(start=1, limit=100_000)
            if item.topic.endswith(":OrderFilled")
            for event in [run.mapper.to_domain_event(item)]
            if isinstance(event, OrderFilled)
        ]
        run.close()
    assert filled_at["touch"], "the joined bid never traded at touch"
    assert not filled_at["queue"] or filled_at["queue"][0] > filled_at["touch"][0]
