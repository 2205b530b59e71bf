"""Poison and flood through the analytics host's real WebSocket: one bad message never blinds it.

Bounded: each test sends a few hundred messages and waits at most 30 s for them.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.websocket.server import MAX_MESSAGE_BYTES
from hosts.analytics.service import AnalyticsService, AnalyticsSettings
from tests.analytics.api_stub import ApiStub
from tests.analytics.factories import fast_config, session, tick_json
from tests.analytics.test_host import send_all

YEAR_2126_MS = 4_949_909_918_654


@pytest.fixture
def service(tmp_path: Path) -> Iterator[AnalyticsService]:
    api = ApiStub()
    settings = AnalyticsSettings(
        store_url=f"sqlite:///{tmp_path / 'events.sqlite'}",
        port=0,
        metrics_port=0,
        api_url=api.url,
        api_key="test-key",
        model_path=tmp_path / "model.json",
        log_dir=tmp_path / "logs",
        config=fast_config(),
        feature_batch=200,
    )
    host = AnalyticsService(settings)
    host.start()
    yield host
    host.stop()
    api.close()


def with_timestamp(tick: str, timestamp: int, trade_id: int) -> str:
    body = json.loads(tick)
    body.update(timestamp=timestamp, trade_id=trade_id)
    return json.dumps(body)


def test_tick_from_the_future_is_refused_and_the_ticks_after_it_still_flow(
    service: AnalyticsService,
) -> None:
    ticks = [tick_json(event) for event in session(250, seed=5)]
    poison = with_timestamp(ticks[149], YEAR_2126_MS, 999_999)

    send_all(service, [*ticks[:150], poison, *ticks[150:]])

    assert service.server.rejected["timestamp_implausible"] == 1
    assert service.server.rejected.get("timestamp_backwards", 0) == 0
    assert service.server.accepted == 250


def test_ticks_from_long_ago_never_blind_the_symbol(service: AnalyticsService) -> None:
    """The other side of implausible times: a tick stamped in 1971, first or mid-stream, cannot
    hold the symbol back (its watermark only moves forward)."""
    ticks = [tick_json(event) for event in session(250, seed=8)]
    year_1971 = 86_400_000 * 365
    first = with_timestamp(ticks[0], year_1971, 999_998)
    middle = with_timestamp(ticks[149], year_1971, 999_999)

    send_all(service, [first, *ticks[:150], middle, *ticks[150:]])

    assert service.server.accepted == 251  # the first one, then every valid tick
    assert service.server.rejected == {"timestamp_backwards": 1}


def test_frame_over_the_size_limit_is_counted_as_a_reject(service: AnalyticsService) -> None:
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    with connect(service.server.url, max_size=None) as client:
        client.send("x" * (MAX_MESSAGE_BYTES + 1))
        try:
            client.recv(timeout=10)
        except ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 1009
    ticks = [tick_json(event) for event in session(20, seed=6)]
    send_all(service, ticks)  # a new connection works; 20 accepted + 1 counted before

    assert service.server.rejected["message_too_large"] == 1
    assert service.server.accepted == 20


def test_string_price_or_volume_is_refused_as_invalid_message_not_coerced(
    service: AnalyticsService,
) -> None:
    tick = json.loads(tick_json(session(1, seed=7)[0]))
    as_strings = [
        json.dumps({**tick, "price": str(tick["price"])}),
        json.dumps({**tick, "volume": str(tick["volume"])}),
        json.dumps({**tick, "timestamp": str(tick["timestamp"])}),
    ]

    send_all(service, as_strings)

    assert service.server.rejected["invalid_message"] == 3
    assert service.server.accepted == 0


def test_flood_of_poison_between_valid_ticks_leaves_every_valid_tick_accepted(
    service: AnalyticsService,
) -> None:
    """Bounded: 300 valid ticks and 300 poison messages of ten kinds, one connection."""
    ticks = [tick_json(event) for event in session(300, seed=9)]
    poisons = [
        "{oops",
        "[" * 5_000 + "]" * 5_000,
        '{"type":"trade"}',
        '{"type":"nope"}',
        "\udcff".encode("utf-8", "surrogatepass"),
        json.dumps({**json.loads(ticks[0]), "price": -1}),
        json.dumps({**json.loads(ticks[0]), "price": "1e309"}),
        json.dumps({**json.loads(ticks[0]), "symbol": "ZZZZ99"}),
        with_timestamp(ticks[0], YEAR_2126_MS, 10**12),
        json.dumps({**json.loads(ticks[0]), "extra": 1}),
    ]
    messages: list[str | bytes] = []
    for index, tick in enumerate(ticks):
        messages += [tick, poisons[index % len(poisons)]]

    send_all(service, messages)

    assert service.server.accepted == 300
    assert sum(service.server.rejected.values()) == 300
    assert service.server.rejected.get("timestamp_backwards", 0) == 0
    assert service.server.rejected.get("processing_error", 0) == 0


def test_flood_of_connections_each_dropped_after_one_poison_leaves_the_host_serving(
    service: AnalyticsService,
) -> None:
    """Bounded: 100 connections from 4 threads, each sends one poison message then vanishes
    (half without a close frame); then 100 valid ticks on a new connection."""
    import socket
    from concurrent.futures import ThreadPoolExecutor

    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    def hit(number: int) -> None:
        with contextlib.suppress(ConnectionClosed, OSError), connect(service.server.url) as client:
            client.send("{oops" if number % 2 else '{"type":"trade"}')
            if number % 2:
                client.socket.shutdown(socket.SHUT_RDWR)  # gone without a close frame

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(hit, range(100)))
    deadline = time.monotonic() + 30
    while sum(service.server.rejected.values()) < 100 and time.monotonic() < deadline:
        time.sleep(0.01)
    with connect(service.server.url) as client:
        for event in session(100, seed=10):
            client.send(tick_json(event))
        while service.server.accepted < 100 and time.monotonic() < deadline + 30:
            time.sleep(0.01)

    assert service.server.rejected == {"invalid_json": 50, "invalid_message": 50}
    assert service.server.accepted == 100
    assert service.server.connections == 101


def test_symbols_past_the_configured_maximum_are_refused_and_memory_stays_bounded(
    tmp_path: Path,
) -> None:
    api = ApiStub()
    settings = AnalyticsSettings(
        store_url=f"sqlite:///{tmp_path / 'events.sqlite'}", port=0, metrics_port=0,
        api_url=api.url, api_key="k", log_dir=tmp_path / "logs", config=fast_config(),
        max_symbols=3,
    )  # fmt: skip
    host = AnalyticsService(settings)
    host.start()
    tick = json.loads(tick_json(session(1, seed=3)[0]))
    months = "FGHJKMNQUVXZ"  # twelve valid WIN contracts, in many spellings
    messages: list[str | bytes] = [
        json.dumps({**tick, "symbol": spelling, "trade_id": index * 3 + number})
        for index, month in enumerate(months)
        for number, spelling in enumerate((f"WIN{month}26", f"win{month}26", f"Win{month}26"))
    ]
    try:
        send_all(host, messages)
    finally:
        host.stop()
        api.close()

    assert host.server.accepted == 9  # three symbols, each in three spellings
    assert host.server.rejected["too_many_symbols"] == 27
    assert len(host.engine.models) == 3


def test_new_symbol_at_the_maximum_takes_the_place_of_one_idle_for_a_week(
    tmp_path: Path,
) -> None:
    """An expired contract must not hold its place for good: a symbol with no tick for 7 days
    (feed time) is let go when a new one needs its place; a quieter one is never evicted."""
    api = ApiStub()
    settings = AnalyticsSettings(
        store_url=f"sqlite:///{tmp_path / 'events.sqlite'}", port=0, metrics_port=0,
        api_url=api.url, api_key="k", log_dir=tmp_path / "logs", config=fast_config(),
        max_symbols=3,
    )  # fmt: skip
    host = AnalyticsService(settings)
    host.start()
    tick = json.loads(tick_json(session(1, seed=3)[0]))
    day_ms = 86_400_000
    start = tick["timestamp"]

    def at(symbol: str, days: int, trade_id: int) -> str:
        return json.dumps({**tick, "symbol": symbol, "timestamp": start + days * day_ms,
                           "trade_id": trade_id})  # fmt: skip

    try:
        send_all(host, [at("WINZ25", 0, 1), at("WDOF26", 0, 2), at("WING26", 0, 3)])
        send_all(host, [at("INDZ25", 1, 4)])  # all three ticked a day ago: refused
        # INDZ25 takes the place of the first symbol idle for 8 days (WDOF26, then WING26)
        send_all(host, [at("WINZ25", 8, 5), at("INDZ25", 8, 6), at("WINZ25", 8, 7)])
        send_all(host, [at("WING26", 8, 8)])  # idle too, but still followed: nothing to let go
    finally:
        host.stop()
        api.close()

    assert host.server.rejected == {"too_many_symbols": 1}
    assert host.server.accepted == 7
    assert sorted(host.engine.models) == ["INDZ25", "WING26", "WINZ25"]
    assert host.engine.released == 1
