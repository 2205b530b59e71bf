"""Two small strategies that ship as examples: a moving-average cross and a volume breakout."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from tradingcore.domain.tape import Trade
from tradingcore.domain.values import Symbol, price_to_units
from tradingcore.strategy.columnar import NO_OPINION
from tradingcore.strategy.policy import TargetStrategy


class _Window:
    """A rolling sum of the last `size` integer values (exact: no float drift)."""

    __slots__ = ("size", "total", "values")

    def __init__(self, size: int) -> None:
        self.size = size
        self.values: deque[int] = deque()
        self.total = 0

    def push(self, value: int) -> bool:
        """Add a value; return True once the window is full."""
        self.values.append(value)
        self.total += value
        if len(self.values) > self.size:
            self.total -= self.values.popleft()
        return len(self.values) == self.size


class MovingAverageCross(TargetStrategy):
    """Long `quantity` while the fast mean price is above the slow one, short while below.

    Means are compared exactly on integer price units (fast_sum × slow > slow_sum × fast), so
    the event-by-event path and the columnar `targets` agree bit for bit. Equal means keep
    the previous target.
    """

    def __init__(self, fast: int = 20, slow: int = 100, quantity: int = 1) -> None:
        super().__init__()
        if not 0 < fast < slow:
            raise ValueError(f"invalid windows fast={fast} slow={slow}: need 0 < fast < slow")
        self.strategy_id = f"ma-cross-{fast}-{slow}"
        self.fast, self.slow, self.quantity = fast, slow, quantity
        self._windows: dict[Symbol, tuple[_Window, _Window]] = {}
        self._last: dict[Symbol, int] = {}

    def target_after(self, trade: Trade) -> int | None:
        windows = self._windows.get(trade.symbol)
        if windows is None:
            windows = self._windows[trade.symbol] = (_Window(self.fast), _Window(self.slow))
        units = price_to_units(trade.price)
        windows[0].push(units)
        if not windows[1].push(units):
            return None
        difference = windows[0].total * self.slow - windows[1].total * self.fast
        if difference == 0:
            return self._last.get(trade.symbol)
        target = self.quantity if difference > 0 else -self.quantity
        self._last[trade.symbol] = target
        return target

    def targets(self, price_units: np.ndarray[Any, np.dtype[np.int64]]) -> np.ndarray[Any, Any]:
        """Return the target after each trade of one symbol (NO_OPINION before warm-up)."""
        count = len(price_units)
        out = np.full(count, NO_OPINION, dtype=np.int64)
        if count < self.slow:
            return out
        sums = np.concatenate(([0], np.cumsum(price_units, dtype=np.int64)))
        ends = np.arange(self.slow, count + 1)
        fast_sums = sums[ends] - sums[ends - self.fast]
        slow_sums = sums[ends] - sums[ends - self.slow]
        difference = fast_sums * self.slow - slow_sums * self.fast
        signs = np.sign(difference) * self.quantity
        # Equal means keep the previous target: carry the last non-zero sign forward.
        known = signs != 0
        positions = np.where(known, np.arange(len(signs)), -1)
        np.maximum.accumulate(positions, out=positions)
        carried = np.where(positions >= 0, signs[np.maximum(positions, 0)], NO_OPINION)
        out[self.slow - 1 :] = carried
        return out


class VolumeBreakout(TargetStrategy):
    """Follow a print whose volume is `factor` × the recent mean and that breaks the range.

    A trade with volume above `factor` times the mean of the last `window` trades, at a price
    above the window's high, sets the target long; below its low, short. The position is
    held for `hold` trades, then flattened.
    """

    def __init__(
        self, window: int = 200, factor: float = 8.0, hold: int = 500, quantity: int = 1
    ) -> None:
        super().__init__()
        self.strategy_id = f"volume-breakout-{window}"
        self.window, self.factor, self.hold, self.quantity = window, factor, hold, quantity
        self._volumes: dict[Symbol, _Window] = {}
        self._prices: dict[Symbol, deque[int]] = {}
        self._since: dict[Symbol, int] = {}

    def target_after(self, trade: Trade) -> int | None:
        symbol = trade.symbol
        volumes = self._volumes.setdefault(symbol, _Window(self.window))
        prices = self._prices.setdefault(symbol, deque(maxlen=self.window))
        units = price_to_units(trade.price)
        full = len(prices) == self.window
        target: int | None = None
        if full and trade.volume * self.window > self.factor * volumes.total:
            if units > max(prices):
                target = self.quantity
            elif units < min(prices):
                target = -self.quantity
        if target is not None:
            self._since[symbol] = 0
        elif symbol in self._since:
            self._since[symbol] += 1
            if self._since[symbol] >= self.hold:
                del self._since[symbol]
                target = 0
        volumes.push(trade.volume)
        prices.append(units)
        return target
