"""Forward signals to the API host (`POST /api/v1/signals`, `X-API-Key`), in order, none lost.

A background thread sends the queue's oldest signal and removes it only once the API has
answered 2xx (or 409: it already has that signal id). While the API is unreachable or answers
429/5xx, the same signal is retried with backoff, so signals arrive in order. The queue is
bounded: when it is full the oldest signal is dropped, counted and reported. A 4xx other than
409/429 means the API refuses that body: it is dropped, counted and reported, not retried.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

SIGNALS_PATH: Final = "/api/v1/signals"
DEFAULT_CAPACITY: Final = 10_000
RETRY_DELAYS: Final = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0)

Report = Callable[[str, dict[str, Any]], None]
"""Called with an event name (`dropped`, `refused`, `failing`, `recovered`) and details."""


@dataclass(frozen=True, slots=True)
class ForwarderStatus:
    queued: int
    delivered: int
    dropped: int
    """Dropped because the queue was full."""
    refused: int
    """Refused by the API (4xx other than 409/429)."""
    failures: int
    """Failed attempts that will be retried."""


class SignalForwarder:
    """POST signal bodies to `API_URL/api/v1/signals` from a background thread."""

    def __init__(
        self,
        api_url: str,
        api_key: str,
        *,
        capacity: int = DEFAULT_CAPACITY,
        timeout: float = 5.0,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        report: Report | None = None,
    ) -> None:
        if not api_url.startswith(("http://", "https://")):
            raise ValueError(f"API URL {api_url!r}: must start with http:// or https://")
        self.url = api_url.rstrip("/") + SIGNALS_PATH
        self._headers = {"Content-Type": "application/json", "X-API-Key": api_key}
        self._capacity = capacity
        self._timeout = timeout
        self._delays = retry_delays
        self._report = report or (lambda event, details: None)
        self._queue: deque[dict[str, Any]] = deque()
        self._condition = threading.Condition()
        self._stopping = False
        self._delivered = self._dropped = self._refused = self._failures = 0
        self._thread = threading.Thread(target=self._work, name="signal-forwarder", daemon=True)
        self._thread.start()

    def submit(self, body: dict[str, Any]) -> None:
        """Queue one signal body; drop (and report) the oldest if the queue is full."""
        with self._condition:
            if len(self._queue) >= self._capacity:
                oldest = self._queue.popleft()
                self._dropped += 1
                self._report("dropped", {"signal_id": oldest.get("signal_id"), "why": "full"})
            self._queue.append(body)
            self._condition.notify()

    def status(self) -> ForwarderStatus:
        with self._condition:
            return ForwarderStatus(
                len(self._queue), self._delivered, self._dropped, self._refused, self._failures
            )

    def flush(self, timeout: float) -> bool:
        """Wait until the queue is empty or `timeout` passes; return True if it emptied."""
        with self._condition:
            return self._condition.wait_for(lambda: not self._queue, timeout)

    def close(self, timeout: float = 5.0) -> int:
        """Try to deliver what is queued for up to `timeout` s, stop; return undelivered count."""
        self.flush(timeout)
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
            left = len(self._queue)
        self._thread.join(timeout + self._timeout)
        if left:
            self._report("undelivered", {"count": left})
        return left

    def _work(self) -> None:
        attempt = 0
        while True:
            with self._condition:
                self._condition.wait_for(lambda: self._queue or self._stopping)
                if self._stopping:
                    return
                body = self._queue[0]
            outcome, detail = self._post(body)
            signal_id = body.get("signal_id")
            with self._condition:
                if outcome == "retry":
                    if not attempt:
                        self._report("failing", {"error": detail, "signal_id": signal_id})
                    self._failures += 1
                    delay = self._delays[min(attempt, len(self._delays) - 1)]
                    attempt += 1
                    self._condition.wait_for(lambda: self._stopping, delay)
                    continue
                if attempt:
                    self._report("recovered", {"after_attempts": attempt})
                attempt = 0
                if self._queue and self._queue[0] is body:
                    self._queue.popleft()
                if outcome == "delivered":
                    self._delivered += 1
                else:
                    self._refused += 1
                    self._report("refused", {"error": detail, "signal_id": signal_id})
                self._condition.notify_all()

    def _post(self, body: dict[str, Any]) -> tuple[str, str]:
        """Send one body; return ("delivered" | "retry" | "refused", detail)."""
        data = json.dumps(body, allow_nan=False).encode()
        request = urllib.request.Request(self.url, data=data, headers=self._headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                response.read()
                return "delivered", str(response.status)
        except urllib.error.HTTPError as error:
            status = error.code
            text = error.read(300).decode("utf-8", "replace")
            error.close()
            if status == 409:
                return "delivered", "409 already received"
            if status == 429 or status >= 500:
                return "retry", f"HTTP {status}"
            return "refused", f"HTTP {status}: {text}"
        except (OSError, TimeoutError) as error:
            return "retry", str(error)
