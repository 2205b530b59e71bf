"""The feed's connection state machine (login, market data, routing) as the host's health."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from enum import StrEnum

from tradingcore.ports.market_data import ConnectionState


class Phase(StrEnum):
    STARTING = "starting"
    CONNECTED = "connected"
    """Logged in with market data: the host is healthy."""
    LOGGED_IN = "logged_in"
    """Logged in, market data not (yet or any more) connected."""
    DISCONNECTED = "disconnected"


def phase_of(state: ConnectionState) -> Phase:
    if state.healthy:
        return Phase.CONNECTED
    if state.login:
        return Phase.LOGGED_IN
    return Phase.DISCONNECTED


@dataclass(frozen=True, slots=True)
class FeedHealth:
    phase: Phase
    state: ConnectionState | None
    since: float
    """time.monotonic() when the phase began."""
    disconnects: int

    @property
    def healthy(self) -> bool:
        return self.phase is Phase.CONNECTED


class ConnectionMonitor:
    """Track phase changes from the feed's state callbacks; log each transition once."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self._lock = threading.Lock()
        self._health = FeedHealth(Phase.STARTING, None, time.monotonic(), 0)

    def update(self, state: ConnectionState) -> FeedHealth:
        phase = phase_of(state)
        with self._lock:
            before = self._health
            lost = before.phase is Phase.CONNECTED and phase is not Phase.CONNECTED
            since = before.since if phase is before.phase else time.monotonic()
            self._health = FeedHealth(phase, state, since, before.disconnects + int(lost))
            health = self._health
        if phase is not before.phase or state != before.state:
            context = {
                "phase": phase.value,
                "login": state.login,
                "market_data": state.market_data,
                "routing": state.routing,
                "detail": state.detail,
            }
            level = logging.INFO if phase is Phase.CONNECTED else logging.WARNING
            self.logger.log(level, "feed connection %s", phase.value, extra={"context": context})
        return health

    def health(self) -> FeedHealth:
        with self._lock:
            return self._health
