"""A WebSocket client that publishes ticks to a peer, buffering FIFO while the peer is down.

The capture host connects to the analytics host's server (spec 6.1: `ws://localhost:9001`,
a 10,000-message FIFO buffer, reconnection every 5 s). The publisher runs its own asyncio loop
in a background thread so feed callbacks only append to a buffer and never block. Beyond the
cap the oldest message is dropped and counted. websockets' own reconnect iterator retries at
once after a dropped session and backs off randomly after failures, so this class runs its own
loop: one attempt, then a fixed `retry_interval` pause after every failure or drop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final
from typing import Protocol as Interface

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.protocol import Protocol, State

from adapters.websocket.frames import masked_text_frames

DEFAULT_URL: Final = "ws://localhost:9001"
DEFAULT_CAPACITY: Final = 10_000
DEFAULT_RETRY_INTERVAL: Final = 5.0
SEND_BATCH: Final = 256
"""Most messages written to the socket in one go (one frame each, one write call)."""
LINGER: Final = 0.0005
"""Seconds to let messages gather after a partial batch while ticks are flowing."""


class PublisherObserver(Interface):
    """What the publisher reports: latency of each sent message, drops, connection changes."""

    def messages_sent(self, latencies_ms: Sequence[float]) -> None: ...

    def message_dropped(self) -> None: ...

    def connection_changed(self, connected: bool) -> None: ...


class _NoObserver:
    def messages_sent(self, latencies_ms: Sequence[float]) -> None:
        pass

    def message_dropped(self) -> None:
        pass

    def connection_changed(self, connected: bool) -> None:
        pass


@dataclass(frozen=True, slots=True)
class PublisherStatus:
    url: str
    connected: bool
    buffered: int
    sent: int
    dropped: int
    connections: int
    attempts: int
    last_error: str


class WebSocketPublisher:
    """Send text messages in order to one WebSocket peer; buffer and retry while it is down."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        capacity: int = DEFAULT_CAPACITY,
        retry_interval: float = DEFAULT_RETRY_INTERVAL,
        observer: PublisherObserver | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        if capacity < 1:
            raise ValueError(f"publisher capacity {capacity} must be at least 1 message")
        if retry_interval <= 0:
            raise ValueError(f"publisher retry interval {retry_interval} must be > 0 seconds")
        if not url.startswith(("ws://", "wss://")):
            raise ValueError(f"WebSocket URL {url!r} must start with ws:// or wss://")
        self.url = url
        self.capacity = capacity
        self.retry_interval = retry_interval
        self.observer: PublisherObserver = observer or _NoObserver()
        self.logger = logger or logging.getLogger("tradingcore.websocket")
        # Each entry: (message, perf_counter_ns when its tick was received).
        self._buffer: deque[tuple[str, int]] = deque()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None
        self._wakeup_pending = False
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._started = threading.Event()
        self._connected = False
        self._sent = 0
        self._dropped = 0
        self._connections = 0
        self._attempts = 0
        self._last_error = ""

    # Any thread ----------------------------------------------------------------------------

    def publish(self, message: str, received_ns: int | None = None) -> None:
        """Queue one message; when the buffer is full, the oldest queued message is dropped."""
        stamp = time.perf_counter_ns() if received_ns is None else received_ns
        with self._lock:
            dropped = len(self._buffer) >= self.capacity
            if dropped:
                self._buffer.popleft()
                self._dropped += 1
            self._buffer.append((message, stamp))
            wake = not self._wakeup_pending and self._loop is not None
            if wake:
                self._wakeup_pending = True
        if dropped:
            self.observer.message_dropped()
        if wake:
            self._wake()

    def status(self) -> PublisherStatus:
        with self._lock:
            return PublisherStatus(
                self.url,
                self._connected,
                len(self._buffer),
                self._sent,
                self._dropped,
                self._connections,
                self._attempts,
                self._last_error,
            )

    def start(self) -> None:
        """Start the background thread that connects and sends."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="ws-publisher", daemon=True)
        self._thread.start()
        self._started.wait(5)

    def flush(self, timeout: float) -> bool:
        """Wait until the buffer is empty (all sent) or `timeout` seconds pass; True if empty."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._buffer:
                    return True
            time.sleep(0.01)
        with self._lock:
            return not self._buffer

    def stop(self, timeout: float = 5.0) -> None:
        """Close the connection and stop the thread; messages still buffered stay unsent."""
        self._stopping.set()
        loop, thread = self._loop, self._thread
        if loop is not None and self._wakeup is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._wakeup.set)
        if thread is not None:
            thread.join(timeout)
        self._thread = None

    def _wake(self) -> None:
        loop, wakeup = self._loop, self._wakeup
        if loop is None or wakeup is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop closed while stopping
            loop.call_soon_threadsafe(wakeup.set)

    # The publisher's own thread --------------------------------------------------------------

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._wakeup = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        with self._lock:
            self._wakeup_pending = bool(self._buffer)
        self._started.set()
        while not self._stopping.is_set():
            with self._lock:
                self._attempts += 1
            try:
                async with connect(
                    self.url, compression=None, open_timeout=self.retry_interval
                ) as connection:
                    self._set_connected(True)
                    await self._send_until_closed(connection)
            except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed) as error:
                self._note_error(error)
            except InvalidURI as error:
                self._note_error(error)
                self.logger.error("publisher stopped: %s", error)
                return
            finally:
                self._set_connected(False)
            if not self._stopping.is_set():
                await self._pause(self.retry_interval)

    async def _send_until_closed(self, connection: ClientConnection) -> None:
        assert self._wakeup is not None
        # An idle sender would only notice a closed peer at its next send: watch for it.
        watcher = asyncio.create_task(self._watch(connection))
        try:
            await self._send_loop(connection)
        finally:
            watcher.cancel()

    async def _watch(self, connection: ClientConnection) -> None:
        # Read (and ignore) whatever the peer sends: unread messages would fill the receive
        # queue, pause reading, and leave its pings unanswered until it drops us.
        with contextlib.suppress(ConnectionClosed):
            async for _ in connection:
                pass
        assert self._wakeup is not None
        self._wakeup.set()

    async def _send_loop(self, connection: ClientConnection) -> None:
        assert self._wakeup is not None
        flowing = False
        while not self._stopping.is_set():
            if _closed(connection):
                return
            if flowing:
                # While ticks flow, poll every LINGER s instead of being woken per message:
                # each cross-thread wake-up costs more than framing a whole batch.
                await asyncio.sleep(LINGER)
            items = self._take()
            flowing = bool(items) and len(items) < SEND_BATCH
            if not items:
                self._wakeup.clear()
                # stop() or the closed-peer watcher may have set the event just cleared.
                if self._stopping.is_set() or _closed(connection):
                    break
                with self._lock:
                    self._wakeup_pending = False
                    if self._buffer:
                        self._wakeup_pending = True
                        continue
                await self._wakeup.wait()
                continue
            try:
                # One frame per message, one socket write per batch: `send()` per message
                # costs a write and an await each, which caps a connection near 20k msgs/s.
                async with connection.send_context():
                    _queue_frames(connection.protocol, [message for message, _ in items])
            except ConnectionClosed:
                # Send them first after the reconnect: order is kept. Some may have reached
                # the peer before the drop, so the batch in flight is delivered at least once.
                self._requeue(items)
                raise
            now = time.perf_counter_ns()
            with self._lock:
                self._sent += len(items)
            self.observer.messages_sent([(now - received_ns) / 1e6 for _, received_ns in items])
        await connection.close()

    def _take(self) -> list[tuple[str, int]]:
        with self._lock:
            buffer = self._buffer
            count = min(len(buffer), SEND_BATCH)
            return [buffer.popleft() for _ in range(count)]

    def _requeue(self, items: list[tuple[str, int]]) -> None:
        with self._lock:
            room = self.capacity - len(self._buffer)
            # The buffer may have filled meanwhile: these are the oldest, so they go first.
            dropped = max(0, len(items) - room)
            self._dropped += dropped
            self._buffer.extendleft(reversed(items[dropped:]))
        for _ in range(dropped):
            self.observer.message_dropped()

    async def _pause(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stopping.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(min(0.05, seconds))

    def _set_connected(self, connected: bool) -> None:
        with self._lock:
            changed = self._connected != connected
            self._connected = connected
            if connected:
                self._connections += 1
        if changed:
            self.observer.connection_changed(connected)
            if connected:
                self.logger.info("WebSocket peer connected", extra={"context": {"url": self.url}})
            else:
                self.logger.warning(
                    "WebSocket peer disconnected; buffering and retrying",
                    extra={"context": {"url": self.url, "retry_interval_s": self.retry_interval}},
                )

    def _note_error(self, error: BaseException) -> None:
        text = f"{type(error).__name__}: {error}"
        with self._lock:
            repeated = text == self._last_error
            self._last_error = text
        if not repeated:
            self.logger.warning(
                "WebSocket peer unreachable",
                extra={"context": {"url": self.url, "error": text}},
            )


def _closed(connection: ClientConnection) -> bool:
    return connection.state is State.CLOSED


def _queue_frames(protocol: Protocol, messages: list[str]) -> None:
    """Queue the messages' frames as one socket write (asyncio sends each queued chunk with
    its own syscall); with an extension negotiated, let websockets frame them."""
    if protocol.extensions:
        for message in messages:
            protocol.send_text(message.encode())
        return
    protocol.writes.append(masked_text_frames([message.encode() for message in messages]))
