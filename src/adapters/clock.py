"""Clocks for the hosts: the wall clock (live) and the feed clock (paper on a replayed feed)."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """The `Clock` port on the operating system's clock, always in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class FeedClock:
    """The `Clock` port on a feed's own time: the latest trade applied, for paper trading on
    a synthetic or recorded feed (so freshness, trading hours and order times follow the tape,
    and a replay gives the same result at any speed).

    Before the first trade it reads the Unix epoch: no market data is fresh then, so risk
    denies every order (fail closed). It never goes back.
    """

    def __init__(self) -> None:
        self._now = EPOCH
        self._ms = 0

    def now(self) -> datetime:
        return self._now

    def follow(self, timestamp_ms: int) -> None:
        """Move to a trade's time (epoch milliseconds); an earlier time leaves it as it is."""
        if timestamp_ms > self._ms:
            self._ms = timestamp_ms
            self._now = datetime.fromtimestamp(timestamp_ms / 1000, UTC)
