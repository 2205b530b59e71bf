"""One ProfitDLL session: initialize/finalize, callbacks that only copy and enqueue, a dispatcher.

The DLL is process-wide: one session per process, shared by the feed and the broker. Callbacks run
on the DLL's ConnectorThread; they call only accessors (TranslateTrade, GetOrderDetails,
FreePointer), copy the data into plain records and put them on a SimpleQueue (never blocks).
A dispatcher thread owned by the session folds states and hands records to the consumers, in the
order the DLL produced them. The queue outlives finalize/initialize, so a restart loses nothing.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from adapters.profitdll.binding import Credentials, ProfitDLL
from adapters.profitdll.callbacks import make_callbacks
from adapters.profitdll.connection import ConnectionTracker
from adapters.profitdll.errors import (
    ConnectionTimeout,
    LoginFailed,
    NotInitialized,
    ProfitDLLError,
)
from adapters.profitdll.records import DLLRecord, StateRecord
from tradingcore.ports.market_data import ConnectionState

logger = logging.getLogger(__name__)


class SessionConsumer(Protocol):
    """Receives records and state changes on the session's dispatcher thread."""

    def handle_record(self, record: DLLRecord) -> None: ...

    def handle_state(self, state: ConnectionState) -> None: ...


@dataclass(frozen=True, slots=True)
class _Reset:
    """Forget the services' states (in queue order); `failure` marks a refused start."""

    detail: str
    failure: bool = False


_STOP: Final = object()


class ProfitDLLSession:
    """Owns the DLL's lifecycle, its callbacks, the record queue and the dispatcher thread."""

    def __init__(
        self, library_path: str | Path, credentials: Credentials, *, routing: bool = False
    ) -> None:
        self.library_path = Path(library_path)
        self.credentials = credentials
        self.routing = routing
        self.library: ProfitDLL | None = None
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._consumers: list[SessionConsumer] = []
        self._tracker = ConnectionTracker()
        self._changed = threading.Condition()
        self._lifecycle = threading.RLock()
        self._dispatcher: threading.Thread | None = None
        self._initialized = False
        self._finalizing = False
        self._callbacks: dict[str, Any] = {}
        self._retired_callbacks: list[dict[str, Any]] = []
        self.restarts = 0

    def add_consumer(self, consumer: SessionConsumer) -> None:
        self._consumers.append(consumer)

    @property
    def state(self) -> ConnectionState:
        with self._changed:
            return self._tracker.state

    @property
    def failure(self) -> str | None:
        """Why the DLL refused us (bad credentials, licence, init error), or None."""
        with self._changed:
            return self._tracker.failure

    @property
    def initialized(self) -> bool:
        return self._initialized

    def start(self) -> None:
        """Load the library, start the dispatcher and initialize; idempotent."""
        with self._lifecycle:
            if self._initialized:
                return
            self._start_dispatcher()
            try:
                if self.library is None:
                    self.library = ProfitDLL(self.library_path)
                self._initialize(self.library)
            except ProfitDLLError as error:
                self._set_failure(str(error))
                raise

    def restart(self) -> None:
        """Finalize and initialize again (after a lost connection); queued records are kept."""
        with self._lifecycle:
            self._finalize()
            self.restarts += 1
            if self.library is None:
                self.start()
                return
            try:
                self._initialize(self.library)
            except ProfitDLLError as error:
                self._set_failure(str(error))
                raise

    def stop(self) -> None:
        """Finalize, deliver everything still queued, and stop the dispatcher."""
        with self._lifecycle:
            self._finalize()
            dispatcher = self._dispatcher
            if dispatcher is not None:
                self._queue.put(_STOP)
                dispatcher.join()
                self._dispatcher = None

    def wait_until_connected(
        self, timeout: float, *, routing: bool | None = None
    ) -> ConnectionState:
        """Block until login and market data (and routing) are up; raise if refused or late."""
        need_routing = self.routing if routing is None else routing
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                state = self._tracker.state
                if self._tracker.failure is not None:
                    raise LoginFailed(f"ProfitDLL refused the session: {self._tracker.failure}")
                if state.healthy and (state.routing or not need_routing):
                    return state
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ConnectionTimeout(
                        f"ProfitDLL did not connect within {timeout:g} s; last state: "
                        f"{state.detail}"
                    )
                self._changed.wait(remaining)

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until every record queued so far has been dispatched; False on timeout."""
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def enqueue(self, record: DLLRecord) -> None:
        """Queue a record of our own (e.g. a synchronous rejection) behind the DLL's records."""
        self._queue.put(record)

    # -- lifecycle internals --

    def _initialize(self, library: ProfitDLL) -> None:
        self._finalizing = False
        self._mark(_Reset("initializing"))
        callbacks = make_callbacks(library, self._queue.put, lambda: self._finalizing)
        if self._callbacks:
            self._retired_callbacks.append(self._callbacks)
        self._callbacks = callbacks
        if self.routing:
            library.initialize_routing(self.credentials, callbacks["state"])
        else:
            library.initialize_market(self.credentials, callbacks["state"])
        self._initialized = True
        library.set_callback("SetTradeCallbackV2", callbacks["trade"])
        library.set_callback("SetOfferBookCallbackV2", callbacks["offer_book"])
        library.set_callback("SetInvalidTickerCallback", callbacks["invalid_ticker"])
        if self.routing:
            library.set_callback("SetOrderCallback", callbacks["order"])
            library.set_callback("SetTradingMessageResultCallback", callbacks["trading_message"])

    def _finalize(self) -> None:
        if not self._initialized or self.library is None:
            return
        # States re-emitted during finalization do not mean what they mean at start-up.
        self._finalizing = True
        with contextlib.suppress(NotInitialized):
            self.library.finalize()
        self._initialized = False
        self._mark(_Reset("finalized"))

    def _set_failure(self, detail: str) -> None:
        self._mark(_Reset(detail, failure=True))

    def _mark(self, reset: _Reset) -> None:
        """Reset the state through the queue (after what is already queued) and wait for it,
        so a caller never reads a state older than its own start, restart or failure."""
        self._queue.put(reset)
        if threading.current_thread() is not self._dispatcher:
            self.drain(5.0)

    def _start_dispatcher(self) -> None:
        if self._dispatcher is None:
            self._dispatcher = threading.Thread(
                target=self._dispatch_loop, name="profitdll-dispatcher", daemon=True
            )
            self._dispatcher.start()

    def _dispatch_loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if isinstance(item, threading.Event):
                item.set()
            elif isinstance(item, StateRecord | _Reset):
                self._dispatch_state(item)
            else:
                for consumer in self._consumers:
                    self._safely(consumer.handle_record, item)

    def _dispatch_state(self, item: StateRecord | _Reset) -> None:
        with self._changed:
            if isinstance(item, _Reset):
                reset = self._tracker.fail if item.failure else self._tracker.reset
                state = reset(item.detail)
            else:
                state = self._tracker.apply(item.state_type, item.result)
            self._changed.notify_all()
        for consumer in self._consumers:
            self._safely(consumer.handle_state, state)

    @staticmethod
    def _safely(handler: Callable[[Any], None], argument: Any) -> None:
        try:
            handler(argument)
        except Exception:
            logger.exception("ProfitDLL consumer %r failed; the dispatcher keeps running", handler)
