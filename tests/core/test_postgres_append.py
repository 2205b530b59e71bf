"""The one-trip PostgreSQL append still takes the table lock that keeps notification ids in
commit order (eventsourcing's own one-trip function does not)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from adapters.eventstore import drop_schema, open_store
from adapters.eventstore.postgres import OneTripApplicationRecorder
from tests.conftest import POSTGRES_DSN, require_postgres
from tests.core.factories import new_order
from tradingcore.application.trading import TradingApplication
from tradingcore.ports.clock import ManualClock

pytestmark = pytest.mark.postgres


@pytest.fixture
def store() -> Iterator[tuple[TradingApplication, str]]:
    require_postgres()
    schema = f"o_{uuid.uuid4().hex[:12]}"
    url = f"{POSTGRES_DSN}?schema={schema}"
    app = open_store(url, ManualClock())
    try:
        yield app, schema
    finally:
        app.close()
        drop_schema(url)


def test_an_append_waits_for_a_transaction_holding_the_table_lock(
    store: tuple[TradingApplication, str],
) -> None:
    app, schema = store
    recorder = app.recorder
    assert isinstance(recorder, OneTripApplicationRecorder)
    done = threading.Event()
    notification_ids: list[int | None] = []

    def append() -> None:
        order = new_order()
        notification_ids.append(app.append(list(order.collect_events())))
        done.set()

    with psycopg.connect(POSTGRES_DSN) as holder:
        holder.execute(
            sql.SQL("LOCK TABLE {}.{} IN EXCLUSIVE MODE").format(
                sql.Identifier(schema), sql.Identifier(recorder.events_table_name)
            )
        )
        writer = threading.Thread(target=append)
        writer.start()
        assert not done.wait(0.5)  # blocked behind the lock
        holder.commit()
    writer.join(10)
    assert done.is_set()
    assert notification_ids == [recorder.max_notification_id()]


def test_the_store_opens_when_many_processes_create_the_schema_at_once() -> None:
    """`CREATE OR REPLACE FUNCTION` from concurrent openers is serialized (advisory lock)."""
    require_postgres()
    url = f"{POSTGRES_DSN}?schema=o_{uuid.uuid4().hex[:12]}"
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def opener() -> None:
        try:
            start.wait()
            open_store(url, ManualClock()).close()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=opener) for _ in range(6)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert errors == []
        app = open_store(url, ManualClock())
        try:
            assert app.append(list(new_order().collect_events())) == 1
        finally:
            app.close()
    finally:
        drop_schema(url)
