"""Forward signals to the API host (`POST /api/v1/signals`, `X-API-Key`), in order, none lost.

A background thread sends the queue's oldest signals and removes them only once the API has
answered for them: 2xx, or 409 (it already has that signal id). A lone signal goes to
`POST /api/v1/signals`, the spec's contract; when several are waiting (a burst, or a feed
faster than one request per signal) up to `batch_size` of them go in one
`POST /api/v1/signals/batch`, answered per signal, so a busy model is not held to the API's
request rate. Every request uses one kept-alive connection.

While the API is unreachable or answers 429/5xx, the same signals are retried with backoff, so
signals arrive in order (a signal id is deterministic and the API idempotent on it: a resent
signal is answered "already recorded"). The queue is bounded: when it is full the oldest
signal is dropped, counted and reported. A 4xx other than 409/429 means the API refuses that
body: it is dropped, counted and reported, not retried. A batch refused as a whole (one body in
it invalid) is sent again one signal at a time, so only the bad one is refused; an API without
the batch endpoint (404/405) is sent single signals from then on.

Progress marks (`progress`): the host says, after each tick, that it has decided every tick of
the symbol up to it, and how many signals it had handed to its writer by then. A mark goes to
the API once all those signals are delivered: with the batch that delivers the last of them
(`progress` in its body), or, when no signal is waiting, on its own to
`POST /api/v1/signals/progress`, at most every `progress_interval` seconds. The API host then
applies the trades it held for a signal that can no longer come (their paper fills) at once,
not after its `feed_hold`. Marks are advisory: a lost one only delays those trades, so a mark
the API refuses or fails on is not retried, and an API without the endpoint (404/405) is sent
none from then on.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

SIGNALS_PATH: Final = "/api/v1/signals"
BATCH_PATH: Final = "/api/v1/signals/batch"
PROGRESS_PATH: Final = "/api/v1/signals/progress"
PROGRESS_INTERVAL: Final = 0.02
"""Seconds between progress marks sent on their own (the API's own rate-limit bucket)."""
DEFAULT_CAPACITY: Final = 10_000
DEFAULT_BATCH_SIZE: Final = 100
"""The API host takes at most 100 signals a batch (`MAX_SIGNAL_BATCH`)."""
BATCH_BYTES: Final = 48 * 1024
"""A batch's body stays under this (the API host refuses bodies over 64 KiB by default)."""
RETRY_DELAYS: Final = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0)

Report = Callable[[str, dict[str, Any]], None]
"""Called with an event name (`dropped`, `refused`, `failing`, `recovered`) and details."""

Outcome = tuple[str, str]
"""("delivered" | "retry" | "refused", detail) for one signal."""

Marks = dict[str, tuple[int, int]]
"""symbol -> (tick_timestamp_ms, tick_trade_id) of the last tick decided."""


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


class _Retry(Exception):
    """The request did not get an answer to act on: send the same signals again later."""


class SignalForwarder:
    """POST signal bodies to `API_URL/api/v1/signals` from a background thread."""

    def __init__(
        self,
        api_url: str,
        api_key: str,
        *,
        capacity: int = DEFAULT_CAPACITY,
        timeout: float = 10.0,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        batch_size: int = DEFAULT_BATCH_SIZE,
        report: Report | None = None,
        progress_interval: float = PROGRESS_INTERVAL,
    ) -> None:
        if not api_url.startswith(("http://", "https://")):
            raise ValueError(f"API URL {api_url!r}: must start with http:// or https://")
        if batch_size < 1:
            raise ValueError(f"batch size {batch_size}: must be at least 1")
        parts = urllib.parse.urlsplit(api_url.rstrip("/"))
        self.url = parts.geturl() + SIGNALS_PATH
        self._secure = parts.scheme == "https"
        self._netloc = parts.netloc
        self._prefix = parts.path
        self._connection: http.client.HTTPConnection | None = None
        self._headers = {"Content-Type": "application/json", "X-API-Key": api_key}
        self._capacity = capacity
        self._timeout = timeout
        self._delays = retry_delays
        self._batch_size = batch_size
        self._singles = 0
        """Signals still to send one at a time (a refused batch's); batching resumes after."""
        self._report = report or (lambda event, details: None)
        self._queue: deque[dict[str, Any]] = deque()
        self._condition = threading.Condition()
        self._stopping = False
        self._delivered = self._dropped = self._refused = self._failures = 0
        self._submitted = 0
        """Signals submitted so far: the queue holds the last `len(_queue)` of them."""
        self._marks: deque[tuple[int, Marks]] = deque()
        """(signals submitted before it, marks): the newest marks for each count, in order."""
        self._sent_marks: Marks = {}
        self._marking = True
        """False once the API answered that it has no progress endpoint."""
        self._progress_interval = progress_interval
        self._marks_refused = 0
        self._next_mark_at = 0.0
        self._idle = False
        """The thread waits with no mark to send (a new one wakes it)."""
        self._thread = threading.Thread(target=self._work, name="signal-forwarder", daemon=True)
        self._thread.start()

    def submit(self, body: dict[str, Any]) -> None:
        """Queue one signal body; drop (and report) the oldest if the queue is full."""
        with self._condition:
            if len(self._queue) >= self._capacity:
                oldest = self._queue.popleft()
                self._dropped += 1
                self._singles = max(0, self._singles - 1)
                self._report("dropped", {"signal_id": oldest.get("signal_id"), "why": "full"})
            self._queue.append(body)
            self._submitted += 1
            self._condition.notify()

    def progress(self, symbol: str, tick_timestamp_ms: int, tick_trade_id: int, after: int) -> None:
        """Note that every tick of `symbol` up to this one is decided, its signals among the
        first `after` submitted; sent once those are delivered (see the module docstring)."""
        with self._condition:
            if not self._marking:
                return
            marks = self._marks
            if marks and marks[-1][0] == after:
                marks[-1][1][symbol] = (tick_timestamp_ms, tick_trade_id)
            else:
                latest = dict(marks[-1][1] if marks else self._sent_marks)
                latest[symbol] = (tick_timestamp_ms, tick_trade_id)
                marks.append((after, latest))
            # Wake the thread only when it waits for nothing in particular and a mark alone
            # can go (it then sleeps until the mark is due): not on every tick.
            if self._idle and after <= self._submitted and not self._queue:
                self._condition.notify()

    def _eligible_marks(self, delivered: int) -> Marks | None:
        """The newest marks whose signals are among the first `delivered` (older ones are
        dropped: the newer carry them), live (copy to send them); None if none, or nothing
        new since the last sent."""
        marks = self._marks
        while len(marks) > 1 and marks[1][0] <= delivered:
            marks.popleft()
        if not marks or marks[0][0] > delivered or marks[0][1] == self._sent_marks:
            return None
        return marks[0][1]

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
        self._thread.join(timeout + self._timeout * 2)
        if left:
            self._report("undelivered", {"count": left})
        return left

    def _work(self) -> None:
        attempt = 0
        while True:
            marks: Marks | None = None
            with self._condition:
                while not (self._queue or self._stopping):
                    # A mark alone, when one is new and due; else wait (until it is due).
                    eligible = self._eligible_marks(self._submitted) if self._marking else None
                    wait = None if eligible is None else self._next_mark_at - time.monotonic()
                    if eligible is not None and wait is not None and wait <= 0:
                        marks = dict(eligible)
                        break
                    self._idle = wait is None
                    self._condition.wait(wait)
                    self._idle = False
                if self._stopping:
                    self._disconnect()
                    return
                if marks is None:
                    size = 1 if self._singles else self._batch_size
                    bodies = [self._queue[index] for index in range(min(size, len(self._queue)))]
            if marks is not None:
                self._send_marks(marks)
                continue
            encoded = self._encoded(bodies)
            bodies = bodies[: len(encoded)]
            with self._condition:
                if self._marking and not self._singles and self._batch_size > 1:
                    delivered = self._submitted - len(self._queue) + len(bodies)
                    eligible = self._eligible_marks(delivered)
                    marks = dict(eligible) if eligible is not None else None
            try:
                outcomes = self._send(encoded, marks)
            except _Retry as error:
                with self._condition:
                    if not attempt:
                        self._report(
                            "failing",
                            {"error": str(error), "signal_id": bodies[0].get("signal_id")},
                        )
                    self._failures += 1
                    delay = self._delays[min(attempt, len(self._delays) - 1)]
                    attempt += 1
                    self._condition.wait_for(lambda: self._stopping, delay)
                continue
            with self._condition:
                if attempt:
                    self._report("recovered", {"after_attempts": attempt})
                attempt = 0
                if outcomes is None:  # the batch was refused whole: its signals go one by one
                    self._singles = len(bodies)
                    continue
                if marks is not None:
                    self._sent_marks = marks
                for body, (outcome, detail) in zip(bodies, outcomes, strict=True):
                    if self._queue and self._queue[0] is body:
                        self._queue.popleft()
                    if self._singles:
                        self._singles -= 1
                    if outcome == "delivered":
                        self._delivered += 1
                    else:
                        self._refused += 1
                        self._report(
                            "refused", {"error": detail, "signal_id": body.get("signal_id")}
                        )
                self._condition.notify_all()

    def _encoded(self, bodies: list[dict[str, Any]]) -> list[bytes]:
        """The JSON of the first of `bodies` that fit in one batch (at least one)."""
        encoded: list[bytes] = []
        size = 0
        for body in bodies:
            data = json.dumps(body, allow_nan=False).encode()
            size += len(data) + 1
            if encoded and size > BATCH_BYTES:
                break
            encoded.append(data)
        return encoded

    def _send_marks(self, marks: Marks) -> None:
        """Send progress marks on their own; a failure only delays what they would apply."""
        body = json.dumps({"marks": _marks_body(marks)}).encode()
        try:
            status, text = self._post(PROGRESS_PATH, body)
        except _Retry as error:
            status, text = 503, str(error)
        with self._condition:
            self._next_mark_at = time.monotonic() + self._progress_interval
            if status in (404, 405):  # an API without progress marks: send none
                self._marking = False
                self._marks.clear()
                return
            if status == 429 or status >= 500:
                self._next_mark_at += RETRY_DELAYS[0]
                return
            self._sent_marks = marks
        if status >= 300:
            self._marks_refused += 1
            if self._marks_refused in (1, 10, 100) or self._marks_refused % 1_000 == 0:
                # Every 20 ms while the API refuses them: reported at 1, 10, 100, then per 1,000.
                why = f"progress marks: HTTP {status}: {text[:300]}"
                self._report("refused", {"error": why, "times": self._marks_refused})

    def _send(self, bodies: list[bytes], marks: Marks | None = None) -> list[Outcome] | None:
        """Send one signal, or several as a batch (with `marks`, even one); None when the batch
        is refused as a whole."""
        if len(bodies) == 1 and marks is None:
            return [self._single(self._post(SIGNALS_PATH, bodies[0]))]
        tail = b"]}"
        if marks is not None:
            tail = b'],"progress":' + json.dumps(_marks_body(marks)).encode() + b"}"
        status, text = self._post(BATCH_PATH, b'{"signals":[' + b",".join(bodies) + tail)
        if status in (404, 405):  # an API without the batch endpoint
            self._batch_size = 1
            return None
        if status == 429 or status >= 500:
            raise _Retry(f"HTTP {status}")
        if status >= 300:
            return None
        try:
            results = json.loads(text)["results"]
            if len(results) != len(bodies):
                raise ValueError(f"{len(results)} results for {len(bodies)} signals")
            return [
                self._single((int(item["status"]), item.get("error") or "")) for item in results
            ]
        except (ValueError, KeyError, TypeError) as error:
            raise _Retry(f"unreadable batch answer: {error}") from None

    @staticmethod
    def _single(answer: tuple[int, str]) -> Outcome:
        status, text = answer
        if status < 300:
            return "delivered", str(status)
        if status == 409:
            return "delivered", "409 already received"
        if status == 429 or status >= 500:
            raise _Retry(f"HTTP {status}")
        return "refused", f"HTTP {status}: {text[:300]}"

    def _post(self, path: str, data: bytes) -> tuple[int, str]:
        """POST a JSON body on the kept-alive connection; return (status, body text)."""
        for fresh in (False, True):
            connection = self._connect(fresh)
            try:
                connection.request("POST", self._prefix + path, body=data, headers=self._headers)
                response = connection.getresponse()
                return response.status, response.read().decode("utf-8", "replace")
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                # A kept-alive connection the server closed while idle: once more on a new one.
                self._disconnect()
                if fresh:
                    raise _Retry(str(error)) from None
            except (OSError, TimeoutError, http.client.HTTPException) as error:
                self._disconnect()
                raise _Retry(str(error) or type(error).__name__) from None
        raise AssertionError("unreachable")

    def _connect(self, fresh: bool) -> http.client.HTTPConnection:
        if self._connection is None or fresh:
            self._disconnect()
            kind = http.client.HTTPSConnection if self._secure else http.client.HTTPConnection
            self._connection = kind(self._netloc, timeout=self._timeout)
        return self._connection

    def _disconnect(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _marks_body(marks: Marks) -> list[dict[str, Any]]:
    return [
        {"symbol": symbol, "tick_timestamp_ms": timestamp_ms, "tick_trade_id": trade_id}
        for symbol, (timestamp_ms, trade_id) in marks.items()
    ]
