"""The live strategies' timers: on the feed's time as in a backtest, or on the wall clock."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from hosts.api.clock import FeedClock
from tradingcore.application.strategy_runner import StrategyRunner
from tradingcore.application.timers import TimerSchedule
from tradingcore.domain.tape import Trade
from tradingcore.ports.clock import Clock

Guard = Callable[[StrategyRunner, Callable[[Any], object]], Callable[[Any], None]]

WALL_TICK_S = 0.05
"""How often the wall-clock timer thread looks at the time: a timer fires up to this late."""


class StrategyTimers:
    """Calls `on_timer` of each strategy that has a `timer_interval`.

    On the feed clock (paper on a synthetic or recorded feed), `before_trade` runs under the
    order manager's lock before each live trade is applied, with the backtest's rule
    (`TimerSchedule`): the same tape gives the same timer calls at the same feed times, and so
    the same orders. On the wall clock (live), a thread fires them as wall time passes,
    under the same lock, so a strategy is never called from two threads at once.
    """

    def __init__(
        self,
        runners: Sequence[StrategyRunner],
        lock: AbstractContextManager[Any],
        guard: Guard,
        feed_clock: FeedClock | None,
        clock: Clock,
    ) -> None:
        self.lock = lock
        self.feed_clock = feed_clock
        self.clock = clock
        self.schedules: list[tuple[TimerSchedule, Callable[[Any], None]]] = []
        for runner in runners:
            interval = runner.strategy.timer_interval
            if interval is not None:
                self.schedules.append((TimerSchedule(interval), guard(runner, _timer_of(runner))))
        self.fired = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def before_trade(self, trade: Trade) -> None:
        """Feed clock: fire what is due up to this trade's time (the caller holds the lock)."""
        for schedule, fire in self.schedules:
            for due in schedule.due_through(trade.timestamp_ms):
                if self.feed_clock is not None:
                    self.feed_clock.follow(due)
                self.fired += 1
                fire(None)

    def start(self) -> None:
        """Wall clock: start the thread that fires timers as time passes."""
        if self.feed_clock is not None or not self.schedules or self._thread is not None:
            return
        now_ms = _epoch_ms(self.clock)
        for schedule, _ in self.schedules:  # the first interval starts now
            for _ in schedule.due_through(now_ms):
                pass
        self._thread = threading.Thread(target=self._run, name="strategy-timers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            now_ms = _epoch_ms(self.clock)
            with self.lock:
                for schedule, fire in self.schedules:
                    for _ in schedule.due_through(now_ms):
                        self.fired += 1
                        fire(None)
            if self._stop.wait(WALL_TICK_S):
                return


def _timer_of(runner: StrategyRunner) -> Callable[[Any], object]:
    def fire(_: Any) -> None:
        runner.timer()

    return fire


def _epoch_ms(clock: Clock) -> int:
    return int(clock.now().timestamp() * 1000)
