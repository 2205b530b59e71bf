"""Event-store backends: SQLite file by default, PostgreSQL for scale.

The backend is chosen by a store URL, never by an import in the core:
`sqlite:///data/events.sqlite` (add `?synchronous=normal` to trade power-loss durability
for latency, see `adapters.eventstore.sqlite`), `sqlite://:memory:`, `memory://`,
`postgresql://user@127.0.0.1:5432/test?schema=tradingcore`.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import parse_qs, quote, unquote, urlparse

import psycopg
from eventsourcing.persistence import PersistenceError
from psycopg import sql

from tradingcore.application.trading import TradingApplication
from tradingcore.domain.instruments import Instrument, infer_instrument
from tradingcore.domain.values import Symbol
from tradingcore.ports.clock import Clock

DEFAULT_STORE_URL = "sqlite:///data/events.sqlite"
SCHEMA_NAME: Final = re.compile(r"[a-z_][a-z0-9_]{0,62}")
"""A PostgreSQL schema name we accept: a plain lower-case identifier (eventsourcing writes it
into SQL, some of it unquoted, where the server folds case; 63 bytes is the server's limit)."""


class StoreUrlError(ValueError):
    """A store URL names no supported backend or lacks a required part."""


class StoreNotFound(StoreUrlError):
    """A command that reads a store was given a SQLite file that does not exist."""


class StoreOpenError(StoreUrlError):
    """The store a URL names cannot be opened: a file that is not SQLite, damaged, another
    application's database, a directory, or a database server that does not answer."""


STORE_TABLE: Final = "stored_events"
"""eventsourcing's table: a SQLite file with tables but not this one is not our store."""


def _check_sqlite_file(path: str) -> None:
    """Refuse, in one line naming the file, a path that cannot be our SQLite store."""
    file = Path(path)
    if file.is_dir():
        raise StoreOpenError(f"store {path}: is a directory, not a SQLite file")
    if not file.is_file() or file.stat().st_size == 0:
        return  # a new store
    uri = f"file:{quote(file.resolve().as_posix())}?mode=ro"
    try:
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
            tables = {
                str(row[0])
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
    except sqlite3.Error as error:
        raise StoreOpenError(f"store {path}: not a readable SQLite database ({error})") from None
    if tables and STORE_TABLE not in tables:
        raise StoreOpenError(
            f"store {path}: a SQLite database of another application (tables "
            f"{', '.join(sorted(tables)[:5])}), not a tradingcore event store"
        )


def redacted(url: str) -> str:
    """A store URL fit for logs: its password, if any, replaced by `***`."""
    head, at, tail = url.rpartition("@")
    if not at or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, credentials = head.partition("//")
    return f"{scheme}//{credentials.split(':', 1)[0]}:***@{tail}"


def store_env(url: str, *, existing: bool = False) -> dict[str, str]:
    """Translate a store URL into eventsourcing's environment settings. `existing=True`
    (commands that only read): a SQLite file that does not exist is `StoreNotFound`, not a
    new empty store."""
    parsed = urlparse(url)
    if parsed.scheme == "memory":
        return {"PERSISTENCE_MODULE": "adapters.eventstore.memory"}
    if parsed.scheme == "sqlite":
        # sqlite:///relative/path, sqlite:////absolute/path, sqlite://:memory:
        path = unquote(parsed.netloc or parsed.path[1:])
        if not path:
            raise StoreUrlError(f"store URL {url!r}: the SQLite file path is missing")
        if path != ":memory:" and existing and not Path(path).exists():
            raise StoreNotFound(
                f"no event store at {path} (store URL {redacted(url)!r}): this command reads "
                "an existing store; check --store"
            )
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        query = parse_qs(parsed.query)
        return {
            "PERSISTENCE_MODULE": "adapters.eventstore.sqlite",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": "30",
            "SQLITE_SYNCHRONOUS": query.get("synchronous", ["full"])[0].upper(),
            "SQLITE_CHECKPOINT": query.get("checkpoint", ["background"])[0].upper(),
            "SQLITE_WRITE_LOCK": query.get("write_lock", ["on"])[0].upper(),
        }
    if parsed.scheme in ("postgres", "postgresql"):
        dbname = parsed.path.lstrip("/")
        if not parsed.hostname or not dbname:
            raise StoreUrlError(f"store URL {url!r}: host and database name are required")
        env = {
            "PERSISTENCE_MODULE": "adapters.eventstore.postgres",
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": parsed.hostname,
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": unquote(parsed.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parsed.password or ""),
            "POSTGRES_CONNECT_TIMEOUT": "2",
            "POSTGRES_POOL_SIZE": "4",
            "POSTGRES_LOCK_TIMEOUT": "10",
        }
        query = parse_qs(parsed.query, keep_blank_values=True)
        if "schema" in query:
            env["POSTGRES_SCHEMA"] = _schema_name(url, query["schema"][0])
        return env
    raise StoreUrlError(
        f"store URL {url!r}: unsupported scheme {parsed.scheme!r}; use sqlite:///PATH, "
        "postgresql://USER@HOST:PORT/DB or memory://"
    )


def _schema_name(url: str, schema: str) -> str:
    if not SCHEMA_NAME.fullmatch(schema):
        raise StoreUrlError(
            f"store URL {redacted(url)!r}: schema {schema!r} is not a plain identifier "
            "(lower-case letters, digits and _, not starting with a digit, at most 63)"
        )
    return schema


def check_store_file(url: str) -> None:
    """Raise StoreOpenError when a SQLite URL names a file that can never be our store (for hosts
    that open the store later, or keep retrying it: a database server may come back, a
    directory or another application's file will not)."""
    path = store_env(url).get("SQLITE_DBNAME")
    if path is not None and path != ":memory:":
        _check_sqlite_file(path)


@dataclass(frozen=True, slots=True)
class NewStoreFile:
    """A SQLite store file that does not exist yet: a command that fails before writing anything
    removes it again (`remove`), so a failed import never leaves an empty store behind."""

    path: Path
    first_new_directory: Path | None
    """The outermost directory on its path that did not exist either (removed when empty)."""

    def remove(self) -> None:
        """Remove the store file, its journal and lock files, and the directories made for it."""
        for suffix in ("", "-wal", "-shm", "-journal", "-writelock"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        if self.first_new_directory is None:
            return
        directory = self.path.parent
        while True:
            with contextlib.suppress(OSError):  # not empty (or gone): leave it
                directory.rmdir()
            if directory in (self.first_new_directory, directory.parent):
                return
            directory = directory.parent


def new_store_file(url: str) -> NewStoreFile | None:
    """Return the SQLite file a store URL names when it does not exist yet, else None (an
    existing file, memory or PostgreSQL); call it before the store is opened."""
    parsed = urlparse(url)
    path = unquote(parsed.netloc or parsed.path[1:]) if parsed.scheme == "sqlite" else ""
    if not path or path == ":memory:" or Path(path).exists():
        return None
    file = Path(path).absolute()
    missing = [parent for parent in file.parents if not parent.exists()]
    return NewStoreFile(file, missing[-1] if missing else None)


def open_store(
    url: str,
    clock: Clock,
    *,
    instruments: Callable[[Symbol], Instrument] = infer_instrument,
    existing: bool = False,
) -> TradingApplication:
    """Open the trading application on the backend a URL names (`existing=True`: only a
    store that exists, see `store_env`)."""
    env = store_env(url, existing=existing)
    where = env.get("SQLITE_DBNAME", redacted(url))
    if where != ":memory:" and "SQLITE_DBNAME" in env:
        _check_sqlite_file(where)
    try:
        if "POSTGRES_SCHEMA" in env:
            ensure_schema(env)
        return TradingApplication(env, clock=clock, instruments=instruments)
    except (PersistenceError, sqlite3.Error, psycopg.Error) as error:
        cause = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise StoreOpenError(
            f"store {where}: cannot open it ({type(error).__name__}: {cause})"
        ) from error


ADVISORY_LOCK: Final = 0x7472_6164_6563_6F72
"""Held while a process creates a PostgreSQL store's schema, types, table and function:
processes opening a new store at once would otherwise race (`CREATE SCHEMA IF NOT EXISTS`,
`CREATE TYPE` and `CREATE OR REPLACE FUNCTION` are not safe against each other: "duplicate
key", "tuple concurrently updated")."""


def _connect(env: dict[str, str]) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=int(env["POSTGRES_PORT"]),
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"] or None,
        connect_timeout=int(env["POSTGRES_CONNECT_TIMEOUT"]),
        autocommit=True,
    )


def ensure_schema(env: dict[str, str]) -> None:
    """Create the PostgreSQL schema a store URL names, if it is missing (one process at a
    time: two racing `CREATE SCHEMA IF NOT EXISTS` fail with a duplicate key)."""
    with _connect(env) as connection, connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK,))
        connection.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(env["POSTGRES_SCHEMA"]))
        )


def drop_schema(url: str) -> None:
    """Drop a PostgreSQL store's schema and everything in it (used by tests and resets)."""
    env = store_env(url)
    with _connect(env) as connection:
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(env["POSTGRES_SCHEMA"])
            )
        )
