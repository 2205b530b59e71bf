"""The tick WebSocket server on an ephemeral port: malformed messages counted, others handled."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from websockets.sync.client import connect

from adapters.websocket.server import Message, MessageRejected, TickServer
from tests.analytics.factories import session, tick_json


class Recorder:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.rejects: list[tuple[str, str]] = []

    def handle(self, message: Message, arrived: float) -> None:
        if message.symbol == "BOOM":
            raise RuntimeError("handler bug")
        if message.symbol == "NOPE4":
            raise MessageRejected("invalid_symbol", "NOPE4 is not traded")
        self.messages.append(message)

    def reject(self, reason: str, detail: str, raw: str) -> None:
        self.rejects.append((reason, detail))


@pytest.fixture
def served() -> Iterator[tuple[TickServer, Recorder]]:
    recorder = Recorder()
    server = TickServer(recorder.handle, port=0, on_reject=recorder.reject)
    server.start()
    yield server, recorder
    server.stop()


def wait_for(condition: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.01)


def test_serve_with_malformed_messages_counts_them_and_handles_the_rest(
    served: tuple[TickServer, Recorder],
) -> None:
    server, recorder = served
    ticks = [tick_json(event) for event in session(5)]
    bad = [
        "not json",
        '{"type":"quote"}',
        ticks[0].replace('"volume":', '"volume":-'),
        ticks[0].replace('"trade_id"', '"extra":1,"trade_id"'),
        b"\xff\xfe",
        ticks[0].replace("WINZ25", "BOOM"),
        ticks[0].replace("WINZ25", "NOPE4"),
    ]
    with connect(server.url) as client:
        for good, wrong in zip(ticks, bad, strict=False):
            client.send(wrong)
            client.send(good)
        for wrong in bad[len(ticks) :]:
            client.send(wrong)
        wait_for(lambda: server.accepted + sum(server.rejected.values()) == 12)
    assert [m.trade_id for m in recorder.messages] == [e.trade.trade_id for e in session(5)]
    assert server.rejected == {
        "invalid_json": 2,
        "unknown_type": 1,
        "invalid_message": 2,
        "processing_error": 1,
        "invalid_symbol": 1,
    }
    assert ("invalid_symbol", "NOPE4 is not traded") in recorder.rejects


def test_serve_with_a_bad_connection_leaves_other_connections_undisturbed(
    served: tuple[TickServer, Recorder],
) -> None:
    server, recorder = served
    ticks = [tick_json(event) for event in session(20)]
    with connect(server.url) as good, connect(server.url) as bad:
        for index, tick in enumerate(ticks):
            if index < 10:
                bad.send("{broken")
            elif index == 10:
                bad.close()
            good.send(tick)
        wait_for(lambda: server.accepted == 20)
    assert len(recorder.messages) == 20
    assert server.connections == 2


def test_start_with_a_port_in_use_raises() -> None:
    first = TickServer(lambda message, arrived: None, port=0)
    first.start()
    try:
        second = TickServer(lambda message, arrived: None, port=first.port)
        with pytest.raises(OSError):
            second.start()
    finally:
        first.stop()
