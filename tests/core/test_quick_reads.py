"""An aggregate's events read on the SQLite store's own autocommit connections (`QuickReads`)
are exactly what eventsourcing's pooled, transaction-wrapped read gives, on a real file."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.clock import FeedClock
from adapters.eventstore import open_store
from adapters.eventstore.sqlite import QuickReadRecorder
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.commands import SubmitOrder
from tradingcore.domain.order import Order
from tradingcore.domain.signal import Direction, Signal
from tradingcore.domain.values import Price, Quantity, Side, Symbol

WIN = Symbol("WINZ25")


def record(app: TradingApplication, count: int) -> list[uuid.UUID]:
    ids = []
    for number in range(count):
        signal = app.record_signal(
            symbol=WIN,
            direction=Direction.BUY,
            confidence=0.7,
            features={"momentum": float(number)},
            model_version="m-1",
            tick_trade_id=number + 1,
            tick_timestamp_ms=1_764_601_200_000 + number,
            price=127_850.0,
        )
        ids.append(signal.id)
    return ids


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[TradingApplication, list[uuid.UUID]]:
    folder: Path = tmp_path_factory.mktemp("quick")
    app = open_store(f"sqlite:///{folder / 'events.sqlite'}", FeedClock())
    ids = record(app, 4)
    # an order of four versions: submitted, accepted, filled twice
    order = app.submit_order(
        SubmitOrder("c-1", "acct", WIN, Side.BUY, Quantity(3), Price.of(Decimal("127850")))
    )
    app.accept_order(order.id, "v-1")
    app.fill_order(order.id, 10, Decimal("127850"), 1)
    app.fill_order(order.id, 20, Decimal("127845"), 2)
    return app, [*ids, order.id]


def test_a_file_store_reads_an_aggregate_with_quick_reads(
    store: tuple[TradingApplication, list[uuid.UUID]],
) -> None:
    app, ids = store
    recorder = app.recorder
    assert isinstance(recorder, QuickReadRecorder) and recorder.quick is not None
    assert app.load(Signal, ids[0]).id == ids[0]
    assert app.load_fresh(Order, ids[-1]).filled_quantity == 3


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    which=st.integers(0, 5),
    gt=st.none() | st.integers(-1, 5),
    lte=st.none() | st.integers(-1, 5),
    desc=st.booleans(),
    limit=st.none() | st.integers(1, 3),
)
def test_quick_reads_give_what_the_pooled_read_gives(
    store: tuple[TradingApplication, list[uuid.UUID]],
    which: int,
    gt: int | None,
    lte: int | None,
    desc: bool,
    limit: int | None,
) -> None:
    app, ids = store
    recorder = app.recorder
    assert isinstance(recorder, QuickReadRecorder)
    originator = ids[which] if which < len(ids) else uuid.uuid4()  # one that does not exist
    quick = recorder.select_events(originator, gt=gt, lte=lte, desc=desc, limit=limit)
    pooled = super(QuickReadRecorder, recorder).select_events(
        originator, gt=gt, lte=lte, desc=desc, limit=limit
    )
    assert quick == pooled


def test_quick_reads_serve_many_threads_and_close_with_the_store(tmp_path: Path) -> None:
    app = open_store(f"sqlite:///{tmp_path / 'events.sqlite'}", FeedClock())
    ids = record(app, 20)
    recorder = app.recorder
    assert isinstance(recorder, QuickReadRecorder) and recorder.quick is not None
    found: list[int] = []
    lock = threading.Lock()

    def read() -> None:
        for signal_id in ids:
            events = recorder.select_events(signal_id)
            with lock:
                found.append(len(events))

    threads = [threading.Thread(target=read) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    quick = recorder.quick
    app.close()

    assert found == [1] * 120
    assert quick.closed and not quick._idle  # every connection it kept is closed
