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

Several processes often write one store file (the capture, analytics and API hosts). SQLite
lets one write at a time and makes the others poll: its busy handler sleeps 1, 2, 5, 10, 15...
ms between tries, so a commit that meets another process's transaction waits whole
milliseconds after the lock is free. Here every write transaction first takes an exclusive
OS file lock (`adapters.filelock`: `flock`, or `msvcrt.locking` on Windows) on
`DATABASE-writelock` beside the database (and a thread lock within the process):
a waiting writer tries again every 100 µs, so it starts within 0.1 ms of the lock being
released (and gives up after the store's lock timeout, as SQLite would).
`?write_lock=off` leaves it to SQLite's busy handler.

Reading an aggregate's events (every load, and every catch-up of a cached aggregate) is one
SELECT; eventsourcing wraps it in BEGIN ... ROLLBACK on a pooled connection, ~30 µs around a
~5 µs query. Here those reads run on autocommit connections of the recorder's own
(`QuickReads`): one statement is a consistent snapshot by itself, and in WAL mode it never
waits for a writer.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any, Final
from uuid import UUID

from eventsourcing import persistence as eventsourcing_persistence
from eventsourcing import sqlite as eventsourcing_sqlite
from eventsourcing.persistence import InfrastructureFactoryError, StoredEvent
from eventsourcing.utils import Environment

from adapters.filelock import try_lock, unlock

SYNCHRONOUS_MODES: Final = ("FULL", "NORMAL", "EXTRA")
CHECKPOINT_MODES: Final = ("BACKGROUND", "INLINE")
WRITE_LOCK_MODES: Final = ("ON", "OFF")
POLL_SECONDS: Final = 0.0001
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


class WriteLock:
    """One writer at a time across threads and processes: a thread lock, then a file lock."""

    def __init__(self, path: str, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._thread_lock = threading.Lock()
        self._fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        with self._thread_lock:
            fd = self._fd
            if fd is None:  # closed: leave it to SQLite's own locking
                yield
                return
            self._acquire(fd)
            try:
                yield
            finally:
                unlock(fd)

    def _acquire(self, fd: int) -> None:
        """Take the lock, trying every 100 µs, for up to `timeout` seconds (a writer that
        hangs, e.g. a stopped process, must not hang us forever: SQLite would give up too)."""
        deadline = time.monotonic() + self.timeout
        while True:
            if try_lock(fd):
                return
            if time.monotonic() > deadline:
                raise sqlite3.OperationalError(
                    f"database is locked: another writer has held {self.path} for over "
                    f"{self.timeout:g} s"
                )
            time.sleep(POLL_SECONDS)

    def close(self) -> None:
        with self._thread_lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


class QuickReads:
    """Autocommit connections of their own for reads that are one SELECT.

    eventsourcing reads through a pooled connection inside BEGIN ... ROLLBACK: ~30 µs around
    a SELECT that takes ~5 µs. One statement is a consistent snapshot by itself (WAL: it sees
    the last commit and never waits for a writer), so these connections run it bare. A
    connection serves one thread at a time; at most `kept` stay open between reads.
    """

    def __init__(self, database: str, timeout: float, kept: int = 8) -> None:
        self.database = database
        self.timeout = timeout
        self.kept = kept
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self.closed = False

    @contextlib.contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            connection = self._idle.pop() if self._idle else None
        if connection is None:
            connection = sqlite3.connect(
                self.database,
                uri=True,
                timeout=self.timeout,
                isolation_level=None,
                check_same_thread=False,
            )
        try:
            yield connection
        finally:
            with self._lock:
                keep = not self.closed and len(self._idle) < self.kept
                if keep:
                    self._idle.append(connection)
            if not keep:
                connection.close()

    def close(self) -> None:
        with self._lock:
            self.closed = True
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


class QuickReadRecorder(eventsourcing_sqlite.SQLiteApplicationRecorder):
    """eventsourcing's SQLite recorder; an aggregate's events are read with `QuickReads`
    (loading an aggregate, or bringing a cached one up to date, is the reads' common case)."""

    quick: QuickReads | None = None

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        quick = self.quick
        if quick is None or quick.closed:
            return super().select_events(originator_id, gt=gt, lte=lte, desc=desc, limit=limit)
        statement = (
            "SELECT originator_id, originator_version, topic, state "
            f"FROM {self.events_table_name} WHERE originator_id=? "
        )
        params: list[Any] = [
            originator_id.hex if isinstance(originator_id, UUID) else originator_id
        ]
        if gt is not None:
            statement += "AND originator_version>? "
            params.append(gt)
        if lte is not None:
            statement += "AND originator_version<=? "
            params.append(lte)
        statement += "ORDER BY originator_version " + ("DESC " if desc else "ASC ")
        if limit is not None:
            statement += "LIMIT ? "
            params.append(limit)
        with quick.connection() as connection:
            rows = connection.execute(statement, params).fetchall()
        return [
            StoredEvent(
                originator_id=self.convert_originator_id(row[0]),
                originator_version=row[1],
                topic=row[2],
                state=row[3],
            )
            for row in rows
        ]


class TunedSQLiteFactory(eventsourcing_sqlite.SQLiteFactory):
    application_recorder_class = QuickReadRecorder
    SQLITE_SYNCHRONOUS = "SQLITE_SYNCHRONOUS"
    SQLITE_CHECKPOINT = "SQLITE_CHECKPOINT"
    SQLITE_WRITE_LOCK = "SQLITE_WRITE_LOCK"

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
        write_lock = (self.env.get(self.SQLITE_WRITE_LOCK) or "ON").upper()
        if write_lock not in WRITE_LOCK_MODES:
            raise InfrastructureFactoryError(
                f"SQLITE_WRITE_LOCK {write_lock!r} is not one of {', '.join(WRITE_LOCK_MODES)}"
            )
        pool = self.datastore.pool
        self.write_lock: WriteLock | None = None
        if write_lock == "ON" and not pool.is_sqlite_memory_mode:
            timeout = float(self.env.get(self.SQLITE_LOCK_TIMEOUT) or 5)
            self.write_lock = WriteLock(f"{_database_path(pool.db_name)}-writelock", timeout)
            self._serialize_writes(self.datastore, self.write_lock)
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
        self.quick_reads = (
            None
            if pool.is_sqlite_memory_mode
            else QuickReads(pool.db_name, float(self.env.get(self.SQLITE_LOCK_TIMEOUT) or 5))
        )

    def application_recorder(self) -> eventsourcing_persistence.ApplicationRecorder:
        recorder = super().application_recorder()
        if isinstance(recorder, QuickReadRecorder):
            recorder.quick = self.quick_reads
        return recorder

    @staticmethod
    def _serialize_writes(datastore: eventsourcing_sqlite.SQLiteDatastore, lock: WriteLock) -> None:
        """Hold `lock` around every write transaction of `datastore` (reads go on freely)."""
        transaction = datastore.transaction

        @contextlib.contextmanager
        def locked(*, commit: bool) -> Iterator[Any]:
            if not commit:
                with transaction(commit=False) as cursor:
                    yield cursor
                return
            with lock.held(), transaction(commit=True) as cursor:
                yield cursor

        datastore.transaction = locked  # type: ignore[method-assign]

    def close(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
        if self.quick_reads is not None:
            self.quick_reads.close()
        super().close()
        if self.write_lock is not None:
            self.write_lock.close()


def _database_path(db_name: str) -> str:
    """The file path of a database name (a plain path or a `file:` URI)."""
    if db_name.startswith("file:"):
        return db_name[len("file:") :].split("?", 1)[0]
    return db_name
