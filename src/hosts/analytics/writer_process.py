"""The store writer in a process of its own, so store writes never take the tick thread's GIL.

The host numbers every signal and feature batch, keeps it until the writer process
acknowledges it, and sends it over a socket (pickle: both ends are our own code). The writer
process runs a `StoreWriter` on its main thread (signals first in a group commit, feature
batches one transaction each, retries while the store fails) and acknowledges each item once
it is stored, or dropped because the store stayed down too long. `on_stored` runs in the host
on the acknowledgement.

Few thread hand-overs on the way, since each costs a wake-up on a busy box: the tick thread
sends an item itself when nothing older waits and the socket has room (a sender thread takes
over otherwise, and may block); the writer process reads and writes on one thread; a thread of
the host reads the acknowledgements.

If the writer process dies, the host starts a new one and sends again, in order, every item
sent and not acknowledged. Nothing is stored twice: a signal's id is deterministic (a signal
already stored counts as stored) and a `FeatureSeries` leaves out rows of ticks it already
recorded. Model-file saves (`put` of a callable) run on a thread of the host.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import pickle
import queue
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any, Final

from hosts.analytics.trainer_process import (
    helper_main,
    spawn_helper,
    wait_helper,
    yield_to_the_tick_thread,
)
from hosts.analytics.writer import (
    MAX_PENDING_ROWS,
    RETRY_SECONDS,
    FailureHandler,
    FeatureBatch,
    StoreWriter,
    Task,
)
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.signal import Signal

RESTART_SECONDS: Final = 0.2
"""Pause before starting a writer process again after one died (longer each time in a row)."""
MAX_RESTART_SECONDS: Final = 5.0
MAX_IN_FLIGHT_BYTES: Final = 128 * 1024
"""Bytes sent and not acknowledged up to which the tick thread sends itself (well below the
socket's buffer, so its send never blocks); beyond, the sender thread sends."""
Item = Signal | FeatureBatch
Numbered = tuple[int, Item]

_WAKE: Final = "wake"


class StoreFailure(Exception):
    """A store error reported by the writer process (its type and message, as text)."""


class ProcessStoreWriter:
    """The host's side: `put`, `sync` and `close` as `StoreWriter`, the writes in a process."""

    def __init__(
        self,
        store_url: str,
        pipeline_version: str,
        on_stored: Callable[[Signal], None],
        on_failure: FailureHandler,
        *,
        background: bool = False,
    ) -> None:
        """`background=True` when no signal goes through this writer (the `split` mode's
        feature writer): its process then yields the CPU to the host's threads on wake-up
        (`yield_to_the_tick_thread`); a writer that stores signals is on their path and does not."""
        self.store_url = store_url
        self.pipeline_version = pipeline_version
        self.background = background
        self.on_stored = on_stored
        self.on_failure = on_failure
        self.stored_signals = 0
        self.stored_rows = 0
        self.dropped_rows = 0
        self.restarts = 0
        self._failing = 0
        """Restarts since the last acknowledgement."""
        self._pending: dict[int, Item] = {}
        """Every item put and not yet acknowledged, in order."""
        self._sizes: dict[int, int] = {}
        """Bytes of each item sent to the current writer process and not acknowledged."""
        self._in_flight = 0
        self._pending_rows = 0
        self._next = 0
        self._queued = 0
        """Items in the outbox or being sent by the sender thread."""
        self._sent = 0
        """Items numbered below this went to the current writer process."""
        self._outbox: queue.SimpleQueue[Numbered | str | None] = queue.SimpleQueue()
        self._lock = threading.Condition()
        self._sending = threading.Lock()
        """Held while sending; the tick thread never waits for it."""
        self._closing = False
        self._ready = threading.Event()
        self._process: subprocess.Popen[bytes] | None = None
        self._connection: Connection | None = None
        self._reader: threading.Thread | None = None
        self._tasks = ThreadPoolExecutor(1, thread_name_prefix="model-saver")
        self._spawn()
        self._sender = threading.Thread(target=self._send_loop, name="store-sender", daemon=True)
        self._sender.start()

    @property
    def pending(self) -> int:
        """Items put and not acknowledged yet."""
        return len(self._pending)

    @property
    def pid(self) -> int | None:
        """The writer process's id (tests kill it)."""
        return None if self._process is None else self._process.pid

    def put(self, item: Item | Task) -> None:
        """Queue a signal or a feature batch for the store, or run a task on a host thread."""
        if not isinstance(item, Signal | FeatureBatch):
            self._tasks.submit(self._run_task, item)
            return
        with self._lock:
            number = self._next
            self._next += 1
            self._pending[number] = item
            if isinstance(item, FeatureBatch):
                self._pending_rows += len(item.rows)
                if self._pending_rows > MAX_PENDING_ROWS:
                    self._drop_oldest_batches()
        if not self._send_now(number, item):
            with self._lock:
                self._queued += 1
            self._outbox.put((number, item))

    def ready(self, timeout: float = 30.0) -> bool:
        """Wait until a writer process has opened the store; return False on timeout."""
        return self._ready.wait(timeout)

    def sync(self, timeout: float = 30.0) -> bool:
        """Wait until everything put so far is acknowledged; return False on timeout."""
        with self._lock:
            target = self._next
            return self._lock.wait_for(
                lambda: not self._pending or next(iter(self._pending)) >= target, timeout
            )

    def close(self, timeout: float = 30.0) -> None:
        """Store what is pending (up to `timeout`), stop the writer process, run the tasks."""
        if self._closing:
            return
        self.sync(timeout)
        with self._lock:
            self._closing = True
        self._outbox.put(None)
        self._sender.join(timeout)
        if self._process is not None:
            wait_helper(self._process)
        if self._reader is not None:
            self._reader.join(timeout)  # it sees the process's end
        if self._connection is not None:
            self._connection.close()
        self._tasks.shutdown(wait=True)

    # Sending ---------------------------------------------------------------------------------

    def _send_now(self, number: int, item: Item) -> bool:
        """Send from the calling thread if nothing older waits and the socket has room."""
        if self._queued or not self._sending.acquire(blocking=False):
            return False
        try:
            connection = self._connection
            if self._queued or connection is None:
                return False
            data = _dumps([(number, item)])
            with self._lock:
                if self._in_flight + len(data) > MAX_IN_FLIGHT_BYTES:
                    return False
                self._in_flight += len(data)
                self._sizes[number] = len(data)
            try:
                connection.send_bytes(data)
            except OSError:
                return False  # the writer process died: the sender thread restarts it
            self._sent = number + 1
            return True
        finally:
            self._sending.release()

    def _send_loop(self) -> None:
        """Send queued items in order; after a writer process died, start one and re-send."""
        while True:
            items = [self._outbox.get()]
            while True:
                try:
                    items.append(self._outbox.get_nowait())
                except queue.Empty:
                    break
            batch = [item for item in items if isinstance(item, tuple)]
            with self._sending:
                delivered = self._deliver(batch)
                with self._lock:
                    self._queued -= len(batch)
            if delivered and None in items:
                self._stop_process()
                return

    def _deliver(self, batch: list[Numbered]) -> bool:
        """Send `batch` (the sending lock held), restarting a dead writer process first and
        re-sending what it did not acknowledge."""
        while True:
            process, connection = self._process, self._connection
            if process is not None and connection is not None and process.poll() is None:
                with self._lock:
                    batch = [(number, item) for number, item in batch if number in self._pending]
                if not batch:
                    return True
                data = _dumps(batch)
                with self._lock:
                    self._in_flight += len(data)
                    self._sizes[batch[-1][0]] = len(data)
                try:
                    connection.send_bytes(data)
                except OSError:
                    pass  # it died: restart below, then send what it did not acknowledge
                else:
                    self._sent = batch[-1][0] + 1
                    return True
            if process is not None:
                wait_helper(process)
            with self._lock:
                if self._closing:
                    return False  # what is pending stays so (the host logs how many)
                resend = [(n, item) for n, item in self._pending.items() if n < self._sent]
            self.restarts += 1
            self._failing += 1
            self.on_failure(
                "writer",
                StoreFailure(f"writer process exited ({_exit(process)}); restarting"),
                {"resending": len(resend)},
            )
            time.sleep(min(MAX_RESTART_SECONDS, RESTART_SECONDS * self._failing))
            self._spawn()
            batch = resend + [(number, item) for number, item in batch if number >= self._sent]

    def _spawn(self) -> None:
        """Start a writer process and a thread reading its acknowledgements.

        A fresh interpreter (`python -m hosts.analytics.writer_process FD`, see
        `spawn_helper`); the store URL goes over the socket, not the command line (it may hold
        a password).
        """
        process, connection = spawn_helper(__name__)
        if self._connection is not None:
            self._connection.close()  # the dead process's (the sending lock is held)
        connection.send((self.store_url, self.pipeline_version, self.background))
        with self._lock:
            self._in_flight = 0
            self._sizes.clear()
        self._process, self._connection = process, connection
        self._reader = threading.Thread(
            target=self._receive_loop, args=(connection,), name="store-acks", daemon=True
        )
        self._reader.start()

    def _stop_process(self) -> None:
        connection = self._connection
        if connection is not None:
            with contextlib.suppress(OSError):
                connection.send(None)

    # Acknowledgements ------------------------------------------------------------------------

    def _receive_loop(self, connection: Connection) -> None:
        """Apply the writer process's acknowledgements and reports until it exits."""
        while True:
            try:
                message = connection.recv()
            except (EOFError, OSError):
                break
            kind = message[0]
            if kind == "stored":
                self._acknowledged(message[1], stored=True)
            elif kind == "dropped":
                self._acknowledged(message[1], stored=False)
            elif kind == "failure":
                _, what, text, context = message
                self.on_failure(what, StoreFailure(text), context)
            elif kind == "ready":
                self._ready.set()
        with self._lock:
            closing = self._closing
        if not closing:
            self._outbox.put(_WAKE)  # the sender restarts it even when nothing new is queued

    def _acknowledged(self, acknowledged: list[tuple[int, int]], *, stored: bool) -> None:
        signals: list[Signal] = []
        self._failing = 0
        with self._lock:
            for number, rows in acknowledged:
                self._in_flight -= self._sizes.pop(number, 0)
                item = self._pending.pop(number, None)
                if item is None:
                    continue  # dropped meanwhile, or acknowledged before
                if isinstance(item, Signal):
                    self.stored_signals += 1
                    signals.append(item)
                else:
                    self._pending_rows -= len(item.rows)
                    if stored:
                        self.stored_rows += rows
                    else:
                        self.dropped_rows += len(item.rows)
            self._lock.notify_all()
        for signal in signals:
            self.on_stored(signal)

    def _drop_oldest_batches(self) -> None:
        """Drop the oldest pending feature batches beyond the bound (the lock is held)."""
        for number, item in list(self._pending.items()):
            if self._pending_rows <= MAX_PENDING_ROWS:
                break
            if isinstance(item, FeatureBatch):
                del self._pending[number]
                self._pending_rows -= len(item.rows)
                self.dropped_rows += len(item.rows)
                self.on_failure(
                    "features",
                    StoreFailure(f"dropped {len(item.rows)} feature rows: store down too long"),
                    {"symbol": item.symbol.ticker},
                )

    def _run_task(self, task: Task) -> None:
        try:
            task()
        except Exception as error:
            self.on_failure("task", error, {})


class SplitStoreWriter:
    """Signals on a `StoreWriter` thread of the host (one hand-over between the tick and the
    commit), feature batches in a writer process (their encoding off the host's GIL); both
    write to the same store (SQLite's lock orders their transactions)."""

    def __init__(
        self,
        app: TradingApplication,
        store_url: str,
        pipeline_version: str,
        on_stored: Callable[[Signal], None],
        on_failure: FailureHandler,
    ) -> None:
        self.signals = StoreWriter(app, pipeline_version, on_stored, on_failure)
        self.features = ProcessStoreWriter(
            store_url, pipeline_version, on_stored, on_failure, background=True
        )

    @property
    def stored_signals(self) -> int:
        return self.signals.stored_signals

    @property
    def stored_rows(self) -> int:
        return self.features.stored_rows

    @property
    def dropped_rows(self) -> int:
        return self.features.dropped_rows

    @property
    def pending(self) -> int:
        return self.signals.pending + self.features.pending

    def put(self, item: Item | Task) -> None:
        (self.signals if isinstance(item, Signal) else self.features).put(item)

    def ready(self, timeout: float = 30.0) -> bool:
        return self.features.ready(timeout)

    def sync(self, timeout: float = 30.0) -> bool:
        return self.signals.sync(timeout) and self.features.sync(timeout)

    def close(self, timeout: float = 30.0) -> None:
        self.signals.close(timeout)
        self.features.close(timeout)


def _rows(batch: list[Numbered]) -> int:
    return sum(len(item.rows) for _, item in batch if isinstance(item, FeatureBatch))


def _dumps(batch: list[Numbered]) -> bytes:
    return pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)


def _exit(process: subprocess.Popen[bytes] | None) -> str:
    code = None if process is None else process.returncode
    return "not started" if code is None else f"exit code {code}"


# The writer process -------------------------------------------------------------------------


class ConnectionWriter(StoreWriter):
    """A `StoreWriter` fed from the host's socket on the calling thread; acknowledges items."""

    def __init__(self, app: TradingApplication, pipeline_version: str, host: Connection) -> None:
        super().__init__(
            app,
            pipeline_version,
            lambda signal: self._acknowledge("stored", signal, 0),
            self._report,
            on_batch_stored=lambda batch, rows: self._acknowledge("stored", batch, rows),
            on_batch_dropped=lambda batch: self._acknowledge("dropped", batch, 0),
            thread=False,
        )
        self.host = host
        self._received: collections.deque[Item | None] = collections.deque()
        self._numbers: dict[int, int] = {}
        """id() of each item held → the host's number for it."""
        self._host_gone = False
        """EOF seen: the socket stays readable (at EOF) forever, so no more reads."""

    def run(self) -> None:
        """Store what the host sends until it says stop or goes away."""
        self._work()

    def _get(self, timeout: float | None) -> Item | Task | None:
        if not self._received and (self._host_gone or not self.host.poll(timeout)):
            return super()._get_nowait()  # nothing: `_NOTHING`, time to retry
        return self._next()

    def _get_nowait(self) -> Item | Task | None:
        if not self._received and (self._host_gone or not self.host.poll(0)):
            return super()._get_nowait()
        return self._next()

    def _next(self) -> Item | None:
        if not self._received:
            try:
                batch = self.host.recv()
            except (EOFError, OSError):
                batch = None  # the host is gone: store what is here and stop
                self._host_gone = True
            if batch is None:
                self._received.append(None)
            else:
                self.hold(batch)
        return self._received.popleft()

    def hold(self, batch: list[Numbered]) -> None:
        """Take numbered items to store next."""
        for number, item in batch:
            self._numbers[id(item)] = number
            self._received.append(item)

    def _acknowledge(self, kind: str, item: Item, rows: int) -> None:
        number = self._numbers.pop(id(item), None)
        if number is not None:
            self._send((kind, [(number, rows)]))

    def _report(self, what: str, error: BaseException, context: dict[str, object]) -> None:
        self._send(("failure", what, f"{type(error).__name__}: {error}", context))

    def _send(self, message: tuple[Any, ...]) -> None:
        with contextlib.suppress(OSError):  # the host is gone: the reads see it and stop
            self.host.send(message)


def serve(host: Connection) -> None:
    """Run in the writer process: open the store, then store and acknowledge what comes."""
    from adapters.eventstore import open_store, redacted
    from tradingcore.ports.clock import ManualClock

    try:
        store_url, pipeline_version, background = host.recv()
    except (EOFError, OSError):
        return
    if background:
        yield_to_the_tick_thread()
    early: list[Numbered] = []
    """Items received while the store could not be opened (up to a bound)."""
    while True:
        try:
            app = open_store(store_url, ManualClock())
            break
        except Exception as error:  # e.g. PostgreSQL down: keep trying, the host keeps items
            with contextlib.suppress(OSError):
                text = f"{type(error).__name__}: {error}"
                host.send(("failure", "store", text, {"store": redacted(store_url)}))
        deadline = time.monotonic() + RETRY_SECONDS * 2
        while (left := deadline - time.monotonic()) > 0:
            if _rows(early) > MAX_PENDING_ROWS or not host.poll(left):
                time.sleep(max(0.0, deadline - time.monotonic()))
                break
            try:
                batch = host.recv()
            except (EOFError, OSError):
                return  # the host is gone
            if batch is None:
                return  # asked to stop while the store is down (what is pending stays so)
            early.extend(batch)
    writer = ConnectionWriter(app, pipeline_version, host)
    writer.hold(early)
    gc.collect()
    gc.freeze()  # the start-up objects out of the collector's reach: shorter pauses
    writer._send(("ready",))
    try:
        writer.run()
    finally:
        app.close()
        host.close()


if __name__ == "__main__":
    helper_main(serve)
