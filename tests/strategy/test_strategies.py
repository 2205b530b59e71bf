"""Strategies: position policy, the shipped examples, and the columnar targets' contract."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tradingcore.domain.order import OrderStatus
from tradingcore.domain.signal import Direction
from tradingcore.domain.tape import Trade
from tradingcore.domain.values import PRICE_SCALE, Aggressor, Side, Symbol, units_to_price
from tradingcore.strategy.api import (
    OrderExecuted,
    OrderUpdated,
    SendOrder,
    SignalSeen,
    Strategy,
    WorkingOrder,
)
from tradingcore.strategy.columnar import NO_OPINION, decision_points
from tradingcore.strategy.examples import MovingAverageCross, VolumeBreakout
from tradingcore.strategy.policy import PositionPolicy, SignalFollower

WIN = Symbol("WINZ25")
ORDER_ID = uuid.UUID(int=1)


class View:
    """An in-memory StrategyView."""

    def __init__(self, position: int = 0, working: Sequence[WorkingOrder] = ()) -> None:
        self.held = position
        self.orders = list(working)

    @property
    def now(self) -> datetime:
        return datetime(2025, 12, 1, 12, tzinfo=UTC)

    def position(self, symbol: Symbol) -> int:
        return self.held

    def working(self, symbol: Symbol | None = None) -> Sequence[WorkingOrder]:
        return self.orders


def signal(direction: Direction, confidence: float = 0.9) -> SignalSeen:
    return SignalSeen(WIN, direction, confidence, 127_000.0, 10, 1_764_590_400_000)


def trade(units: int, volume: int = 1, trade_id: int = 1) -> Trade:
    return Trade(WIN, trade_id, 1_764_590_400_000, units_to_price(units), volume, Aggressor.BUY)


def test_strategies_satisfy_the_protocol() -> None:
    for strategy in (MovingAverageCross(), VolumeBreakout(), PositionPolicy(), SignalFollower()):
        assert isinstance(strategy, Strategy)


def test_position_policy_goes_long_short_and_flat_on_signals() -> None:
    policy = PositionPolicy(quantity=2)
    buy, sell, hold = (signal(item) for item in (Direction.BUY, Direction.SELL, Direction.HOLD))
    assert policy.on_signal(buy, View()) == (SendOrder(WIN, Side.BUY, 2),)
    assert policy.on_signal(sell, View(position=2)) == (SendOrder(WIN, Side.SELL, 4),)
    assert policy.on_signal(hold, View(position=-2)) == (SendOrder(WIN, Side.BUY, 2),)
    assert policy.on_signal(buy, View(position=2)) == ()


def test_position_policy_never_stacks_while_an_order_is_in_flight() -> None:
    policy = PositionPolicy(quantity=1)
    in_flight = WorkingOrder("t1", WIN, Side.BUY, 1, None)
    assert policy.on_signal(signal(Direction.SELL), View(working=[in_flight])) == ()
    fill = OrderExecuted("t1", ORDER_ID, WIN, Side.BUY, 1, Decimal(127_000), 20)
    assert policy.on_fill(fill, View(position=1)) == ()  # no catch-up: the next signal decides


def test_position_policy_ignores_weak_signals_and_keeps_on_hold_if_asked() -> None:
    policy = PositionPolicy(quantity=1, min_confidence=0.7, hold_closes=False)
    assert policy.on_signal(signal(Direction.BUY, 0.5), View()) == ()
    assert policy.on_signal(signal(Direction.HOLD), View(position=1)) == ()


def test_a_denied_target_order_is_not_retried_until_the_target_changes() -> None:
    strategy = MovingAverageCross(1, 2)
    strategy.want(WIN, 1, View())
    denied = OrderUpdated("t1", ORDER_ID, WIN, Side.BUY, OrderStatus.DENIED, 0, 1)
    assert strategy.on_order(denied, View()) == ()
    fill = OrderExecuted("t0", ORDER_ID, WIN, Side.SELL, 1, Decimal(127_000), 20)
    assert strategy.on_fill(fill, View()) == ()
    assert strategy.want(WIN, -1, View()) == (SendOrder(WIN, Side.SELL, 1),)


def test_a_target_strategy_catches_up_once_its_order_in_flight_completes() -> None:
    strategy = MovingAverageCross(1, 2)
    strategy.want(WIN, 1, View())
    in_flight = WorkingOrder("t1", WIN, Side.BUY, 1, None)
    assert strategy.want(WIN, -1, View(working=[in_flight])) == ()
    fill = OrderExecuted("t1", ORDER_ID, WIN, Side.BUY, 1, Decimal(127_000), 20)
    assert strategy.on_fill(fill, View(position=1)) == (SendOrder(WIN, Side.SELL, 2),)


def test_signal_follower_sends_each_confident_signal_as_the_spec_model_did() -> None:
    follower = SignalFollower(quantity=3, min_confidence=0.7, scale_by_confidence=True)
    assert follower.on_signal(signal(Direction.SELL, 0.5), View()) == ()
    assert follower.on_signal(signal(Direction.HOLD, 0.9), View()) == ()
    sent = follower.on_signal(signal(Direction.BUY, 0.8), View())
    assert sent == (SendOrder(WIN, Side.BUY, 2),)


def test_volume_breakout_follows_a_heavy_print_that_breaks_the_range_then_flattens() -> None:
    strategy = VolumeBreakout(window=5, factor=3.0, hold=3, quantity=1)
    base = 127_000 * PRICE_SCALE
    for index in range(5):
        assert strategy.target_after(trade(base, 1, index)) is None
    assert strategy.target_after(trade(base + 5 * PRICE_SCALE, 10, 6)) == 1
    targets = [strategy.target_after(trade(base, 1, 7 + index)) for index in range(3)]
    assert targets == [None, None, 0]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(-3, 3), min_size=1, max_size=300),
    st.integers(1, 10),
    st.integers(1, 25),
)
def test_moving_average_targets_equal_the_event_by_event_targets(
    steps: list[int], fast: int, extra: int
) -> None:
    units = (127_000 + 5 * np.cumsum(np.array(steps, dtype=np.int64))) * PRICE_SCALE
    strategy = MovingAverageCross(fast, fast + extra)
    one_by_one = [strategy.target_after(trade(int(value))) for value in units]
    columnar = MovingAverageCross(fast, fast + extra).targets(units)
    assert [None if value == NO_OPINION else int(value) for value in columnar] == one_by_one


def test_decision_points_are_the_first_known_target_and_each_change() -> None:
    targets = np.array([NO_OPINION, NO_OPINION, 1, 1, -1, -1, 1], dtype=np.int64)
    assert decision_points(targets).tolist() == [2, 4, 6]
