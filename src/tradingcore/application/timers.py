"""When a strategy's timer fires on a feed's own time: one rule for the backtest and the API.

The first interval starts at the first trade the strategy is shown; before each later trade,
every interval that ends at or before the trade's time fires, once, in order, with the clock
at the end of the interval. The trade itself then follows. A gap in the tape (a night, a
halt) fires every interval inside it, as the wall clock would have.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta


class TimerSchedule:
    """The due times (epoch ms) of one strategy's timer on the trades it is shown."""

    def __init__(self, interval: timedelta) -> None:
        self.every_ms = max(int(interval / timedelta(milliseconds=1)), 1)
        self.next_ms: int | None = None
        """The end of the running interval; None before the first trade."""

    def due_through(self, timestamp_ms: int) -> Iterator[int]:
        """Yield the end of every interval that ends at or before `timestamp_ms`, advancing
        the schedule as each is taken; the first call only starts the first interval."""
        if self.next_ms is None:
            self.next_ms = timestamp_ms + self.every_ms
            return
        while self.next_ms <= timestamp_ms:
            due = self.next_ms
            self.next_ms = due + self.every_ms
            yield due
