"""Store URLs choose the backend; a bad URL says what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.eventstore import StoreUrlError, open_store, store_env
from tradingcore.ports.clock import ManualClock


def test_sqlite_url_with_three_slashes_is_relative_and_four_absolute() -> None:
    assert store_env("sqlite:///data/events.sqlite")["SQLITE_DBNAME"] == "data/events.sqlite"
    assert store_env("sqlite:////tmp/e.sqlite")["SQLITE_DBNAME"] == "/tmp/e.sqlite"


def test_postgres_url_gives_connection_settings_and_schema() -> None:
    env = store_env("postgresql://trader@db.local:6543/markets?schema=desk")
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
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
