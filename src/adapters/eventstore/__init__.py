"""Event-store backends: SQLite file by default, PostgreSQL for scale.

The backend is chosen by a store URL, never by an import in the core:
`sqlite:///data/events.sqlite` (add `?synchronous=normal` to trade power-loss durability
for latency, see `adapters.eventstore.sqlite`), `sqlite://:memory:`, `memory://`,
`postgresql://user@127.0.0.1:5432/test?schema=tradingcore`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Final
from urllib.parse import parse_qs, unquote, urlparse

import psycopg
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
            "POSTGRES_CONNECT_TIMEOUT": "5",
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
    if "POSTGRES_SCHEMA" in env:
        ensure_schema(env)
    return TradingApplication(env, clock=clock, instruments=instruments)


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
