"""The five features of spec 5.2, updated in O(1) per tick and lagged one tick.

Row i describes the ticks before tick i (and the book as it stood when tick i arrived), so
nothing in it depends on tick i or later. Window sums are exact integers (prices in units of
1/PRICE_SCALE, centred on the first price seen); each feature is then a fixed sequence of
IEEE operations that `vectorized.compute_features` repeats element-wise, so both paths give
bit-identical values.
"""

from __future__ import annotations

import math
from typing import Final

from tradingcore.domain.values import PRICE_SCALE

NAN: Final = math.nan
AGGRESSOR_SIGNS: Final = {"B": 1, "S": -1, "N": 0}

FeatureRow = tuple[float, float, float, float, float]


class IncrementalFeatures:
    """Rolling-window features of one symbol's tick stream; plain Python for speed."""

    __slots__ = (
        "_count",
        "_deviations",
        "_flows",
        "_last_volume",
        "_momentum_lag",
        "_prices",
        "_reference",
        "_sum_deviation",
        "_sum_flow",
        "_sum_square",
        "_sum_volume",
        "_volumes",
        "_window",
    )

    def __init__(self, window: int = 100, momentum_lag: int = 10) -> None:
        self._window = window
        self._momentum_lag = momentum_lag
        self._count = 0
        self._reference = 0
        self._deviations = [0] * window
        self._volumes = [0] * window
        self._flows = [0] * window
        self._prices = [0] * (momentum_lag + 1)
        self._sum_deviation = 0
        self._sum_square = 0
        self._sum_volume = 0
        self._sum_flow = 0
        self._last_volume = 0

    @property
    def count(self) -> int:
        """Ticks pushed so far."""
        return self._count

    def row(self, book_delta: float) -> FeatureRow:
        """Return the features of the next tick: computed from the ticks pushed so far."""
        count = self._count
        window = self._window
        if count >= window:
            flow = float(self._sum_flow)
            mean = float(self._sum_deviation) / window
            variance = float(self._sum_square) / window - mean * mean
            volatility = math.sqrt(variance if variance > 0.0 else 0.0) / PRICE_SCALE
            anomaly = float(self._last_volume * window) / float(self._sum_volume)
        else:
            flow = volatility = anomaly = NAN
        lag = self._momentum_lag
        if count > lag:
            prices = self._prices
            size = lag + 1
            old = prices[(count - 1 - lag) % size]
            momentum = float(prices[(count - 1) % size] - old) / float(old)
        else:
            momentum = NAN
        return (flow, volatility, anomaly, float(book_delta), momentum)

    def push(self, price_units: int, volume: int, aggressor_sign: int) -> None:
        """Add one tick (price in integer units, aggressor sign +1 buyer, -1 seller, 0 none)."""
        count = self._count
        if count == 0:
            self._reference = price_units
        deviation = price_units - self._reference
        flow = volume * aggressor_sign
        slot = count % self._window
        if count >= self._window:
            old = self._deviations[slot]
            self._sum_deviation -= old
            self._sum_square -= old * old
            self._sum_volume -= self._volumes[slot]
            self._sum_flow -= self._flows[slot]
        self._deviations[slot] = deviation
        self._volumes[slot] = volume
        self._flows[slot] = flow
        self._sum_deviation += deviation
        self._sum_square += deviation * deviation
        self._sum_volume += volume
        self._sum_flow += flow
        self._prices[count % (self._momentum_lag + 1)] = price_units
        self._last_volume = volume
        self._count = count + 1
