"""The WebSocket publisher: in-order delivery, drop-oldest buffering and reconnection."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

import pytest

from adapters.websocket import publisher as publisher_module
from adapters.websocket.publisher import WebSocketPublisher
from tests.capture.peer import Peer


class Recorder:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.drops = 0
        self.changes: list[bool] = []

    def messages_sent(self, latencies_ms: Sequence[float]) -> None:
        self.latencies.extend(latencies_ms)

    def message_dropped(self) -> None:
        self.drops += 1

    def connection_changed(self, connected: bool) -> None:
        self.changes.append(connected)


@pytest.fixture
def peer() -> Iterator[Peer]:
    server = Peer().start()
    yield server
    server.stop()


def wait_until(condition: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.01)
    return False


def test_defaults_with_no_options_follow_the_spec() -> None:
    publisher = WebSocketPublisher()
    assert publisher.url == "ws://localhost:9001"
    assert publisher.capacity == 10_000
    assert publisher.retry_interval == 5.0
    assert publisher_module.DEFAULT_CAPACITY == 10_000


def test_publish_with_peer_up_delivers_every_message_in_order(peer: Peer) -> None:
    observer = Recorder()
    publisher = WebSocketPublisher(peer.url, retry_interval=0.1, observer=observer)
    publisher.start()
    try:
        for number in range(2_000):
            publisher.publish(f'{{"n":{number}}}')
        assert peer.wait_for(2_000)
    finally:
        publisher.stop()
    assert peer.messages == [f'{{"n":{number}}}' for number in range(2_000)]
    assert len(observer.latencies) == 2_000
    assert all(latency >= 0 for latency in observer.latencies)
    assert observer.changes[0] is True


def test_publish_with_peer_down_drops_the_oldest_beyond_capacity_and_counts_them() -> None:
    observer = Recorder()
    late_peer = Peer()
    late_peer.start()
    late_peer.stop()  # reserve a port, then leave nothing listening on it
    publisher = WebSocketPublisher(late_peer.url, capacity=5, retry_interval=0.1, observer=observer)
    publisher.start()
    try:
        for number in range(8):
            publisher.publish(str(number))
        status = publisher.status()
        assert (status.connected, status.buffered, status.dropped) == (False, 5, 3)
        assert observer.drops == 3
        peer = Peer(late_peer.port).start()
        try:
            assert peer.wait_for(5)
            assert peer.messages == ["3", "4", "5", "6", "7"]
        finally:
            peer.stop()
    finally:
        publisher.stop()


def test_reconnect_with_peer_restarted_sends_the_buffer_in_order(peer: Peer) -> None:
    observer = Recorder()
    publisher = WebSocketPublisher(peer.url, retry_interval=0.2, observer=observer)
    publisher.start()
    try:
        publisher.publish("before")
        assert peer.wait_for(1)
        port = peer.port
        peer.stop()
        assert wait_until(lambda: not publisher.status().connected)
        for number in range(50):
            publisher.publish(f"while-down-{number}")
        assert publisher.status().buffered == 50
        restarted = Peer(port).start()
        try:
            assert restarted.wait_for(50)
            assert restarted.messages == [f"while-down-{number}" for number in range(50)]
        finally:
            restarted.stop()
    finally:
        publisher.stop()
    assert observer.changes[:3] == [True, False, True]
    assert publisher.status().connections == 2


def test_retry_with_peer_down_waits_the_interval_between_attempts() -> None:
    silent = Peer()
    silent.start()
    silent.stop()
    publisher = WebSocketPublisher(silent.url, retry_interval=0.3)
    publisher.start()
    try:
        time.sleep(0.5)
        status = publisher.status()
        # one attempt at start, one after 0.3 s: a hot loop would have made hundreds
        assert 1 <= status.attempts <= 2
        assert status.connections == 0
        assert "ConnectionRefused" in status.last_error
    finally:
        publisher.stop()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"url": "http://localhost:9001"}, "must start with ws://"),
        ({"capacity": 0}, "capacity 0"),
        ({"retry_interval": 0}, "retry interval 0"),
    ],
)
def test_publisher_with_bad_settings_says_what_is_wrong(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        WebSocketPublisher(**options)  # type: ignore[arg-type]


def test_stop_while_ticks_flow_ends_the_thread_at_once(peer: Peer) -> None:
    for _ in range(5):
        publisher = WebSocketPublisher(peer.url, retry_interval=0.1)
        publisher.start()
        assert wait_until(lambda p=publisher: p.status().connected)
        for number in range(100):  # a trickle: the sender lingers between partial batches
            publisher.publish(str(number))
            time.sleep(0.0002)
        thread = publisher._thread
        publisher.stop(timeout=3)
        assert thread is not None and not thread.is_alive()


def test_peer_closing_right_after_a_send_is_noticed(peer: Peer) -> None:
    publisher = WebSocketPublisher(peer.url, retry_interval=5)
    publisher.start()
    try:
        for number in range(100):
            publisher.publish(str(number))
            time.sleep(0.0002)
        peer.stop()  # closes while the sender lingers for more
        assert wait_until(lambda: not publisher.status().connected, timeout=3)
    finally:
        publisher.stop()
