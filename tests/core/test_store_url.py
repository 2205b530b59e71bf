"""Store URLs choose the backend; a bad URL says what is wrong."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adapters.eventstore import StoreUrlError, open_store, redacted, store_env
from adapters.eventstore.sqlite import WriteLock
from tests.core.factories import WIN
from tests.core.test_store_contract import SESSION, batch
from tradingcore.domain.tape import MarketTape, session_tape_id
from tradingcore.ports.clock import ManualClock


def test_sqlite_url_with_three_slashes_is_relative_and_four_absolute() -> None:
    assert store_env("sqlite:///data/events.sqlite")["SQLITE_DBNAME"] == "data/events.sqlite"
    assert store_env("sqlite:////tmp/e.sqlite")["SQLITE_DBNAME"] == "/tmp/e.sqlite"


def test_postgres_url_gives_connection_settings_and_schema() -> None:
    env = store_env("postgresql://trader@db.local:6543/markets?schema=desk")
    assert env["PERSISTENCE_MODULE"] == "adapters.eventstore.postgres"
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_DBNAME"]) == (
        "db.local",
        "6543",
        "markets",
    )
    assert (env["POSTGRES_USER"], env["POSTGRES_SCHEMA"]) == ("trader", "desk")


@pytest.mark.parametrize("url", ["mysql://x/y", "postgresql:///nodb", "sqlite://"])
def test_unsupported_or_incomplete_url_is_refused_naming_it(url: str) -> None:
    with pytest.raises(StoreUrlError, match="store URL"):
        store_env(url)


@pytest.mark.parametrize(("query", "pragma"), [("", 2), ("?synchronous=normal", 1)])
def test_sqlite_synchronous_mode_comes_from_the_url(
    tmp_path: Path, query: str, pragma: int
) -> None:
    app = open_store(f"sqlite:///{tmp_path / 'e.sqlite'}{query}", ManualClock())
    with app.recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == pragma


def test_sqlite_synchronous_mode_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="SQLITE_SYNCHRONOUS 'SOMETIMES' is not one of"):
        open_store(f"sqlite:///{tmp_path / 'e.sqlite'}?synchronous=sometimes", ManualClock())


def test_sqlite_file_store_checkpoints_in_the_background_and_stops_on_close(
    tmp_path: Path,
) -> None:
    app = open_store(f"sqlite:///{tmp_path / 'e.sqlite'}", ManualClock())
    checkpointer = app.factory.checkpointer
    assert checkpointer is not None and checkpointer.running
    with app.recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone()[0] == 10_000  # only a backstop
    app.close()
    assert not checkpointer.running


def test_sqlite_inline_checkpoint_keeps_sqlites_own_behaviour(tmp_path: Path) -> None:
    app = open_store(f"sqlite:///{tmp_path / 'e.sqlite'}?checkpoint=inline", ManualClock())
    assert app.factory.checkpointer is None
    with app.recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone()[0] == 1_000
    app.close()


def _hold_lock_in_other_process(path: Path, seconds: float) -> subprocess.Popen[str]:
    """A process that flocks `path` for `seconds`, printing a line once it holds it."""
    code = (
        "import fcntl, os, sys, time\n"
        "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('held', flush=True)\n"
        "time.sleep(float(sys.argv[2]))\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_sqlite_writes_wait_for_another_processes_write_lock_then_go_on(tmp_path: Path) -> None:
    app = open_store(f"sqlite:///{tmp_path / 'e.sqlite'}", ManualClock())
    lock = app.factory.write_lock
    assert lock is not None and Path(lock.path) == tmp_path / "e.sqlite-writelock"
    holder = _hold_lock_in_other_process(Path(lock.path), 0.3)
    started = time.monotonic()
    app.record_trades(WIN, SESSION, batch(1, 10))  # waits for the other writer, then lands
    waited = time.monotonic() - started
    holder.wait(timeout=10)
    assert waited > 0.1  # it did wait for the other process (no upper bound: shared box)
    assert app.load_fresh(MarketTape, session_tape_id(WIN, SESSION)).trade_count == 10


def test_sqlite_write_behind_a_hung_writer_fails_with_a_clear_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "e.sqlite-writelock"
    lock = WriteLock(str(path), timeout=0.2)
    holder = _hold_lock_in_other_process(path, 5)
    try:
        refused = pytest.raises(sqlite3.OperationalError, match=r"another writer has held .* for")
        with refused, lock.held():
            raise AssertionError("the lock was taken while another process held it")
    finally:
        holder.kill()
        holder.wait()
    with lock.held():  # the holder is gone: the lock is free again
        pass
    lock.close()


def test_sqlite_write_lock_can_be_left_to_sqlite(tmp_path: Path) -> None:
    app = open_store(f"sqlite:///{tmp_path / 'e.sqlite'}?write_lock=off", ManualClock())
    assert app.factory.write_lock is None
    app.record_trades(WIN, SESSION, batch(1, 3))
    assert not (tmp_path / "e.sqlite-writelock").exists()
    with pytest.raises(Exception, match="SQLITE_WRITE_LOCK 'MAYBE' is not one of"):
        open_store(f"sqlite:///{tmp_path / 'f.sqlite'}?write_lock=maybe", ManualClock())


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://bob:pa:ss@db:5432/x?schema=s", "postgresql://bob:***@db:5432/x?schema=s"),
        ("postgresql://bob@db:5432/x", "postgresql://bob@db:5432/x"),
        ("sqlite:///data/events.sqlite", "sqlite:///data/events.sqlite"),
    ],
)
def test_store_url_for_logs_hides_only_the_password(url: str, shown: str) -> None:
    assert redacted(url) == shown


@pytest.mark.postgres
@pytest.mark.parametrize(
    "schema", ["a;drop", "x%22%3B%20DROP%20TABLE%20t%3B--", "Desk", "1st", "a" * 64, ""]
)
def test_postgres_schema_that_is_not_a_plain_identifier_is_refused_before_connecting(
    schema: str,
) -> None:
    from tests.conftest import POSTGRES_DSN, require_postgres

    require_postgres()
    with pytest.raises(StoreUrlError, match="schema"):
        open_store(f"{POSTGRES_DSN}?schema={schema}", ManualClock())

    import psycopg

    with psycopg.connect(POSTGRES_DSN) as connection:
        names = [row[0] for row in connection.execute("SELECT nspname FROM pg_namespace")]
    assert not [name for name in names if "drop" in name.lower() or name.startswith("a;")]
