"""What a finite capture run (synthetic, recording) tells its user: a progress line on stderr
every few seconds, and a summary that says why trades were refused or not published."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import Final, TextIO

from hosts.capture.service import MALFORMED, STORE_UNAVAILABLE, CaptureService
from tradingcore.domain.tape import (
    BAD_PRICE,
    BAD_TIMESTAMP,
    BAD_TRADE_ID,
    BAD_VOLUME,
    DUPLICATE,
    OUTSIDE_BAND,
    TIME_WENT_BACK,
)
from tradingcore.domain.timestamps import TIMESTAMP_IMPLAUSIBLE

EVERY_S: Final = 2.0
WHY: Final[Mapping[str, str]] = {
    DUPLICATE: "already recorded in this store (their trade ids are there: this store holds "
    "this session already; give another --store: a synthetic session's trade ids are the same "
    "whatever its --seed)",
    TIME_WENT_BACK: "older than the last trade recorded for their session",
    OUTSIDE_BAND: "priced outside the session's price band",
    BAD_PRICE: "with an invalid price",
    BAD_VOLUME: "with an invalid volume",
    BAD_TRADE_ID: "with an invalid trade id",
    BAD_TIMESTAMP: "with an invalid timestamp",
    TIMESTAMP_IMPLAUSIBLE: "stamped implausibly far from the wall clock",
    MALFORMED: "malformed records",
    STORE_UNAVAILABLE: "not admitted: the store could not load their session",
}
"""Why a trade was refused, by rejection code, as the summary says it."""


class Progress:
    """Print a progress line to `out` at most every `every` seconds (`update`)."""

    def __init__(
        self, service: CaptureService, out: TextIO | None = None, every: float = EVERY_S
    ) -> None:
        self.service = service
        self.out = out if out is not None else sys.stderr
        self.every = every
        self.started = time.monotonic()
        self._last = self.started
        self._last_ticks = 0

    def update(self) -> None:
        now = time.monotonic()
        if now - self._last < self.every:
            return
        counts = self.service.counts()
        rate = (counts["ticks_received"] - self._last_ticks) / (now - self._last)
        self._last, self._last_ticks = now, counts["ticks_received"]
        print(progress_line(self.service, rate, now - self.started), file=self.out, flush=True)


def progress_line(service: CaptureService, rate: float, elapsed: float) -> str:
    counts = service.counts()
    publisher = service.publisher.status()
    line = (
        f"capture: {counts['ticks_received']:,} trades in {elapsed:.0f} s ({rate:,.0f}/s); "
        f"recorded {counts['trades_recorded']:,}, published {counts['published']:,}, "
        f"dropped {counts['dropped']:,}"
    )
    if publisher.dropped or publisher.buffered:
        line += f" ({_websocket_state(service)}; {publisher.buffered:,} waiting)"
    rejected = service.rejections()
    if rejected:
        parts = ", ".join(f"{code} {count:,}" for code, count in rejected.most_common())
        line += f"; rejected {sum(rejected.values()):,} ({parts})"
    return line


def summary_lines(service: CaptureService) -> list[str]:
    """The summary's explanations: why trades were refused and ticks not published."""
    lines = [
        f"  {count:,} {WHY.get(code, f'rejected ({code})')}"
        for code, count in service.rejections().most_common()
    ]
    publisher = service.publisher.status()
    if publisher.dropped:
        lines.append(
            f"  {publisher.dropped:,} messages dropped: the WebSocket buffer was full "
            f"({_websocket_state(service)}; raise --buffer to keep more)"
        )
    if publisher.buffered:
        lines.append(
            f"  {publisher.buffered:,} messages never published: {_websocket_state(service)}"
        )
    return lines


def _websocket_state(service: CaptureService) -> str:
    publisher = service.publisher.status()
    if publisher.connected:
        return "the analytics host took them slower than the feed sent them"
    error = f": {publisher.last_error}" if publisher.last_error else ""
    return f"no analytics host connected at {publisher.url}{error}"
