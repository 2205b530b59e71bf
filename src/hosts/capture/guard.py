"""Per-trade admission against a session tape's rules, so one bad trade never sinks a batch.

`MarketTape.record` validates a whole batch and refuses all of it for one bad row. The capture
host checks each trade first with the same rules (unique id in the session, time never going
back, price inside the band, positive volume) and keeps the good ones; the tape still checks
every batch it records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final

from tradingcore.domain.tape import MarketTape, Trade
from tradingcore.domain.values import price_to_units, units_to_price

DUPLICATE: Final = "duplicate_trade_id"
TIME_WENT_BACK: Final = "timestamp_before_previous"
OUTSIDE_BAND: Final = "price_outside_band"
BAD_PRICE: Final = "invalid_price"
BAD_VOLUME: Final = "invalid_volume"


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a record was refused: a short code (a metric label) and a sentence for the log."""

    code: str
    message: str


BRASILIA_OFFSET_MS: Final = -3 * 3_600_000
"""Brasília is UTC-3 all year (no daylight saving time since 2019)."""
DAY_MS: Final = 86_400_000
EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()


def session_day(timestamp_ms: int) -> int:
    """Return the Brasília day number (days since 1970-01-01) of a UTC epoch-ms time: cheap."""
    return (timestamp_ms + BRASILIA_OFFSET_MS) // DAY_MS


def session_of(timestamp_ms: int) -> date:
    """Return the B3 session a trade belongs to: its date in Brasília time."""
    return date.fromordinal(EPOCH_ORDINAL + session_day(timestamp_ms))


class SessionGuard:
    """Admission state of one symbol's session tape, seeded from the tape in the store."""

    def __init__(self, tape: MarketTape) -> None:
        self.ticker = tape.symbol.ticker
        self.seen_trade_ids: set[int] = set(tape.seen_trade_ids)
        self.last_timestamp_ms = tape.last_timestamp_ms
        self.band_fraction: Decimal | None = tape.band_fraction
        self.low = 1
        self.high = 2**62
        if tape.reference_price is not None:
            self._centre(price_to_units(tape.reference_price))
        self._has_reference = tape.reference_price is not None or self.band_fraction is None

    def admit(self, trade: Trade, price_units: int) -> Rejection | None:
        """Accept the trade into this session's state, or say why it is refused."""
        trade_id = trade.trade_id
        if trade_id in self.seen_trade_ids:
            return self._refuse(trade, DUPLICATE, "duplicate trade id in this session")
        if trade.timestamp_ms < self.last_timestamp_ms:
            return self._refuse(
                trade,
                TIME_WENT_BACK,
                f"timestamp {trade.timestamp_ms} is before the previous trade's "
                f"{self.last_timestamp_ms}",
            )
        if price_units <= 0:
            return self._refuse(trade, BAD_PRICE, f"price {trade.price} must be > 0")
        if trade.volume <= 0:
            return self._refuse(trade, BAD_VOLUME, f"volume {trade.volume} must be > 0")
        if not self._has_reference:
            self._centre(price_units)  # the session's first trade sets the band, as on the tape
            self._has_reference = True
        if not self.low <= price_units <= self.high:
            return self._refuse(
                trade,
                OUTSIDE_BAND,
                f"price {trade.price} outside the band "
                f"[{units_to_price(self.low)}, {units_to_price(self.high)}]",
            )
        self.seen_trade_ids.add(trade_id)
        self.last_timestamp_ms = trade.timestamp_ms
        return None

    def _centre(self, centre: int) -> None:
        if self.band_fraction is None:
            return
        width = int(centre * self.band_fraction)
        self.low, self.high = centre - width, centre + width

    def _refuse(self, trade: Trade, code: str, why: str) -> Rejection:
        return Rejection(code, f"invalid trade {trade.trade_id} ({self.ticker}): {why}")
