"""The store's health as the API sees it, known without waiting on the store.

A background thread asks the store for its last notification id every `interval` seconds. A
probe that fails, or has not answered for `deadline` seconds, marks the store failing; so does a
write that raised. `/health` reads this state (it answers at once, even with the database gone),
and a request that would write is refused with 503 at once while the store is failing, instead
of waiting out the driver's timeouts. A later probe that answers (and, after a failed write, a
probe that sees the store's last notification id move past where it stood at the failure, or
the first probe that answers after an outage) marks it healthy again.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any, Final

import psycopg
from eventsourcing.persistence import PersistenceError
from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

PROBE_INTERVAL: Final = 0.25
PROBE_DEADLINE: Final = 1.0


class StoreHealth:
    """Probe a store in the background; say at once whether it is failing and why."""

    def __init__(
        self,
        probe: Callable[[], int],
        *,
        interval: float = PROBE_INTERVAL,
        deadline: float = PROBE_DEADLINE,
    ) -> None:
        self.probe = probe
        self.interval = interval
        self.deadline = deadline
        self.last_notification_id = 0
        self._probe_error = ""
        self._write_error = ""
        self._failed_at_id = 0
        self._written_id = 0
        """The last notification id this process wrote (a probe may not have seen it yet)."""
        self._probing_since: float | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Probe once now (the host is starting: it reads the store anyway), then go on in the
        background."""
        self._probe_once()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="store-probe", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()  # a probe stuck in the driver is left behind: the thread is a daemon

    def unavailable(self) -> str | None:
        """Return why the store cannot be reached now (writes are refused then), or None."""
        with self._lock:
            since = self._probing_since
            if since is not None and time.monotonic() - since > self.deadline:
                return f"the event store has not answered for {time.monotonic() - since:.1f} s"
            if self._probe_error:
                return f"the event store is failing: {self._probe_error}"
            return None

    def responsive(self) -> bool:
        """True while the store answers its probes promptly: only then may the event loop
        itself touch the store (a read there would stall every request while it waits)."""
        with self._lock:
            since = self._probing_since
            if since is not None and time.monotonic() - since > self.interval:
                return False
            return not self._probe_error

    def failure(self) -> str | None:
        """Return why the store is failing now (unreachable, or its last write failed)."""
        reason = self.unavailable()
        if reason is None and self._write_error:
            reason = f"the last write to the event store failed: {self._write_error}"
        return reason

    def write_failed(self, error: BaseException) -> None:
        with self._lock:
            self._write_error = f"{type(error).__name__}: {error}"
            # Not only what the last probe saw: this process's own writes since then are no
            # sign of recovery (a probe that saw them would take the failure back at once).
            self._failed_at_id = max(self.last_notification_id, self._written_id)

    def written(self, notification_id: int) -> None:
        """Note a write of this process that succeeded, up to this notification id."""
        with self._lock:
            self._written_id = max(self._written_id, notification_id)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._probe_once()

    def _probe_once(self) -> None:
        with self._lock:
            self._probing_since = time.monotonic()
        try:
            last = self.probe()
        except Exception as error:
            with self._lock:
                self._probe_error = f"{type(error).__name__}: {error}".strip()
                self._probing_since = None
        else:
            with self._lock:
                if self._write_error and (last > self._failed_at_id or self._probe_error):
                    # Something was stored since the failure, or the store is back from an
                    # outage that explains it (a write failing for another cause sets it again).
                    self._write_error = ""
                self.last_notification_id = last
                self._probe_error = ""
                self._probing_since = None


STORE_ERRORS: Final = (PersistenceError, sqlite3.Error, psycopg.Error)
"""What a failing store raises (a full disk, a database gone): answered 503, never a bare 500."""


def refuse_while_unavailable(health: StoreHealth) -> None:
    """Raise a 503 at once when the store cannot be reached (a write would only hang)."""
    reason = health.unavailable()
    if reason is not None:
        raise HTTPException(
            status_code=HTTP_503_SERVICE_UNAVAILABLE,
            detail=f"{reason}; nothing was stored, try again later",
        )


def store_error_answer(health: StoreHealth, error: Exception) -> Response[dict[str, Any]]:
    """Answer a request whose store access raised: 503 with the cause; nothing was acked."""
    health.write_failed(error)
    return Response(
        {
            "status_code": HTTP_503_SERVICE_UNAVAILABLE,
            "detail": f"the event store failed ({type(error).__name__}: {error}); "
            "nothing was stored, try again later",
        },
        status_code=HTTP_503_SERVICE_UNAVAILABLE,
    )


def request_store_health(request: Request[Any, Any, Any]) -> StoreHealth:
    health: StoreHealth = request.app.state["host"].store_health
    return health
