"""The wall clock, for live hosts only: the core takes time from whatever clock it is given."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
