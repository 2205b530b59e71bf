"""The group-commit thread: makes decided orders durable without blocking the event loop."""

from __future__ import annotations

import asyncio
import threading
from contextlib import suppress

from tradingcore.application.broker_reports import GroupCommit, PendingWrite


class Committer:
    """One thread that flushes the order manager's queued writes and wakes their requests.

    Requests decided on the event loop queue their write and await it here; while one
    transaction flushes, the next requests queue up and share the following one. The loop is
    woken once per transaction, not once per order, and never waits for the disk itself.
    """

    def __init__(self, writes: GroupCommit) -> None:
        self.writes = writes
        self._waiting: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = False
        self._kick_pending = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    async def committed(self, write: PendingWrite) -> None:
        """Return once `write` was part of a finished transaction (its error stays on it)."""
        if write.done:
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            self._waiting.append((loop, future))
        if not self._kick_pending:
            # Wake the thread once per loop iteration, not once per request: the requests
            # handled in the same iteration queue their writes first and share a transaction.
            self._kick_pending = True
            loop.call_soon(self._kick)
        await future

    def _kick(self) -> None:
        self._kick_pending = False
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                waiting, self._waiting = self._waiting, []
            # Every waiter queued its write before it registered: this flush covers it. If the
            # flush itself fails, a write left undone is flushed again by its own request.
            with suppress(Exception):
                self.writes.flush()
            _wake_all(waiting)
            if self._stop:
                with self._lock:
                    waiting, self._waiting = self._waiting, []
                _wake_all(waiting)
                return


def _wake_all(waiting: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]]) -> None:
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for loop, future in waiting:
        by_loop.setdefault(loop, []).append(future)
    for loop, futures in by_loop.items():
        try:
            loop.call_soon_threadsafe(_resolve, futures)
        except RuntimeError:  # the loop closed while we committed
            continue


def _resolve(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():
            future.set_result(None)
