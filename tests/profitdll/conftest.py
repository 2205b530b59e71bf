"""Fixtures: the fake ProfitDLL compiled once per xdist worker, and recording listeners."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from adapters.profitdll.binding import Credentials, ProfitDLL
from adapters.profitdll.errors import NotInitialized
from adapters.profitdll.fakebuild import FakeProfitDLL, build_fake_dll
from adapters.profitdll.feed import ProfitDLLFeed
from tradingcore.domain.book import BookTop
from tradingcore.domain.tape import Trade
from tradingcore.ports.market_data import ConnectionState

CREDENTIALS = Credentials("activation-key", "user", "password")


@pytest.fixture(scope="session")
def fake_library_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # tmp_path_factory is per xdist worker, so workers never share a half-built file.
    return build_fake_dll(tmp_path_factory.mktemp("fake-profitdll"))


@pytest.fixture
def fake(fake_library_path: Path) -> Iterator[FakeProfitDLL]:
    """The fake's test exports; the DLL is finalized and its behaviour reset afterwards."""
    control = FakeProfitDLL(fake_library_path)
    control.set_behaviour(0)
    yield control
    control.set_behaviour(0)
    with contextlib.suppress(NotInitialized):
        ProfitDLL(fake_library_path).finalize()


class RecordingListener:
    """A FeedListener that records everything and lets tests wait for it."""

    def __init__(self) -> None:
        self.trades: list[Trade] = []
        self.books: list[BookTop] = []
        self.states: list[ConnectionState] = []
        self.invalid: list[tuple[str, object]] = []
        self.threads: set[str] = set()
        self._changed = threading.Condition()

    def _record(self, target: list[Any], item: Any) -> None:
        with self._changed:
            self.threads.add(threading.current_thread().name)
            target.append(item)
            self._changed.notify_all()

    def on_trade(self, trade: Trade) -> None:
        self._record(self.trades, trade)

    def on_book(self, book: BookTop) -> None:
        self._record(self.books, book)

    def on_state(self, state: ConnectionState) -> None:
        self._record(self.states, state)

    def on_invalid(self, reason: str, record: object) -> None:
        self._record(self.invalid, (reason, record))

    def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True


class RecordingBrokerListener:
    """A BrokerListener that records calls in order."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []
        self._changed = threading.Condition()

    def _record(self, *event: Any) -> None:
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def on_order_accepted(self, order_id: uuid.UUID, venue_order_id: str) -> None:
        self._record("accepted", order_id, venue_order_id)

    def on_order_rejected(self, order_id: uuid.UUID, reason_code: str, reason: str) -> None:
        self._record("rejected", order_id, reason_code, reason)

    def on_order_filled(
        self, order_id: uuid.UUID, trade_id: int, price: Decimal, quantity: int
    ) -> None:
        self._record("filled", order_id, trade_id, price, quantity)

    def on_order_canceled(self, order_id: uuid.UUID, reason: str) -> None:
        self._record("canceled", order_id, reason)

    def kinds(self) -> list[str]:
        with self._changed:
            return [event[0] for event in self.events]

    def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True


@pytest.fixture
def listener() -> RecordingListener:
    return RecordingListener()


@pytest.fixture
def feed(fake: FakeProfitDLL, fake_library_path: Path) -> Iterator[ProfitDLLFeed]:
    created = ProfitDLLFeed(fake_library_path, CREDENTIALS)
    yield created
    created.stop()
