"""eventsourcing's own persistence conformance suites, on our SQLite and PostgreSQL configs."""

from __future__ import annotations

import tempfile
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


class SQLiteFileBackend:
    """Mixin: recorders on a real SQLite file, configured exactly as `open_store` does."""

    def setUp(self) -> None:
        self.directory = tempfile.TemporaryDirectory()
        self.url = f"sqlite:///{Path(self.directory.name) / 'events.sqlite'}"
        self.apps: list[Any] = []  # an application closes its recorder when collected
        super().setUp()  # type: ignore[misc]

    def tearDown(self) -> None:
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
        super().setUp()  # type: ignore[misc]

    def tearDown(self) -> None:
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
