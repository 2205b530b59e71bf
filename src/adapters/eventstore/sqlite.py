"""eventsourcing's SQLite backend with a choice of `PRAGMA synchronous` per store URL.

`FULL` (the default, eventsourcing's own) waits for the disk on every commit: nothing
acknowledged is ever lost, even on power loss. `NORMAL` in WAL mode skips that wait: a process
crash (kill -9) still loses nothing committed, but an operating-system crash or power cut may
lose the last transactions. Latency-critical hosts may choose it knowingly with
`sqlite:///events.sqlite?synchronous=normal`.
"""

from __future__ import annotations

from typing import Final

from eventsourcing import sqlite as eventsourcing_sqlite
from eventsourcing.persistence import InfrastructureFactoryError
from eventsourcing.utils import Environment

SYNCHRONOUS_MODES: Final = ("FULL", "NORMAL", "EXTRA")


class TunedSQLiteFactory(eventsourcing_sqlite.SQLiteFactory):
    SQLITE_SYNCHRONOUS = "SQLITE_SYNCHRONOUS"

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        mode = (self.env.get(self.SQLITE_SYNCHRONOUS) or "FULL").upper()
        if mode not in SYNCHRONOUS_MODES:
            raise InfrastructureFactoryError(
                f"SQLITE_SYNCHRONOUS {mode!r} is not one of {', '.join(SYNCHRONOUS_MODES)}"
            )
        pool = self.datastore.pool
        create = pool._create_connection

        def create_with_mode() -> eventsourcing_sqlite.SQLiteConnection:
            connection = create()
            connection._sqlite_conn.execute(f"PRAGMA synchronous={mode}")
            return connection

        pool._create_connection = create_with_mode  # type: ignore[method-assign]
