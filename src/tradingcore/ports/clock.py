"""The clock port: the only source of time for the core (never the wall clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Return the current time as a UTC-aware datetime."""
        ...


class ManualClock:
    """A clock that only moves when told: for replays, backtests and tests."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2025, 1, 2, 12, 0, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError(f"clock start {self._now} must be timezone-aware (UTC)")

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        """Move to `when`; a clock never goes back."""
        if when < self._now:
            raise ValueError(f"clock cannot go back from {self._now} to {when}")
        self._now = when

    def set_epoch_ms(self, timestamp_ms: int) -> None:
        self.set(max(self._now, datetime.fromtimestamp(timestamp_ms / 1000, UTC)))

    def advance(self, delta: timedelta) -> None:
        self.set(self._now + delta)
