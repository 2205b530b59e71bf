"""A strategy's limit orders rest, are replaced and withdrawn; its timer runs on feed time."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from tests.strategy.helpers import WIN, run_backtest, walk_tape
from tradingcore.domain.order import OrderStatus
from tradingcore.domain.tape import Trade
from tradingcore.domain.values import Side
from tradingcore.strategy.api import (
    NOTHING,
    BaseStrategy,
    Commands,
    OrderExecuted,
    OrderUpdated,
    ReplaceOrder,
    SendOrder,
    StrategyView,
    WithdrawOrder,
)


class Ladder(BaseStrategy):
    """Bids low, raises the bid to the market on its first timer, withdraws on its third."""

    strategy_id = "ladder"
    timer_interval = timedelta(seconds=1)

    def __init__(self) -> None:
        self.sent = False
        self.timers: list[int] = []
        self.updates: list[tuple[str, OrderStatus]] = []
        self.fills: list[tuple[str, int, Decimal]] = []

    def on_trade(self, trade: Trade, view: StrategyView) -> Commands:
        if self.sent:
            return NOTHING
        self.sent = True
        return (SendOrder(WIN, Side.BUY, 2, Decimal(126_500), tag="bid"),)

    def on_timer(self, view: StrategyView) -> Commands:
        self.timers.append(int(view.now.timestamp() * 1000))
        if len(self.timers) == 1:
            return (ReplaceOrder("bid", price=Decimal(127_000), quantity=3),)
        if len(self.timers) == 3:
            return (WithdrawOrder("bid~"),)
        return NOTHING

    def on_order(self, update: OrderUpdated, view: StrategyView) -> Commands:
        self.updates.append((update.tag, update.status))
        return NOTHING

    def on_fill(self, fill: OrderExecuted, view: StrategyView) -> Commands:
        self.fills.append((fill.tag, fill.quantity, fill.price))
        return NOTHING


def test_a_limit_order_rests_is_replaced_fills_partly_and_its_rest_is_withdrawn() -> None:
    count = 100  # a print every 50 ms: 4.95 s of feed time
    steps = [0] * 21 + [1] + [0] * (count - 22)  # 127,000 until 1.0 s, then 127,005
    tape = walk_tape(steps, [1] * count, [0] + [50] * (count - 1))
    strategy = Ladder()
    _, result = run_backtest({WIN: tape}, [strategy])
    first_ms = int(tape.timestamps_ms[0])
    assert strategy.timers == [first_ms + 1_000 * second for second in (1, 2, 3, 4)]
    assert strategy.updates == [
        ("bid", OrderStatus.ACCEPTED),
        ("bid", OrderStatus.CANCELED),  # replaced: canceled, its remainder sent as bid~
        ("bid~", OrderStatus.ACCEPTED),
        ("bid~", OrderStatus.CANCELED),  # withdrawn on the third timer
    ]
    assert strategy.fills == [("bid~", 1, Decimal(127_000))]  # the one print at its price
    assert result.orders == 2
