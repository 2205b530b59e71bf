"""The capture host against the analytics host's own WebSocket server: every tick accepted."""

from __future__ import annotations

import time
from pathlib import Path

from adapters.eventstore import open_store
from adapters.feeds import SyntheticFeed
from adapters.websocket.messages import BookMessage, TickMessage
from adapters.websocket.publisher import WebSocketPublisher
from adapters.websocket.server import Message, TickServer
from hosts.capture.metrics import CaptureMetrics
from hosts.capture.recorder import TapeRecorder
from hosts.capture.service import CaptureService
from tests.capture.factories import WDO, WIN, stored_trades
from tradingcore.ports.clock import ManualClock


def test_capture_with_the_analytics_server_as_peer_has_every_message_accepted(
    tmp_path: Path,
) -> None:
    received: list[Message] = []
    server = TickServer(lambda message, arrived: received.append(message), port=0)
    server.start()
    app = open_store(f"sqlite:///{tmp_path / 'events.sqlite'}", ManualClock())
    try:
        feed = SyntheticFeed([WIN, WDO], seed=2, trades=1_000, book_every=25)
        metrics = CaptureMetrics()
        publisher = WebSocketPublisher(server.url, retry_interval=0.1, observer=metrics)
        service = CaptureService(feed, TapeRecorder(app), publisher, metrics)
        service.start()
        assert feed.wait(30)
        assert service.close(drain_timeout=10)
        deadline = time.monotonic() + 10
        while server.accepted + sum(server.rejected.values()) < 2_080:
            assert time.monotonic() < deadline, "the server did not get every message"
            time.sleep(0.01)
    finally:
        server.stop()
    assert server.rejected == {}
    assert server.accepted == len(received) == 2_000 + 80
    ticks = [message for message in received if isinstance(message, TickMessage)]
    assert sum(isinstance(message, BookMessage) for message in received) == 80
    for symbol in (WIN, WDO):
        streamed = [tick.to_trade(0) for tick in ticks if tick.symbol == symbol.ticker]
        assert streamed == stored_trades(app, symbol)
    app.close()
