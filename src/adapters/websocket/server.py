"""The analytics host's WebSocket server: validate every message, hand valid ones on in order.

Each message is checked with pydantic (`TickMessage` or `BookMessage`, told apart by `type`);
a bad one is rejected with a reason code, counted and reported, and the connection stays open
so the ticks after it, and other connections, are not disturbed. The server runs its own
asyncio loop in a background thread; the handler is called on that thread, one message at a
time, so messages are processed in arrival order.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Annotated, Final

from pydantic import Field, TypeAdapter, ValidationError
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode

from adapters.websocket.messages import BookMessage, TickMessage

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 9001
MAX_MESSAGE_BYTES: Final = 64 * 1024

Message = TickMessage | BookMessage
MESSAGE: Final[TypeAdapter[Message]] = TypeAdapter(
    Annotated[TickMessage | BookMessage, Field(discriminator="type")]
)

MessageHandler = Callable[[Message, float], None]
"""Called with a valid message and its arrival time (`time.perf_counter()` seconds)."""
RejectHandler = Callable[[str, str, str], None]
"""Called with a reason code, a detail and the start of the raw message."""


class MessageRejected(Exception):
    """Raised by a handler to refuse a well-formed message (unknown symbol, duplicate...)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def parse_message(raw: str | bytes) -> Message:
    """Validate one raw message; raise MessageRejected with a reason code."""
    try:
        return MESSAGE.validate_json(raw)
    except ValidationError as error:
        first = error.errors()[0]
        kind = first["type"]
        if kind == "json_invalid":
            reason = "invalid_json"
        elif kind in ("union_tag_invalid", "union_tag_not_found", "model_attributes_type"):
            reason = "unknown_type"
        else:
            reason = "invalid_message"
        where = ".".join(str(part) for part in first["loc"])
        detail = f"{where}: {first['msg']}" if where else str(first["msg"])
        raise MessageRejected(reason, detail) from None


class TickServer:
    """Serve `ws://HOST:PORT`; port 0 picks a free port (see `port` after `start`)."""

    def __init__(
        self,
        handle: MessageHandler,
        *,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        on_reject: RejectHandler | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        every: tuple[float, Callable[[], None]] | None = None,
    ) -> None:
        """`every=(seconds, callback)` also calls `callback` periodically on the same thread."""
        self._handle = handle
        self._every = every
        self._on_reject = on_reject
        self._on_error = on_error
        self.host = host
        self.port = port
        self.accepted = 0
        self.rejected: Counter[str] = Counter()
        self.connections = 0
        """Connections accepted so far."""
        self.open_connections = 0
        """Connections open now."""
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        """Start listening in a background thread; raise if the port cannot be bound."""
        self._thread = threading.Thread(target=self._run, name="tick-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"tick server on {self.host}:{self.port} did not start")
        if self._failure is not None:
            raise self._failure

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting, close the connections and wait for the thread."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported to start() or to on_error
            self._failure = error
            self._ready.set()
            if self._on_error is not None:
                self._on_error(error)

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server: Server
        async with serve(
            self._connection,
            self.host,
            self.port,
            compression=None,
            max_size=MAX_MESSAGE_BYTES,
        ) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            periodic = asyncio.create_task(self._periodic(*self._every)) if self._every else None
            await self._stop.wait()
            if periodic is not None:
                periodic.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await periodic

    async def _periodic(self, interval: float, callback: Callable[[], None]) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                callback()
            except Exception as error:  # a failing chore must not stop the server
                if self._on_error is not None:
                    self._on_error(error)

    async def _connection(self, connection: ServerConnection) -> None:
        self.connections += 1
        self.open_connections += 1
        try:
            async for raw in connection:
                self.receive(raw, time.perf_counter())
        except ConnectionClosed as closed:
            # websockets closes with 1009 on a frame over max_size: the protocol cannot skip
            # it, so the connection ends, but the message is counted like any other refusal.
            if closed.sent is not None and closed.sent.code == CloseCode.MESSAGE_TOO_BIG:
                self._reject(
                    "message_too_large",
                    f"a message over {MAX_MESSAGE_BYTES} bytes; the connection was closed (1009)",
                    b"",
                )
        finally:
            self.open_connections -= 1

    def receive(self, raw: str | bytes, arrived: float) -> None:
        """Validate and handle one message; never raises."""
        try:
            message = parse_message(raw)
            self._handle(message, arrived)
        except MessageRejected as rejection:
            self._reject(rejection.reason, rejection.detail, raw)
            return
        except Exception as error:  # one bad message must not stop the stream
            self._reject("processing_error", f"{type(error).__name__}: {error}", raw)
            return
        self.accepted += 1

    def _reject(self, reason: str, detail: str, raw: str | bytes) -> None:
        self.rejected[reason] += 1
        if self._on_reject is not None:
            text = raw if isinstance(raw, str) else raw[:200].decode("utf-8", "replace")
            self._on_reject(reason, detail, text[:200])
