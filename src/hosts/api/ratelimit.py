"""Fixed-window rate limits, per client address and per API key, with standard 429 headers."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Final

MAX_TRACKED: Final = 50_000
"""Identities remembered at once; older windows are dropped first (bounded memory)."""


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self, policy_window: float) -> dict[str, str]:
        """Return the RateLimit-* headers (IETF draft) and Retry-After when refused."""
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
            "RateLimit-Policy": f"{self.limit};w={policy_window:g}",
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset_seconds)
        return headers


class FixedWindowLimiter:
    """Allow `limit` requests per `window` seconds per identity; thread-safe."""

    def __init__(self, limit: int, window: float = 1.0) -> None:
        if limit <= 0 or window <= 0:
            raise ValueError(f"invalid rate limit {limit}/{window}s: both must be > 0")
        self.limit = limit
        self.window = window
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, identity: str) -> Verdict:
        now = time.monotonic()
        with self._lock:
            start, count = self._windows.get(identity, (now, 0))
            if now - start >= self.window:
                start, count = now, 0
            count += 1
            self._windows[identity] = (start, count)
            if len(self._windows) > MAX_TRACKED:
                self._forget(now)
        reset = max(1, math.ceil(start + self.window - now))
        allowed = count <= self.limit
        return Verdict(allowed, self.limit, max(0, self.limit - count), reset)

    def _forget(self, now: float) -> None:
        expired = [key for key, (start, _) in self._windows.items() if now - start >= self.window]
        for key in expired:
            del self._windows[key]
        while len(self._windows) > MAX_TRACKED:
            del self._windows[next(iter(self._windows))]
