"""eventsourcing's SQLite backend, tuned: `PRAGMA synchronous` per store URL, and WAL
checkpoints moved off the commit path.

`FULL` (the default, eventsourcing's own) waits for the disk on every commit: nothing
acknowledged is ever lost, even on power loss. `NORMAL` in WAL mode skips that wait: a process
crash (kill -9) still loses nothing committed, but an operating-system crash or power cut may
lose the last transactions. Latency-critical hosts may choose it knowingly with
`sqlite:///events.sqlite?synchronous=normal`.

SQLite's automatic checkpoint runs inside whichever commit crosses 1,000 WAL pages, so every few
seconds of steady writing one commit pays 10 ms or more. Here a background thread checkpoints
PASSIVE-ly (it never takes the write lock nor waits for it) every half second, and the automatic
checkpoint is kept only as a backstop at 10,000 pages (~40 MB) should that thread ever stop.
`?checkpoint=inline` restores SQLite's own behaviour.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Final

from eventsourcing import sqlite as eventsourcing_sqlite
from eventsourcing.persistence import InfrastructureFactoryError
from eventsourcing.utils import Environment

SYNCHRONOUS_MODES: Final = ("FULL", "NORMAL", "EXTRA")
CHECKPOINT_MODES: Final = ("BACKGROUND", "INLINE")
CHECKPOINT_INTERVAL: Final = 0.5
BACKSTOP_PAGES: Final = 10_000


class WalCheckpointer:
    """Checkpoint a WAL database in the background, on its own connection."""

    def __init__(self, database: str, interval: float = CHECKPOINT_INTERVAL) -> None:
        self.database = database
        self.interval = interval
        self.checkpoints = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        connection: sqlite3.Connection | None = None
        try:
            while not self._stop.wait(self.interval):
                try:
                    if connection is None:
                        connection = sqlite3.connect(self.database, uri=True, timeout=0)
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                except sqlite3.Error:
                    continue  # busy or not created yet: the next round tries again
        finally:
            if connection is not None:
                connection.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class TunedSQLiteFactory(eventsourcing_sqlite.SQLiteFactory):
    SQLITE_SYNCHRONOUS = "SQLITE_SYNCHRONOUS"
    SQLITE_CHECKPOINT = "SQLITE_CHECKPOINT"

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        mode = (self.env.get(self.SQLITE_SYNCHRONOUS) or "FULL").upper()
        if mode not in SYNCHRONOUS_MODES:
            raise InfrastructureFactoryError(
                f"SQLITE_SYNCHRONOUS {mode!r} is not one of {', '.join(SYNCHRONOUS_MODES)}"
            )
        checkpoint = (self.env.get(self.SQLITE_CHECKPOINT) or "BACKGROUND").upper()
        if checkpoint not in CHECKPOINT_MODES:
            raise InfrastructureFactoryError(
                f"SQLITE_CHECKPOINT {checkpoint!r} is not one of {', '.join(CHECKPOINT_MODES)}"
            )
        pool = self.datastore.pool
        background = checkpoint == "BACKGROUND" and not pool.is_sqlite_memory_mode
        create = pool._create_connection

        def create_tuned() -> eventsourcing_sqlite.SQLiteConnection:
            connection = create()
            connection._sqlite_conn.execute(f"PRAGMA synchronous={mode}")
            if background:
                connection._sqlite_conn.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
            return connection

        pool._create_connection = create_tuned  # type: ignore[method-assign]
        self.checkpointer = WalCheckpointer(pool.db_name) if background else None

    def close(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
        super().close()
