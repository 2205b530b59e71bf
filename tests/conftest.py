"""Shared fixtures: real stores (a SQLite file, a PostgreSQL schema) and a manual clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from adapters.eventstore import drop_schema, open_store
from tradingcore.application.trading import TradingApplication
from tradingcore.ports.clock import ManualClock

POSTGRES_DSN = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def postgres_available() -> bool:
    try:
        with psycopg.connect(POSTGRES_DSN, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def require_postgres() -> None:
    """Skip a PostgreSQL test locally when no server runs; in CI it must run, so fail instead."""
    if postgres_available():
        return
    if IN_CI:
        pytest.fail(f"PostgreSQL is required in CI and is not reachable at {POSTGRES_DSN}")
    pytest.skip(f"PostgreSQL not reachable at {POSTGRES_DSN}")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2025, 12, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'events.sqlite'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    require_postgres()
    url = f"{POSTGRES_DSN}?schema=t_{uuid.uuid4().hex[:12]}"
    yield url
    drop_schema(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each backend in turn: the contract suite runs against all of them."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'events.sqlite'}"
        return
    require_postgres()
    url = f"{POSTGRES_DSN}?schema=t_{uuid.uuid4().hex[:12]}"
    yield url
    drop_schema(url)


@pytest.fixture
def app(store_url: str, clock: ManualClock) -> Iterator[TradingApplication]:
    application = open_store(store_url, clock)
    yield application
    application.close()


@pytest.fixture
def memory_app(clock: ManualClock) -> TradingApplication:
    return open_store("memory://", clock)
