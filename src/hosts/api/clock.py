"""The clocks a host may run on: the wall clock (live) or the feed clock (replay, paper)."""

from adapters.clock import FeedClock, SystemClock

__all__ = ["FeedClock", "SystemClock"]
