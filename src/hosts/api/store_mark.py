"""The store's last notification id, read cheaply: the order manager asks it before each decision.

eventsourcing's `max_notification_id()` takes a pooled connection and wraps the one SELECT in
BEGIN ... ROLLBACK: several times the cost of the query itself. For a SQLite file the host reads
it on a connection of its own in autocommit mode (each SELECT sees the latest commit, WAL keeps
it from waiting for writers); other stores keep the recorder's own method.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable

from eventsourcing.sqlite import SQLiteApplicationRecorder

from tradingcore.application.trading import TradingApplication


class SQLiteMark:
    """`SELECT MAX(rowid)` of the events table on a dedicated autocommit connection."""

    def __init__(self, database: str, statement: str) -> None:
        self._connection = sqlite3.connect(
            database, uri=True, check_same_thread=False, isolation_level=None, timeout=5
        )
        self._statement = statement
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            row = self._connection.execute(self._statement).fetchone()
        return int(row[0] or 0)

    def close(self) -> None:
        with self._lock:
            self._connection.close()


def store_mark(app: TradingApplication) -> Callable[[], int]:
    """Return a function giving the store's last notification id (0: empty)."""
    recorder = app.recorder
    if isinstance(recorder, SQLiteApplicationRecorder):
        pool = recorder.datastore.pool
        if not pool.is_sqlite_memory_mode:
            return SQLiteMark(pool.db_name, recorder.select_max_notification_id_statement)
    return lambda: recorder.max_notification_id() or 0
