"""The wall clock adapter, for live hosts only: replays and backtests use the core's ManualClock."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """The `Clock` port on the operating system's clock, always in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)
