"""The Signal aggregate: a model's decision on one tick, with everything behind it."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tradingcore.domain.aggregate import AggregateRoot, DomainEvent
from tradingcore.domain.errors import InvalidSignal
from tradingcore.domain.timestamps import check_storable_ms
from tradingcore.domain.values import Symbol, deterministic_id


class Direction(StrEnum):
    BUY = "BUY"
    SELL = "SELL"
    HOLD = "HOLD"


def signal_id_for(
    model_version: str, symbol: Symbol, trade_id: int, timestamp_ms: int
) -> uuid.UUID:
    """Return a deterministic signal id: a replay of the same tick gives the same id."""
    return deterministic_id("signal", model_version, symbol.full_symbol, trade_id, timestamp_ms)


@dataclass(frozen=True, kw_only=True)
class SignalGenerated(DomainEvent):
    """A model's decision; the tick, features and model version are its cause."""

    symbol: Symbol
    direction: Direction
    confidence: float
    features: dict[str, float]
    model_version: str
    tick_trade_id: int
    tick_timestamp_ms: int
    price: float
    """The tick's price, for hit-rate and P&L attribution."""

    def apply(self, aggregate: Signal) -> None:
        aggregate.symbol = self.symbol
        aggregate.direction = self.direction
        aggregate.confidence = self.confidence
        aggregate.features = dict(self.features)
        aggregate.model_version = self.model_version
        aggregate.tick_trade_id = self.tick_trade_id
        aggregate.tick_timestamp_ms = self.tick_timestamp_ms
        aggregate.price = self.price


class Signal(AggregateRoot[SignalGenerated]):
    def _reset(self) -> None:
        self.symbol = Symbol("WINZ25")
        self.direction = Direction.HOLD
        self.confidence = 0.0
        self.features: dict[str, float] = {}
        self.model_version = ""
        self.tick_trade_id = 0
        self.tick_timestamp_ms = 0
        self.price = 0.0

    @classmethod
    def generate(
        cls,
        *,
        symbol: Symbol,
        direction: Direction,
        confidence: float,
        features: Mapping[str, float],
        model_version: str,
        tick_trade_id: int,
        tick_timestamp_ms: int,
        price: float,
        at: datetime,
    ) -> Signal:
        """Record a decision; confidence in [0, 1] and finite features are required."""
        if not 0.0 <= confidence <= 1.0 or math.isnan(confidence):
            raise InvalidSignal(f"invalid confidence {confidence}: must be within [0, 1]")
        bad = [name for name, value in features.items() if not math.isfinite(value)]
        if bad:
            raise InvalidSignal(f"invalid signal features {bad}: values must be finite")
        if not model_version:
            raise InvalidSignal("invalid signal: the model version is empty")
        check_storable_ms(tick_timestamp_ms, "tick_timestamp_ms")
        signal = cls.__new__(cls)
        AggregateRoot.__init__(
            signal, signal_id_for(model_version, symbol, tick_trade_id, tick_timestamp_ms)
        )
        signal._reset()
        signal._trigger(
            SignalGenerated,
            at,
            symbol=symbol,
            direction=Direction(direction),
            confidence=float(confidence),
            features={k: float(v) for k, v in features.items()},
            model_version=model_version,
            tick_trade_id=tick_trade_id,
            tick_timestamp_ms=tick_timestamp_ms,
            price=float(price),
        )
        return signal
