"""Plausible times: the range every store and projection holds, and how far ahead a stream may run.

A clock-ordered stream (the capture host's tape admission, the analytics host's ticks, the API's
signal intake) keeps a watermark: a message older than it is refused. One message stamped far in
the future would move that watermark out of reach and blind the stream until it catches up (years,
for a corrupt field). So a message more than `CLOCK_LEAD_TOLERANCE_MS` ahead of the host's wall
clock is refused as `timestamp_implausible` before it can move anything.

The reference is the wall clock, not the stream's own watermark: a recorded replay runs in the
past (always under the wall clock, so never refused), and a watermark-relative bound would refuse
the first trade after a weekend, a holiday or a gap between recordings, then every trade after it.
"""

from __future__ import annotations

from typing import Final

from tradingcore.domain.errors import InvalidTimestamp

MIN_TIMESTAMP_MS: Final = 0
"""1970-01-01T00:00:00Z: no B3 print, signal or order predates the Unix epoch."""
MAX_TIMESTAMP_MS: Final = 253_402_300_799_999
"""9999-12-31T23:59:59.999Z, the last instant Python's `datetime` (and so every projection and
Parquet partition) can hold."""

CLOCK_LEAD_TOLERANCE_MS: Final = 5 * 60_000
"""How far ahead of the host's wall clock a live message may be stamped: clocks of a trading
desk drift by seconds, not minutes; a larger lead is a corrupt or forged message."""

TIMESTAMP_IMPLAUSIBLE: Final = "timestamp_implausible"
"""The reason code (a metric label) of a message refused by `implausible_time`."""


def check_storable_ms(timestamp_ms: int, what: str) -> int:
    """Return `timestamp_ms`, or raise InvalidTimestamp naming `what` when it cannot be stored."""
    if not MIN_TIMESTAMP_MS <= timestamp_ms <= MAX_TIMESTAMP_MS:
        raise InvalidTimestamp(
            f"invalid {what} {timestamp_ms}: must be epoch milliseconds within "
            f"[{MIN_TIMESTAMP_MS}, {MAX_TIMESTAMP_MS}] (1970 to 9999)"
        )
    return timestamp_ms


def implausible_time(
    timestamp_ms: int, wall_clock_ms: int, tolerance_ms: int = CLOCK_LEAD_TOLERANCE_MS
) -> str | None:
    """Return why a live message's time is implausible (a sentence), or None when it is not."""
    if timestamp_ms < MIN_TIMESTAMP_MS or timestamp_ms > MAX_TIMESTAMP_MS:
        return f"timestamp {timestamp_ms} is outside epoch milliseconds 1970 to 9999"
    lead = timestamp_ms - wall_clock_ms
    if lead > tolerance_ms:
        return (
            f"timestamp {timestamp_ms} is {lead / 1000:.0f} s ahead of this host's clock "
            f"({wall_clock_ms}); at most {tolerance_ms / 1000:.0f} s is accepted"
        )
    return None
