"""A real WebSocket server on 127.0.0.1 standing in for the analytics host; keeps each message."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve


class Peer:
    """Run a WebSocket server in a thread; `messages` holds what it received, in order."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.messages: list[str] = []
        self.received_ns: list[int] = []
        self.connections = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._stopped: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> Peer:
        self._ready.clear()
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError("the test peer did not start")
        return self

    def stop(self) -> None:
        """Close the server and every connection (the capture host sees the peer go down)."""
        if self._thread is None:
            return
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(5)
        self._thread = None

    def trades(self) -> list[dict[str, Any]]:
        return [m for m in map(json.loads, list(self.messages)) if m["type"] == "trade"]

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """Wait until `count` messages arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return True
            time.sleep(0.01)
        return len(self.messages) >= count

    async def _handle(self, connection: ServerConnection) -> None:
        self.connections += 1
        async for message in connection:
            self.received_ns.append(time.perf_counter_ns())
            self.messages.append(str(message))

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        async with serve(self._handle, "127.0.0.1", self.port, compression=None) as server:
            self._server = server
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stopped.wait()
            server.close()
            await server.wait_closed()
