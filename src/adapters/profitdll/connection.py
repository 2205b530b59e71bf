"""Pure connection-state machine fed by TStateCallback: login, market data, routing, licence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from adapters.profitdll.constants import ACTIVATION, LOGIN, MARKET_DATA, ROUTING, STATE_NAMES
from tradingcore.ports.market_data import ConnectionState

LOGIN_OK: Final = 0
MARKET_CONNECTED: Final = 4
MARKET_PERFORMANCE_WARNING: Final = 5
ROUTING_CONNECTED: Final = frozenset({2, 5})
"""The manual says 2; vendor examples also accept 5 (broker connected): both are usable."""
ACTIVATION_VALID: Final = 0
LOGIN_REFUSED: Final = frozenset({1, 2, 3, 4, 200})


def describe_state(state_type: int, result: int) -> str:
    """Name a state callback's (type, result) pair: `login: LOGIN_INVALID_PASS (...)`."""
    kind, results = STATE_NAMES.get(state_type, (f"state type {state_type}", {}))
    return f"{kind}: {results.get(result, f'result {result}')}"


@dataclass(slots=True)
class ConnectionTracker:
    """Folds state callbacks into a ConnectionState and remembers why a login failed."""

    login: bool = False
    activation: bool = True
    market_data: bool = False
    routing: bool = False
    detail: str = "not started"
    failure: str | None = None
    """Set when the DLL refused the login or the licence: retrying will not help."""

    def apply(self, state_type: int, result: int) -> ConnectionState:
        """Apply one state callback and return the resulting state."""
        self.detail = describe_state(state_type, result)
        if state_type == LOGIN:
            self.login = result == LOGIN_OK
            self.failure = None if self.login else self._refusal(result)
        elif state_type == ACTIVATION:
            self.activation = result == ACTIVATION_VALID
            self.failure = None if self.activation else self.detail
        elif state_type == MARKET_DATA:
            self.market_data = result in (MARKET_CONNECTED, MARKET_PERFORMANCE_WARNING)
        elif state_type == ROUTING:
            self.routing = result in ROUTING_CONNECTED
        return self.state

    def reset(self, detail: str) -> ConnectionState:
        """Forget every service (after finalize, or before a new initialize)."""
        self.login = self.market_data = self.routing = False
        self.activation = True
        self.failure = None
        self.detail = detail
        return self.state

    def fail(self, detail: str) -> ConnectionState:
        """Record an initialization failure (a DLL error or a missing library)."""
        self.reset(detail)
        self.failure = detail
        return self.state

    @property
    def state(self) -> ConnectionState:
        return ConnectionState(
            login=self.login and self.activation,
            market_data=self.market_data,
            routing=self.routing,
            detail=self.detail,
        )

    def _refusal(self, result: int) -> str | None:
        return self.detail if result in LOGIN_REFUSED else None
