"""eventsourcing's own persistence conformance suites, on our SQLite and PostgreSQL configs."""

from __future__ import annotations

import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.tests.persistence import (
    ApplicationRecorderTestCase,
    NonInterleavingNotificationIDsBaseCase,
)

from adapters.eventstore import drop_schema, open_store
from tests.conftest import POSTGRES_DSN, require_postgres
from tradingcore.ports.clock import ManualClock


def join_test_threads(before: set[threading.Thread], timeout: float = 30.0) -> None:
    """Wait for the threads a suite's test started and left running: eventsourcing's
    concurrency tests tell their reader threads to stop but do not join them, and closing a
    recorder under a reader still inside `sqlite3` can crash the interpreter."""
    for thread in set(threading.enumerate()) - before:
        if not thread.daemon:
            thread.join(timeout)


class SQLiteFileBackend:
    """Mixin: recorders on a real SQLite file, configured exactly as `open_store` does."""

    def setUp(self) -> None:
        self.directory = tempfile.TemporaryDirectory()
        self.url = f"sqlite:///{Path(self.directory.name) / 'events.sqlite'}"
        self.apps: list[Any] = []  # an application closes its recorder when collected
        self.threads = set(threading.enumerate())
        super().setUp()  # type: ignore[misc]

    def tearDown(self) -> None:
        join_test_threads(self.threads)
        super().tearDown()  # type: ignore[misc]
        for app in self.apps:
            app.close()
        self.directory.cleanup()

    def create_recorder(self) -> ApplicationRecorder:
        app = open_store(self.url, ManualClock())
        self.apps.append(app)
        return app.recorder


class PostgresBackend:
    """Mixin: recorders in a fresh PostgreSQL schema, configured exactly as `open_store` does."""

    def setUp(self) -> None:
        require_postgres()
        self.url = f"{POSTGRES_DSN}?schema=c_{uuid.uuid4().hex[:12]}"
        self.apps: list[Any] = []
        self.threads = set(threading.enumerate())
        super().setUp()  # type: ignore[misc]

    def tearDown(self) -> None:
        join_test_threads(self.threads)
        super().tearDown()  # type: ignore[misc]
        for app in self.apps:
            app.close()
        drop_schema(self.url)

    def create_recorder(self) -> ApplicationRecorder:
        app = open_store(self.url, ManualClock())
        self.apps.append(app)
        return app.recorder


class TestSQLiteApplicationRecorder(SQLiteFileBackend, ApplicationRecorderTestCase):
    # A throughput printout, not a check: measured in benchmarks/ instead.
    test_concurrent_throughput = None  # type: ignore[assignment]


class TestSQLiteNonInterleaving(SQLiteFileBackend, NonInterleavingNotificationIDsBaseCase):
    insert_num = 200


@pytest.mark.postgres
class TestPostgresApplicationRecorder(PostgresBackend, ApplicationRecorderTestCase):
    # A throughput printout, not a check: measured in benchmarks/ instead.
    test_concurrent_throughput = None  # type: ignore[assignment]


@pytest.mark.postgres
class TestPostgresNonInterleaving(PostgresBackend, NonInterleavingNotificationIDsBaseCase):
    insert_num = 200
