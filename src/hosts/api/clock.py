"""The wall clock, for live hosts only: the core takes time from whatever clock it is given."""

from adapters.clock import SystemClock

__all__ = ["SystemClock"]
