"""A timer-only strategy for the live-versus-backtest timer test (imported by the API process)."""

from __future__ import annotations

from datetime import timedelta

from tradingcore.domain.tape import Trade
from tradingcore.domain.values import Side, Symbol
from tradingcore.strategy.api import NOTHING, BaseStrategy, Commands, SendOrder, StrategyView


class Flipper(BaseStrategy):
    """On each timer, buys 1 then sells 1, alternately, at the market of the last trade's symbol."""

    strategy_id = "flipper"

    def __init__(self, seconds: str | int = 2) -> None:
        self.timer_interval = timedelta(seconds=int(seconds))
        self.symbol: Symbol | None = None
        self.timers = 0

    def on_trade(self, trade: Trade, view: StrategyView) -> Commands:
        self.symbol = trade.symbol
        return NOTHING

    def on_timer(self, view: StrategyView) -> Commands:
        self.timers += 1
        if self.symbol is None:
            return NOTHING
        side = Side.BUY if self.timers % 2 else Side.SELL
        return (SendOrder(self.symbol, side, 1, tag=f"t{self.timers}"),)
