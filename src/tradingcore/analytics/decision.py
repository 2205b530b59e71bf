"""Signal decisions: thresholds on the model's probabilities, and what a decision records."""

from __future__ import annotations

from dataclasses import dataclass, field

from tradingcore.analytics.config import AnalyticsConfig
from tradingcore.analytics.features import FeatureRow
from tradingcore.analytics.labels import BUY, SELL
from tradingcore.analytics.model import Probabilities
from tradingcore.domain.features import FEATURE_NAMES
from tradingcore.domain.signal import Direction
from tradingcore.domain.values import units_to_price

DIRECTION_CODES = {Direction.BUY: BUY, Direction.SELL: SELL}


def decide(probabilities: Probabilities, config: AnalyticsConfig) -> tuple[Direction, float]:
    """BUY when P(BUY) > the buy threshold, SELL when P(SELL) > the sell threshold, else HOLD.

    The confidence is the chosen side's probability; for HOLD it is the largest probability.
    """
    sell, buy, hold = probabilities
    if buy > config.buy_threshold and buy >= sell:
        return Direction.BUY, buy
    if sell > config.sell_threshold and sell > buy:
        return Direction.SELL, sell
    return Direction.HOLD, max(sell, buy, hold)


@dataclass(frozen=True, slots=True)
class SignalDecision:
    """A change of the model's direction on one tick, with everything that caused it."""

    index: int
    """Position of the tick in the symbol's stream (0-based)."""
    trade_id: int
    timestamp_ms: int
    price_units: int
    direction: Direction
    confidence: float
    features: FeatureRow
    model_version: str

    @property
    def price(self) -> float:
        return float(units_to_price(self.price_units))

    def feature_map(self) -> dict[str, float]:
        return dict(zip(FEATURE_NAMES, self.features, strict=True))

    def key(self) -> tuple[object, ...]:
        """Return every field, for bit-exact comparisons and hashes."""
        return (
            self.index,
            self.trade_id,
            self.timestamp_ms,
            self.price_units,
            self.direction.value,
            self.confidence.hex(),
            tuple(value.hex() for value in self.features),
            self.model_version,
        )


@dataclass(slots=True)
class PipelineStats:
    """Counts a symbol's run keeps: ticks, signals by direction, and signal hits."""

    ticks: int = 0
    signals: dict[str, int] = field(
        default_factory=lambda: {direction.value: 0 for direction in Direction}
    )
    scored: int = 0
    """BUY/SELL signals whose tick has been labelled."""
    hits: int = 0
    """... and whose label was their direction."""

    @property
    def hit_rate(self) -> float | None:
        return self.hits / self.scored if self.scored else None
