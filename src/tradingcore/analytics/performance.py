"""P&L of following signals with one contract: a simplified fill model for backtests.

Each signal is filled at its own tick's price (BUY: long 1, SELL: short 1, HOLD: flat), with
no slippage or queue position; the position is marked to every later tick. The fills are
charged by a fee model (docs/money.md). It answers "did the signals point the right way", not
"what would a broker have filled".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import numpy as np

from tradingcore.analytics.decision import SignalDecision
from tradingcore.analytics.vectorized import IntArray
from tradingcore.domain.fees import NoFees
from tradingcore.domain.instruments import Instrument
from tradingcore.domain.money import Money, exact_decimal
from tradingcore.domain.position import Position
from tradingcore.domain.signal import Direction
from tradingcore.domain.values import PRICE_SCALE, Side
from tradingcore.ports.fees import FeeModel

TARGETS = {Direction.BUY: 1, Direction.SELL: -1, Direction.HOLD: 0}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FOLLOW_ORDER = uuid.UUID(int=0)


@dataclass(frozen=True, slots=True)
class FollowResult:
    pnl: Money
    """Money at the end before fees, open position marked to the last price."""
    max_drawdown: Money
    """Largest fall of the marked-to-market equity (before fees) from an earlier peak."""
    contracts_traded: int
    fees: Money = field(default_factory=Money.zero)
    """What the fee model charged for the contracts traded."""

    @property
    def net_pnl(self) -> Money:
        return self.pnl - self.fees


def follow_signals(
    prices: IntArray,
    signals: list[SignalDecision],
    instrument: Instrument,
    fee_model: FeeModel | None = None,
) -> FollowResult:
    """Return the P&L, fees and drawdown of holding each signal's position until the next."""
    count = len(prices)
    if count == 0 or not signals:
        return FollowResult(Money.zero(), Money.zero(), 0)
    last_signal = np.full(count, -1, dtype=np.int64)
    last_signal[[signal.index for signal in signals]] = np.arange(len(signals))
    last_signal = np.maximum.accumulate(last_signal)
    targets = np.array([TARGETS[signal.direction] for signal in signals], dtype=np.int64)
    position = np.where(last_signal >= 0, targets[np.maximum(last_signal, 0)], 0)
    moves = np.diff(np.asarray(prices, dtype=np.int64))
    equity = np.concatenate(([0], np.cumsum(position[:-1] * moves)))
    drawdown = int(np.max(np.maximum.accumulate(equity) - equity))
    traded = int(np.abs(np.diff(np.concatenate(([0], position)))).sum())
    scale = Fraction(instrument.point_value) / PRICE_SCALE
    return FollowResult(
        Money.rounded(int(equity[-1]) * scale),
        Money.rounded(drawdown * scale),
        traded,
        follow_fees(signals, instrument, fee_model or NoFees()),
    )


def follow_fees(
    signals: list[SignalDecision], instrument: Instrument, fee_model: FeeModel
) -> Money:
    """Return the fees of the one-contract fills that follow the signals, booked on a
    position so closes, flips and the day-trade rate are priced as they would be live."""
    position = Position.open_for("backtest", instrument)
    held = 0
    for number, signal in enumerate(signals):
        change = TARGETS[signal.direction] - held
        if change == 0:
            continue
        side = Side.BUY if change > 0 else Side.SELL
        price = exact_decimal(Fraction(signal.price_units, PRICE_SCALE))
        at = _EPOCH + timedelta(milliseconds=signal.timestamp_ms)
        charge = position.charge(instrument, side, abs(change), price, at, first_fill_of_order=True)
        fees = fee_model.fees(charge)
        position.apply_fill(_FOLLOW_ORDER, number, side, abs(change), price, at, fees=fees)
        held += change
    return position.fees
