"""API fixtures: keys, a host over a real SQLite store, an in-process client, a trade printer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.broker.paper import PaperBroker
from adapters.eventstore import open_store
from hosts.api.app import create_app
from hosts.api.auth import KeyRing, Role, StoredKey, digest
from hosts.api.host import ApiConfig, ApiHost
from tradingcore.domain.tape import Trade, TradeColumns
from tradingcore.domain.values import Aggressor, Symbol
from tradingcore.ports.clock import ManualClock
from tradingcore.risk.calendar import SessionCalendar

ALICE = "key-alice-0123456789"
BOB = "key-bob-0123456789"
ROOT = "key-root-0123456789"
WIN = Symbol("WINZ25")
NOW = datetime(2025, 12, 1, 15, 0, tzinfo=UTC)


def headers(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


@pytest.fixture
def keys() -> KeyRing:
    return KeyRing(
        [
            StoredKey("alice", Role.TRADER, "alice", digest(ALICE)),
            StoredKey("bob", Role.TRADER, "bob", digest(BOB)),
            StoredKey("root", Role.ADMIN, "ops", digest(ROOT)),
        ]
    )


@pytest.fixture
def config(tmp_path: Path) -> ApiConfig:
    return ApiConfig(
        log_dir=tmp_path / "logs",
        calendar=SessionCalendar(always_open=True),
        requests_per_second_per_client=10_000,
        requests_per_second_per_key=10_000,
        poll_interval=3_600,  # tests poll by hand: no background thread races them
    )


HostFactory = Callable[..., ApiHost]


@pytest.fixture
def make_host(tmp_path: Path, keys: KeyRing, config: ApiConfig) -> Iterator[HostFactory]:
    hosts: list[ApiHost] = []

    def make(**changes: Any) -> ApiHost:
        clock = ManualClock(NOW)
        app = open_store(f"sqlite:///{tmp_path / 'events.sqlite'}", clock)
        host = ApiHost(replace(config, **changes), keys, app=app, broker=PaperBroker())
        hosts.append(host)
        return host

    yield make
    for host in hosts:
        host.stop()
        host.app.close()


@pytest.fixture
def host(make_host: HostFactory) -> ApiHost:
    return make_host()


@pytest.fixture
def client(host: ApiHost) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(host)) as test_client:
        yield test_client


class Tape:
    """Prints trades into the host's store and lets the host's follower read them."""

    def __init__(self, host: ApiHost) -> None:
        self.host = host
        self.next_id = 1

    def print(self, price: int | str, volume: int = 100) -> None:
        clock = self.host.app.clock
        columns = TradeColumns()
        columns.append(
            Trade(
                WIN,
                self.next_id,
                int(clock.now().timestamp() * 1000),
                Decimal(price),
                volume,
                Aggressor.BUY,
            )
        )
        self.next_id += 1
        self.host.app.record_trades(WIN, clock.now().date(), columns)
        self.host.follower.poll()

    def print_rising(self, count: int, start: int = 127_850) -> None:
        """Print `count` trades, each one tick (5 points) above the one before."""
        for number in range(count):
            self.print(start + 5 * number)


@pytest.fixture
def tape(host: ApiHost, client: TestClient[Any]) -> Tape:
    return Tape(host)
