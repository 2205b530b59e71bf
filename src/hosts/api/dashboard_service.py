"""The dashboard's parts beside the API host: the read model, the peers' health, stream tokens."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Final

from hosts.api.activity import Activity
from hosts.api.auth import Principal
from hosts.api.host import ApiHost
from hosts.api.peers import PeerHealth

TOKEN_SECONDS: Final = 60
"""How long a stream token may open streams; an open stream lives on."""
MAX_TOKENS: Final = 10_000


@dataclass(frozen=True, slots=True)
class _Grant:
    principal: Principal
    expires: float


class StreamTokens:
    """Random short-lived tokens for EventSource, which cannot send the X-API-Key header.

    The key itself never goes into a URL: a POST with the key mints a token, the stream's URL
    carries the token. Several uses within TOKEN_SECONDS are allowed (EventSource reconnects
    with the same URL); after that the page mints a new one.
    """

    def __init__(self, seconds: float = TOKEN_SECONDS) -> None:
        self.seconds = seconds
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()

    def mint(self, principal: Principal) -> str:
        token = secrets.token_urlsafe(24)
        now = time.monotonic()
        with self._lock:
            if len(self._grants) >= MAX_TOKENS:
                self._grants = {k: g for k, g in self._grants.items() if g.expires > now}
                while len(self._grants) >= MAX_TOKENS:
                    del self._grants[next(iter(self._grants))]
            self._grants[token] = _Grant(principal, now + self.seconds)
        return token

    def redeem(self, token: str) -> Principal | None:
        with self._lock:
            grant = self._grants.get(token)
            if grant is None:
                return None
            if grant.expires <= time.monotonic():
                del self._grants[token]
                return None
            return grant.principal


class DashboardService:
    """Started after the host (it reads the host's store) and stopped before it."""

    def __init__(self, host: ApiHost) -> None:
        self.host = host
        self.activity = Activity(host.app, host.logger, history=host.config.history)
        self.peers = PeerHealth(
            {
                "capture": host.config.capture_health_url,
                "analytics": host.config.analytics_health_url,
            },
            host.config.supervisor_state,
        )
        self.tokens = StreamTokens()
        self.stopping = False

    def start(self) -> None:
        self.activity.start()
        self.peers.start()

    def stop(self) -> None:
        self.stopping = True
        self.activity.stop()
        self.peers.stop()
