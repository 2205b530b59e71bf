"""ProfitDLLFeed against the fake DLL: callbacks on the DLL's thread reach the listener."""

from __future__ import annotations

import gc
import threading
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.profitdll.errors import LibraryNotFound, LoginFailed, NoLicense, NotFound
from adapters.profitdll.fakebuild import (
    BAD_CREDENTIALS,
    COUNTER_BLOBS_OUTSTANDING,
    INIT_FAILS,
    FakeProfitDLL,
    trade_record,
)
from adapters.profitdll.feed import ProfitDLLFeed
from adapters.profitdll.records import TradeRecordCopy
from tests.profitdll.conftest import CREDENTIALS, RecordingListener
from tradingcore.domain.tape import Trade
from tradingcore.domain.values import Aggressor, Symbol

WIN = Symbol("WINZ25")
TEN_AM = datetime(2025, 12, 1, 10, 0, 0)
TEN_AM_UTC_MS = 1_764_594_000_000


def started(feed: ProfitDLLFeed, listener: RecordingListener) -> ProfitDLLFeed:
    feed.start(listener)
    feed.subscribe(WIN)
    feed.wait_until_connected(5)
    assert feed.drain()
    return feed


def test_start_with_fake_reports_login_and_market_data_connected(
    feed: ProfitDLLFeed, listener: RecordingListener
) -> None:
    started(feed, listener)

    assert feed.healthy and feed.state.login and feed.state.market_data
    assert not feed.state.routing
    assert listener.states[-1].detail == "market data: MARKET_CONNECTED"


def test_trade_callback_from_dll_thread_reaches_listener_translated(
    feed: ProfitDLLFeed, listener: RecordingListener, fake: FakeProfitDLL
) -> None:
    started(feed, listener)

    fake.inject_trade("WINZ25", "F", trade_record(42, 127850.0, 3, TEN_AM, trade_type=3))

    assert listener.wait_for(lambda: len(listener.trades) == 1)
    trade = listener.trades[0]
    assert trade.symbol == WIN and trade.trade_id == 42 and trade.volume == 3
    assert trade.price == Decimal(127850) and trade.aggressor is Aggressor.SELL
    assert trade.timestamp_ms == TEN_AM_UTC_MS
    assert listener.threads == {"profitdll-dispatcher"}
    assert threading.current_thread().name not in listener.threads


def test_malformed_trades_go_to_on_invalid_and_the_feed_keeps_running(
    feed: ProfitDLLFeed, listener: RecordingListener, fake: FakeProfitDLL
) -> None:
    started(feed, listener)
    bad_date = trade_record(2, 127850.0, 1, TEN_AM)
    bad_date.TradeDate.wMonth = 13

    fake.inject_trade("WINZ25", "F", trade_record(1, float("nan"), 1, TEN_AM))
    fake.inject_trade("WINZ25", "F", bad_date)
    fake.inject_trade("WINZ25", "F", trade_record(3, 127850.0, 0, TEN_AM))
    fake.inject_trade("WINZ25", "F", trade_record(4, -5.0, 1, TEN_AM))
    fake.inject_trade("WINZ25", "F", trade_record(5, 127855.0, 1, TEN_AM))

    assert listener.wait_for(lambda: len(listener.trades) == 1)
    reasons = [reason for reason, _ in listener.invalid]
    assert reasons[0].startswith("bad price nan")
    assert reasons[1].startswith("bad timestamp")
    assert reasons[2].startswith("bad volume 0")
    assert reasons[3].startswith("bad price -5.0")
    assert all(isinstance(record, TradeRecordCopy) for _, record in listener.invalid)
    assert listener.trades[0].trade_id == 5 and feed.invalid_records == 4


def test_subscribe_with_unknown_ticker_reports_it_invalid(
    feed: ProfitDLLFeed, listener: RecordingListener
) -> None:
    started(feed, listener)

    feed.subscribe(Symbol("ZZZZ3"))

    # Once for the ticker, once for its offer book.
    assert listener.wait_for(lambda: len(listener.invalid) == 2)
    assert all("invalid ticker 'ZZZZ3'" in reason for reason, _ in listener.invalid)


def test_stream_of_many_trades_arrives_complete_and_in_order(
    feed: ProfitDLLFeed, listener: RecordingListener, fake: FakeProfitDLL
) -> None:
    started(feed, listener)

    fake.start_stream("WINZ25", "F", 20_000, rate=0)

    assert fake.wait_idle(30) and feed.drain(30)
    assert [trade.trade_id for trade in listener.trades] == list(range(1, 20_001))
    timestamps = [trade.timestamp_ms for trade in listener.trades]
    assert timestamps == sorted(timestamps)
    assert all(trade.price % 5 == 0 for trade in listener.trades)
    assert {trade.aggressor for trade in listener.trades} == {Aggressor.BUY, Aggressor.SELL}
    assert listener.invalid == []


def test_full_book_and_updates_reach_listener_as_book_tops(
    feed: ProfitDLLFeed, listener: RecordingListener, fake: FakeProfitDLL
) -> None:
    started(feed, listener)

    fake.inject_full_book(
        "WINZ25", "F", sell=[(127870.0, 3), (127860.0, 5)], buy=[(127840.0, 4), (127850.0, 1)]
    )
    fake.inject_offer(
        "WINZ25", "F", action=0, position=0, side=0, quantity=6, price=127855.0,
        date="01/12/2025 10:00:01.250",
    )  # fmt: skip

    assert listener.wait_for(lambda: len(listener.books) == 2)
    first, second = listener.books
    assert (first.bid_price, first.bid_quantity) == (Decimal(127850), 1)
    assert (first.ask_price, first.ask_quantity) == (Decimal(127860), 5)
    assert (second.bid_price, second.bid_quantity, second.delta) == (Decimal(127855), 6, -1)
    assert second.timestamp_ms == TEN_AM_UTC_MS + 1250
    assert fake.counter(COUNTER_BLOBS_OUTSTANDING) == 0  # both arrays were freed


def test_start_with_bad_credentials_fails_clearly_and_is_unhealthy(
    feed: ProfitDLLFeed, listener: RecordingListener, fake: FakeProfitDLL
) -> None:
    fake.set_behaviour(BAD_CREDENTIALS)
    feed.start(listener)

    with pytest.raises(LoginFailed, match="LOGIN_INVALID_PASS"):
        feed.wait_until_connected(5)
    assert not feed.healthy
    assert feed.failure is not None and "invalid password" in feed.failure


def test_start_with_bad_credentials_from_environment_fails_clearly(
    feed: ProfitDLLFeed,
    listener: RecordingListener,
    fake: FakeProfitDLL,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAKE_PROFITDLL_BAD_CREDENTIALS", "1")
    feed.start(listener)

    with pytest.raises(LoginFailed, match="login"):
        feed.wait_until_connected(5)


def test_start_with_dll_init_error_raises_named_error_and_records_it(
    feed: ProfitDLLFeed, listener: RecordingListener, fake: FakeProfitDLL
) -> None:
    fake.set_behaviour(INIT_FAILS)

    with pytest.raises(NoLicense, match="DLLInitializeMarketLogin failed: NL_NO_LICENSE"):
        feed.start(listener)
    assert not feed.healthy and feed.failure is not None and "NL_NO_LICENSE" in feed.failure
    assert "NL_NO_LICENSE" in listener.states[-1].detail


def test_start_with_missing_library_raises_naming_the_path(
    tmp_path: Path, listener: RecordingListener
) -> None:
    feed = ProfitDLLFeed(tmp_path / "ProfitDLL64.dll", CREDENTIALS)

    with pytest.raises(LibraryNotFound, match=r"ProfitDLL64\.dll"):
        feed.start(listener)
    assert feed.failure is not None and "not found" in feed.failure
    feed.stop()


def test_connection_loss_is_reported_and_recovery_resumes_trades(
    feed: ProfitDLLFeed, listener: RecordingListener, fake: FakeProfitDLL
) -> None:
    started(feed, listener)

    fake.drop_connection()
    assert listener.wait_for(lambda: not listener.states[-1].market_data)
    assert not feed.healthy
    fake.restore_connection()
    assert listener.wait_for(lambda: listener.states[-1].market_data)
    fake.inject_trade("WINZ25", "F", trade_record(7, 127850.0, 1, TEN_AM))

    assert listener.wait_for(lambda: len(listener.trades) == 1)
    assert feed.healthy


def test_restart_after_loss_keeps_queued_trades_and_resubscribes(
    feed: ProfitDLLFeed, listener: RecordingListener, fake: FakeProfitDLL
) -> None:
    started(feed, listener)
    fake.start_stream("WINZ25", "F", 2_000, rate=0)
    assert fake.wait_idle(10)
    fake.drop_connection()

    feed.restart()  # finalize + initialize: the DLL forgets subscriptions, the feed does not
    feed.wait_until_connected(5)
    assert feed.drain()
    fake.inject_trade("WINZ25", "F", trade_record(5_000, 127850.0, 1, TEN_AM))

    assert listener.wait_for(lambda: len(listener.trades) == 2_001)
    assert [trade.trade_id for trade in listener.trades[:2_000]] == list(range(1, 2_001))
    assert listener.trades[-1].trade_id == 5_000
    assert feed.session.restarts == 1 and feed.healthy


def test_stop_delivers_everything_already_queued(
    feed: ProfitDLLFeed, listener: RecordingListener, fake: FakeProfitDLL
) -> None:
    started(feed, listener)
    fake.start_stream("WINZ25", "F", 3_000, rate=0)
    assert fake.wait_idle(10)

    feed.stop()

    assert len(listener.trades) == 3_000
    assert not feed.session.initialized


def test_callbacks_survive_garbage_collection(
    feed: ProfitDLLFeed, listener: RecordingListener, fake: FakeProfitDLL
) -> None:
    started(feed, listener)

    gc.collect()
    fake.inject_trade("WINZ25", "F", trade_record(1, 127850.0, 1, TEN_AM))

    assert listener.wait_for(lambda: len(listener.trades) == 1)


def test_unsubscribe_stops_the_dll_sending_that_ticker(
    feed: ProfitDLLFeed, listener: RecordingListener, fake: FakeProfitDLL
) -> None:
    started(feed, listener)

    feed.unsubscribe(WIN)

    with pytest.raises(NotFound):  # the fake only sends subscribed tickers
        fake.inject_trade("WINZ25", "F", trade_record(1, 127850.0, 1, TEN_AM))


def test_impossible_book_update_goes_to_on_invalid_and_books_continue(
    feed: ProfitDLLFeed, listener: RecordingListener, fake: FakeProfitDLL
) -> None:
    started(feed, listener)

    fake.inject_offer("WINZ25", "F", action=2, position=5, side=0)  # delete from an empty side
    fake.inject_full_book("WINZ25", "F", sell=[(127860.0, 5)], buy=[(127850.0, 1)])

    assert listener.wait_for(lambda: len(listener.books) == 1)
    assert "position 5 outside" in listener.invalid[0][0]


def test_listener_error_is_logged_and_later_trades_still_arrive(
    feed: ProfitDLLFeed, listener: RecordingListener, fake: FakeProfitDLL
) -> None:
    started(feed, listener)
    original = listener.on_trade

    def fail_once(trade: Trade) -> None:
        listener.on_trade = original  # type: ignore[method-assign]
        raise RuntimeError("listener bug")

    listener.on_trade = fail_once  # type: ignore[method-assign]
    fake.inject_trade("WINZ25", "F", trade_record(1, 127850.0, 1, TEN_AM))
    fake.inject_trade("WINZ25", "F", trade_record(2, 127850.0, 1, TEN_AM))

    assert listener.wait_for(lambda: len(listener.trades) == 1)
    assert listener.trades[0].trade_id == 2 and listener.invalid == []
