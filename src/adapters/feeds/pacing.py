"""How fast a replayed source emits: at the recorded pace (scaled), a fixed rate, or flat out."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Pacer(Protocol):
    def wait(self, timestamp_ms: int, stopping: threading.Event) -> None:
        """Block until the record stamped `timestamp_ms` is due (or `stopping` is set)."""
        ...


class AsFastAsPossible:
    """No waiting at all: replay as fast as the listener takes records."""

    def wait(self, timestamp_ms: int, stopping: threading.Event) -> None:
        return None


class RecordedPace:
    """Keep the recorded gaps between records, divided by `speed` (2.0 replays twice as fast)."""

    def __init__(self, speed: float = 1.0) -> None:
        if not speed > 0:
            raise ValueError(f"replay speed {speed} must be > 0 (use --fast for no pacing)")
        self.speed = speed
        self._first_ms: int | None = None
        self._started = 0.0

    def wait(self, timestamp_ms: int, stopping: threading.Event) -> None:
        if self._first_ms is None:
            self._first_ms = timestamp_ms
            self._started = time.monotonic()
            return
        due = self._started + (timestamp_ms - self._first_ms) / 1000 / self.speed
        delay = due - time.monotonic()
        if delay > 0:
            stopping.wait(delay)


class FixedRate:
    """Emit `rate` records per second, whatever their timestamps say (for load tests).

    Gaps under a millisecond are not slept (a sleep overshoots them by far), so at high rates
    records leave in small bursts that keep the average rate.
    """

    def __init__(self, rate: float) -> None:
        if not rate > 0:
            raise ValueError(f"replay rate {rate} must be > 0 records per second")
        self.interval = 1 / rate
        self._start: float | None = None
        self._count = 0

    def wait(self, timestamp_ms: int, stopping: threading.Event) -> None:
        now = time.perf_counter()
        if self._start is None:
            self._start = now
        due = self._start + self._count * self.interval
        self._count += 1
        delay = due - now
        if delay > 0.001:
            stopping.wait(delay)
