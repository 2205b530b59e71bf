"""P&L of following signals with one contract: a simplified fill model for backtests.

Each signal is filled at its own tick's price (BUY: long 1, SELL: short 1, HOLD: flat), with
no costs, slippage or queue position; the position is marked to every later tick. It answers
"did the signals point the right way", not "what would a broker have filled".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from tradingcore.analytics.decision import SignalDecision
from tradingcore.analytics.vectorized import IntArray
from tradingcore.domain.signal import Direction
from tradingcore.domain.values import PRICE_SCALE

TARGETS = {Direction.BUY: 1, Direction.SELL: -1, Direction.HOLD: 0}


@dataclass(frozen=True, slots=True)
class FollowResult:
    pnl: Decimal
    """Money at the end, open position marked to the last price."""
    max_drawdown: Decimal
    """Largest fall of the marked-to-market equity from an earlier peak, in money."""
    contracts_traded: int


def follow_signals(
    prices: IntArray, signals: list[SignalDecision], point_value: Decimal
) -> FollowResult:
    """Return the P&L and drawdown of holding each signal's position until the next one."""
    count = len(prices)
    if count == 0 or not signals:
        return FollowResult(Decimal(0), Decimal(0), 0)
    last_signal = np.full(count, -1, dtype=np.int64)
    last_signal[[signal.index for signal in signals]] = np.arange(len(signals))
    last_signal = np.maximum.accumulate(last_signal)
    targets = np.array([TARGETS[signal.direction] for signal in signals], dtype=np.int64)
    position = np.where(last_signal >= 0, targets[np.maximum(last_signal, 0)], 0)
    moves = np.diff(np.asarray(prices, dtype=np.int64))
    equity = np.concatenate(([0], np.cumsum(position[:-1] * moves)))
    drawdown = int(np.max(np.maximum.accumulate(equity) - equity))
    traded = int(np.abs(np.diff(np.concatenate(([0], position)))).sum())
    scale = point_value / PRICE_SCALE
    return FollowResult(int(equity[-1]) * scale, drawdown * scale, traded)
