"""Labels: the direction of the price move over the next H ticks, known only after them."""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from tradingcore.domain.instruments import Instrument
from tradingcore.domain.values import PRICE_SCALE

SELL: Final = 0
BUY: Final = 1
HOLD: Final = 2
CLASSES: Final = (SELL, BUY, HOLD)
"""Class codes as in spec 5.1: proba[0] is SELL, proba[1] is BUY."""


def threshold_units(instrument: Instrument, threshold_ticks: int) -> int:
    """Return the label threshold in integer price units (ticks of the instrument)."""
    return int(instrument.tick_size * PRICE_SCALE) * threshold_ticks


def label_move(entry_units: int, exit_units: int, threshold: int) -> int:
    """Return BUY if the price rose by at least `threshold` units, SELL if it fell so, else HOLD."""
    move = exit_units - entry_units
    if move >= threshold:
        return BUY
    if move <= -threshold:
        return SELL
    return HOLD


def label_series(
    prices: npt.NDArray[np.int64], horizon: int, threshold: int
) -> npt.NDArray[np.int64]:
    """Return the labels of ticks 0..n-horizon-1 (the later ticks' futures are unknown)."""
    prices = np.asarray(prices, dtype=np.int64)
    if len(prices) <= horizon:
        return np.zeros(0, dtype=np.int64)
    move = prices[horizon:] - prices[:-horizon]
    labels = np.full(len(move), HOLD, dtype=np.int64)
    labels[move >= threshold] = BUY
    labels[move <= -threshold] = SELL
    return labels
