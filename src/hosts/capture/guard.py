"""Per-trade admission against a session tape's rules, so one bad trade never sinks a batch.

The rules live in the domain (`TapeAdmission`); this module names them for the capture host.
"""

from __future__ import annotations

from tradingcore.domain.tape import (
    BAD_PRICE,
    BAD_VOLUME,
    DUPLICATE,
    OUTSIDE_BAND,
    TIME_WENT_BACK,
    MarketTape,
    Trade,
    TradeRefusal,
    session_day,
    session_of,
)

Rejection = TradeRefusal
"""Why a record was refused: a short code (a metric label) and a sentence for the log."""

__all__ = [
    "BAD_PRICE",
    "BAD_VOLUME",
    "DUPLICATE",
    "OUTSIDE_BAND",
    "TIME_WENT_BACK",
    "Rejection",
    "SessionGuard",
    "session_day",
    "session_of",
]


class SessionGuard:
    """Admission state of one symbol's session tape, seeded from the tape in the store."""

    def __init__(self, tape: MarketTape) -> None:
        self._admission = tape.admission()

    @property
    def last_timestamp_ms(self) -> int:
        return self._admission.last_timestamp_ms

    def admit(self, trade: Trade, price_units: int) -> Rejection | None:
        """Accept the trade into this session's state, or say why it is refused."""
        return self._admission.admit(trade.trade_id, trade.timestamp_ms, price_units, trade.volume)
