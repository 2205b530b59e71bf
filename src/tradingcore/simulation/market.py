"""A seeded synthetic B3 session: WIN-like prices on the tick grid, bursts, both aggressors."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

from tradingcore.domain.book import BookTop
from tradingcore.domain.instruments import Instrument, infer_instrument
from tradingcore.domain.tape import Trade
from tradingcore.domain.values import Aggressor, Symbol

WIN = Symbol("WINZ25")
BRASILIA = timezone(timedelta(hours=-3))
"""B3's local time: UTC-3 (Brazil has had no daylight saving time since 2019)."""


REGIME_TRADES = 500
"""Trades per momentum regime: each regime draws a new drift."""
MAX_DRIFT = 0.15
"""Largest drift of a regime drawn at the opening price (up-probability 0.5 +- this)."""
PULL_TICKS = 200
"""Displacement from the opening price, in ticks, at which the pull back towards it equals
MAX_DRIFT: a regime drawn that far above the open always drifts down, and vice versa."""


def regime_drift(draw: float, displacement_ticks: Decimal) -> float:
    """Return a regime's drift: the draw, pulled back towards the session's opening price.

    Independent draws alone make the session a random walk of regimes: it trends by about
    +-450 ticks over 30,000 trades, so one direction dominates the day's labels and the model's
    prior never lets the other reach its threshold. The pull keeps regimes going both ways
    around the open (no built-in drift), as an intraday market does around its fair value.
    """
    pull = max(-1.0, min(1.0, float(displacement_ticks) / PULL_TICKS)) * MAX_DRIFT
    return draw - pull


@dataclass(frozen=True, slots=True)
class MarketEvent:
    """One step of the synthetic market: a trade, with the book as it stood before it."""

    trade: Trade
    book: BookTop


def session_open_ms(session: date) -> int:
    """Return 09:00 Brasília on the session date as UTC epoch milliseconds."""
    opening = datetime.combine(session, time(9, 0), tzinfo=BRASILIA)
    return int(opening.astimezone(UTC).timestamp() * 1000)


def synthetic_session(
    symbol: Symbol = WIN,
    *,
    seed: int = 7,
    session: date = date(2025, 12, 1),
    trades: int = 20_000,
    start_price: Decimal = Decimal(127_850),
    instrument: Instrument | None = None,
) -> Iterator[MarketEvent]:
    """Yield a reproducible stream of trades and book tops; the same seed, the same stream.

    Prices move on the instrument's tick grid as a random walk with momentum regimes, trades
    arrive in bursts (many in one millisecond, as B3 prints them), aggressors follow the drift,
    and the first prints of the session are an opening auction with no aggressor.
    """
    spec = instrument or infer_instrument(symbol)
    rng = random.Random(seed)
    tick = spec.tick_size
    price = (start_price / tick).to_integral_value() * tick
    timestamp = session_open_ms(session)
    opening = price
    drift = 0.0
    trade_id = 0
    auction = rng.randint(5, 20)
    bid_qty, ask_qty = rng.randint(5, 60), rng.randint(5, 60)
    for index in range(trades):
        if index % REGIME_TRADES == 0:
            drift = regime_drift(rng.uniform(-MAX_DRIFT, MAX_DRIFT), (price - opening) / tick)
        if index >= auction:
            timestamp += 0 if rng.random() < 0.35 else int(rng.expovariate(1 / 40)) + 1
        book = BookTop(symbol, timestamp, price - tick, bid_qty, price, ask_qty)
        up = rng.random() < 0.5 + drift
        if index < auction:
            aggressor = Aggressor.NONE
        else:
            aggressor = Aggressor.BUY if up else Aggressor.SELL
            step = rng.choice((0, 0, 0, 1, 1, 2))
            price += tick * step * (1 if up else -1)
            price = max(price, tick)
        volume = max(1, int(rng.paretovariate(1.6)))
        trade_id += 10
        yield MarketEvent(
            Trade(symbol, trade_id, timestamp, price, volume, aggressor),
            book,
        )
        bid_qty = max(1, bid_qty + rng.randint(-6, 6))
        ask_qty = max(1, ask_qty + rng.randint(-6, 6))
