"""The API host's composition root: store, broker, order manager, signal desk, follower, keys."""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from adapters.broker.paper import PaperBroker
from adapters.credentials import service_hint, with_stored_credentials
from adapters.eventstore import DEFAULT_STORE_URL, open_store
from adapters.jsonlog import DEFAULT_LOG_DIR, AuditTrail, configure_logging
from hosts.api.activity import HISTORY
from hosts.api.auth import KeyRing
from hosts.api.clock import FeedClock, SystemClock
from hosts.api.committer import Committer
from hosts.api.follower import DEFAULT_MAX_HELD, StoreFollower
from hosts.api.metrics import (
    FOLLOWER_ERRORS,
    HELD_BY_MARK,
    KILL_SWITCH_ENGAGED,
    ORDER_LATENCY,
    POSITION_PNL_REALIZED,
    PROGRESS_MARKS,
    SIGNALS_SKIPPED,
    STRATEGY_ERRORS,
    TRADING,
    MetricsObserver,
)
from hosts.api.ratelimit import FixedWindowLimiter
from hosts.api.store_health import StoreHealth
from hosts.api.store_mark import SQLiteMark, store_mark
from hosts.api.timers import StrategyTimers
from hosts.api.trading_metrics import TradingCollector
from tradingcore.application.feed_cursor import (
    SIGNAL_LATE,
    TAPE_NOT_SEEN,
    CursorResult,
    FeedCursor,
    TapeKey,
)
from tradingcore.application.order_commands import ExecuteOrder, ExecutionResult
from tradingcore.application.order_manager import DecidedOrder, OrderManager
from tradingcore.application.signal_desk import (
    AutoExecution,
    SignalBatch,
    SignalDesk,
    SignalReceived,
    SignalResult,
)
from tradingcore.application.strategy_runner import (
    ReportingBroker,
    StrategyRunner,
    signal_seen,
)
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.fees import B3_DEFAULTS, B3FeeModel, FeeSchedule
from tradingcore.domain.values import Symbol
from tradingcore.ports.broker import Broker
from tradingcore.ports.clock import Clock
from tradingcore.risk.calendar import SessionCalendar
from tradingcore.risk.limits import RiskLimits
from tradingcore.strategy.api import Strategy

BROKERS: Final = ("paper", "profitdll")
CLOCKS: Final = ("feed", "wall")
LOG_FLUSH_SECONDS: Final = 0.2
MAX_SIGNAL_WAITERS: Final = 4
"""Signals waiting at once for their tick to reach this host (auto-execution on feed time);
one more is recorded and not traded (TAPE_NOT_SEEN) at once. Each holds a worker thread of
the few the loop has (6 on 2 cores), which orders need too; the analytics host posts one
signal at a time."""
"""The longest a JSONL log or audit line waits in memory before it is written out."""


@dataclass
class ApiConfig:
    store_url: str = DEFAULT_STORE_URL
    broker: str = "paper"
    limits: RiskLimits = field(default_factory=RiskLimits)
    calendar: SessionCalendar = field(default_factory=SessionCalendar)
    auto_execution: AutoExecution = field(default_factory=AutoExecution)
    log_dir: Path | None = DEFAULT_LOG_DIR
    """None: no JSONL logs or audit files (benchmarks)."""
    fees: FeeSchedule = B3_DEFAULTS
    """Prices the fills booked without the broker's own fees (the paper broker's, all)."""
    requests_per_second_per_client: int = 200
    requests_per_second_per_key: int = 100
    max_body_bytes: int = 64 * 1024
    poll_interval: float = 0.005
    capture_health_url: str | None = None
    """The capture host's /health, shown on the dashboard (None: not shown as polled)."""
    analytics_health_url: str | None = None
    clock: str = "feed"
    """feed: time is the latest applied trade's (paper on a synthetic or recorded feed);
    wall: the operating system's clock (live, ProfitDLL)."""
    feed_hold: float = 10.0
    """Feed clock with auto-execution: a seen trade is applied (fills, prices, time) when a
    signal at a later tick of its symbol arrives (the analytics host posts in tick order), or
    after this many wall seconds without one; a signal that comes later than that is recorded,
    not traded (SIGNAL_LATE)."""
    signal_wait: float = 4.0
    """How long (wall seconds) a signal waits for its tick to reach this host's tape."""
    max_held_trades: int = DEFAULT_MAX_HELD
    """Feed clock with auto-execution: seen trades held at most; past it the follower stops
    reading the store until they are applied (memory is bounded when the host falls behind)."""
    history: int = HISTORY
    """Orders and signals kept in memory for GET /orders, /signals and the dashboard."""
    supervisor_state: Path | None = None
    """`tradingcore up`'s state file: each host's restarts, shown on the dashboard."""
    strategies: Sequence[Strategy] = ()
    """Strategies run live on the applied trades and taken signals (docs/strategies.md)."""
    strategy_account: str = "operator"
    """The account their orders are sent for."""

    def __post_init__(self) -> None:
        if self.clock not in CLOCKS:
            raise ValueError(f"unknown clock {self.clock!r}: use one of {', '.join(CLOCKS)}")
        if self.clock == "feed" and self.broker != "paper":
            raise ValueError(
                f"clock 'feed' needs the paper broker (broker {self.broker!r} is live: "
                "use --clock wall)"
            )
        if self.feed_hold < 0 or self.signal_wait < 0:
            raise ValueError("feed hold and signal wait must not be negative")
        if self.max_held_trades < 1 or self.history < 1:
            raise ValueError("max held trades and history must be at least 1")


class ApiHost:
    """Everything the REST handlers use, built once and started with the server."""

    def __init__(
        self,
        config: ApiConfig,
        keys: KeyRing,
        *,
        app: TradingApplication | None = None,
        clock: Clock | None = None,
        broker: Broker | None = None,
    ) -> None:
        self.config = config
        self.keys = keys
        self.owns_store = app is None
        self.feed_clock = FeedClock() if config.clock == "feed" and clock is None else None
        self.app = app or open_store(config.store_url, clock or self.feed_clock or SystemClock())
        self.app.fee_model = B3FeeModel(config.fees)
        self.broker = broker or build_broker(config.broker)
        self.store_mark = store_mark(self.app)
        if config.log_dir is not None:
            # Off the request path: lines are buffered and written out within LOG_FLUSH_SECONDS
            # (and on stop); an accepted order's audit entry is in the store before its answer.
            self.logger = configure_logging(
                "ordermanager", config.log_dir, flush_interval=LOG_FLUSH_SECONDS
            )
            self.audit_trail: AuditTrail | None = AuditTrail(
                config.log_dir, flush_interval=LOG_FLUSH_SECONDS
            )
        else:
            self.logger = logging.getLogger("tradingcore.ordermanager.silent")
            self.logger.addHandler(logging.NullHandler())
            self.logger.propagate = False
            self.audit_trail = None
        # Strategies hear the broker's reports after the order manager: a broker in front.
        self.reports = ReportingBroker(self.broker) if config.strategies else None
        self.orders = TimedOrderManager(
            self.app,
            self.reports or self.broker,
            limits=config.limits,
            calendar=config.calendar,
            observer=MetricsObserver(self.logger, self.audit_trail),
            store_mark=self.store_mark,
        )
        self.committer = Committer(self.orders.writes)
        self.decide_on_loop = not config.store_url.startswith(("postgresql:", "postgres:"))
        """A decision reads the store: on the event loop only for a local file. A database
        server that stops answering would hold the loop, and every request (health too),
        for as long as the driver waits."""
        self.signals = SignalDesk(self.orders, config.auto_execution)
        paper = self.broker if isinstance(self.broker, PaperBroker) else None
        feed = config.clock == "feed"
        self._signal_waiters = threading.BoundedSemaphore(MAX_SIGNAL_WAITERS)
        self.cursor = FeedCursor(
            self.orders,
            self.signals,
            fill=paper.on_trade if paper is not None else None,
            clock=self.feed_clock,
            hold=feed and config.auto_execution.enabled,
        )
        self.strategies = [
            StrategyRunner(strategy, self.orders, self.reports, account=config.strategy_account)
            for strategy in config.strategies
            if self.reports is not None
        ]
        for runner in self.strategies:
            self.cursor.trade_listeners.append(self._guarded(runner, runner.trade))
            self.cursor.signal_listeners.append(self._guarded(runner, _signal_to(runner)))
            self.cursor.book_listeners.append(self._guarded(runner, runner.book_top))
        self.timers = StrategyTimers(
            [runner for runner in self.strategies if runner.strategy.timer_interval is not None],
            self.orders.lock,
            self._guarded,
            self.feed_clock,
            self.app.clock,
        )
        if self.feed_clock is not None:
            self.cursor.before_trade.append(self.timers.before_trade)
        self.follower = StoreFollower(
            self.orders,
            self.signals,
            self.cursor,
            self.logger,
            interval=config.poll_interval,
            hold=config.feed_hold,
            max_held=config.max_held_trades,
            on_error=FOLLOWER_ERRORS.inc,
        )
        self.client_limiter = FixedWindowLimiter(config.requests_per_second_per_client)
        self.key_limiter = FixedWindowLimiter(config.requests_per_second_per_key)
        self.trading_metrics: TradingCollector | None = None
        self.store_health = StoreHealth(self._probe_store)
        self.app.stored_listeners.append(self._written)
        self.kill_switch_engaged: bool | None = None
        """As of the last store probe (None before it): /health reads it without the store."""
        self._probed_position = -1
        self.started = False

    def _guarded(
        self, runner: StrategyRunner, handler: Callable[[Any], object]
    ) -> Callable[[Any], None]:
        """A strategy's failure is logged and counted; the tape and the other strategies go on."""

        def call(item: Any) -> None:
            try:
                handler(item)
            except Exception:
                STRATEGY_ERRORS.inc()
                self.logger.exception("strategy %s failed", runner.strategy.strategy_id)

        return call

    def start(self) -> None:
        if self.started:
            return
        self.store_health.start()
        seen = self.orders.start()
        self.committer.start()
        if isinstance(self.broker, PaperBroker):
            for order, remaining in self.orders.open_broker_orders():
                self.broker.resume(order, remaining)
        self.follower.start()
        self.timers.start()
        self.trading_metrics = TradingCollector(self.orders)
        TRADING.source = self.trading_metrics
        KILL_SWITCH_ENGAGED.set(1 if self.orders.kill_switch().engaged else 0)
        for account, symbols in list(self.orders.book.symbols.items()):
            for symbol in symbols:
                realized = self.app.position(account, symbol).realized_pnl
                POSITION_PNL_REALIZED.labels(account=account, symbol=symbol.ticker).set(
                    float(realized.amount)
                )
        self.started = True
        self._log_limits()
        self.logger.info(
            "API host started",
            extra={
                "context": {
                    "orders_recovered": seen,
                    "open_orders": len(self.orders.book.open_orders),
                    "broker": self.config.broker,
                    "clock": self.config.clock,
                }
            },
        )

    def take_signal(
        self,
        received: SignalReceived,
        actor: str,
        account: str,
        *,
        deadline: float | None = None,
        batch: SignalBatch | None = None,
    ) -> CursorResult:
        """Record a signal; with auto-execution, trade it on the tape as it stood at its tick
        (waiting up to `signal_wait` for that tick to reach this host, or until `deadline`,
        a `time.monotonic()` value, when a batch of signals shares one wait). In a `batch`,
        it is durable and final once `finish_batch` ran (`settled` gives its result)."""

        def wait(condition: threading.Condition, ready: Callable[[], bool]) -> bool:
            timeout = self.config.signal_wait
            if deadline is not None:
                timeout = max(0.0, deadline - time.monotonic())
            # A waiting signal holds a worker thread: past MAX_SIGNAL_WAITERS a flood of
            # signals whose ticks never come would hold them all, and every request with them.
            if not self._signal_waiters.acquire(blocking=False):
                return False  # recorded, not traded (TAPE_NOT_SEEN): fail closed
            try:
                return condition.wait_for(ready, timeout)
            finally:
                self._signal_waiters.release()

        taken = self.cursor.take_signal(received, actor, account, wait=wait, batch=batch)
        skipped = taken.skipped or taken.result.skipped
        if skipped:
            SIGNALS_SKIPPED.labels(reason=skipped).inc()
            if skipped in (TAPE_NOT_SEEN, SIGNAL_LATE):
                self.logger.warning(
                    "Signal not traded",
                    extra={
                        "context": {
                            "signal_id": str(taken.result.signal.id),
                            "reason": skipped,
                            "tick_trade_id": received.tick_trade_id,
                        }
                    },
                )
        return taken

    def advance(self, marks: Sequence[tuple[Symbol, TapeKey]]) -> int:
        """Take the signal source's progress marks (`FeedCursor.advance`): apply the held
        trades no signal can come for any more; return how many."""
        applied = sum(self.cursor.advance(symbol, decided) for symbol, decided in marks)
        PROGRESS_MARKS.inc(len(marks))
        HELD_BY_MARK.inc(applied)
        return applied

    def finish_batch(
        self, batch: SignalBatch, taken: Sequence[tuple[float, CursorResult]] = ()
    ) -> None:
        """Commit a batch of signals (one transaction for what is left) and report it; each
        order it sent is timed (ORDER_LATENCY) from its signal's `time.perf_counter()` in
        `taken` to now, when it is answered."""
        try:
            self.signals.finish(batch)
        finally:
            done = time.perf_counter()
            for begun, item in taken:
                if item.result.decided is not None:
                    ORDER_LATENCY.observe(done - begun)

    def settled(self, batch: SignalBatch, taken: CursorResult) -> CursorResult:
        """A signal's final result once its batch is finished; its store error if it failed."""
        return replace(taken, result=self.signals.settled(batch, taken.result))

    async def execute(self, command: ExecuteOrder) -> ExecutionResult:
        """Execute an order from the event loop without blocking it.

        The decision runs on the loop when the order manager's lock is free (no thread hop);
        the write joins the next group commit. Otherwise, or for a remote broker, the whole
        command runs in a worker thread.
        """
        started = time.perf_counter()
        # The decision reads the store: on the loop only for a local file that answers its
        # probes promptly; a database server gone quiet would stall every request (health too)
        # behind it, so there the decision takes a worker thread and the write still joins
        # the group commit.
        decided: ExecutionResult | DecidedOrder | None = None
        if not self.started:
            pass
        elif not self.decide_on_loop:
            decided = await asyncio.to_thread(self.orders.execute_queued, command)
        elif self.store_health.responsive():
            decided = self.orders.execute_nowait(command)
        if decided is None:
            return await asyncio.to_thread(self.orders.execute, command)  # timed there
        try:
            if isinstance(decided, ExecutionResult):
                return decided
            await self.committer.committed(decided.write)
            if decided.write.error is not None:  # undoing it takes the lock: not on the loop
                return await asyncio.to_thread(self.orders.complete, decided)
            return self.orders.complete(decided)
        finally:
            ORDER_LATENCY.observe(time.perf_counter() - started)

    def _written(self, written: Sequence[tuple[int, Any]]) -> None:
        self.store_health.written(written[-1][0])

    def _probe_store(self) -> int:
        """Read the store's last notification id, and the kill switch when anything changed."""
        last = self.app.recorder.max_notification_id() or 0
        if last != self._probed_position:
            self.kill_switch_engaged = self.orders.kill_switch().engaged
            self._probed_position = last
        return last

    def _log_limits(self) -> None:
        """Say which limits are in force and where each came from (a stored admin change wins
        over the configuration)."""
        override = self.orders.limits_override()
        origin = self.orders.limits_origin()
        context: dict[str, object] = {
            "limits": self.orders.settings.limits.to_plain(),
            "from_store": sorted(key for key, where in origin.items() if where == "stored"),
            "from_configuration": sorted(
                key for key, where in origin.items() if where == "configuration"
            ),
        }
        if override.version:
            context["stored_change"] = {
                "actor": override.actor,
                "reason": override.reason,
                "changed_at": override.changed_at.isoformat() if override.changed_at else None,
            }
        self.logger.info("Risk limits in force", extra={"context": context})

    def flush_logs(self) -> None:
        """Write out the buffered JSONL log and audit lines now."""
        for handler in self.logger.handlers:
            handler.flush()
        if self.audit_trail is not None:
            self.audit_trail.flush()

    def stop(self) -> None:
        if TRADING.source is self.trading_metrics:
            TRADING.source = None
        self.timers.stop()
        self.follower.stop()
        if self.started and self.cursor.hold:
            # No signal can be taken any more: apply the held trades (their fills) now, as a
            # backtest of the same ticks would, rather than leave them to a restart's warm-up.
            try:
                self.follower.poll()
                self.cursor.release()
            except Exception:
                self.logger.exception("Could not apply the held trades on stop")
        self.committer.stop()
        self.store_health.stop()
        if self.started:
            self.logger.info("API host stopped")
        self.started = False
        if self.owns_store:
            self.app.close()
        self.flush_logs()
        if self.audit_trail is not None:
            self.audit_trail.close()
        if isinstance(self.store_mark, SQLiteMark):
            self.store_mark.close()


def build_broker(kind: str) -> Broker:
    """Return the broker a `--broker` option names."""
    if kind == "paper":
        return PaperBroker()
    if kind == "profitdll":
        try:
            module = importlib.import_module("adapters.profitdll.broker")
            # Library path, credentials and routing account come from PROFITDLL_* variables;
            # the credential store fills the secrets the environment does not set.
            environment = with_stored_credentials(os.environ, prompt=sys.stdin.isatty())
            broker: Broker = module.ProfitDLLBroker(environment=environment)
        except Exception as error:
            hint = service_hint(os.environ)
            raise ValueError(f"broker 'profitdll' cannot start: {error}{hint}") from None
        return broker
    raise ValueError(f"unknown broker {kind!r}: use one of {', '.join(BROKERS)}")


def _signal_to(runner: StrategyRunner) -> Callable[[SignalResult], None]:
    def hand(taken: SignalResult) -> None:
        runner.signal(signal_seen(taken.signal))

    return hand


class TimedOrderManager(OrderManager):
    """The order manager, each order timed from submission to answer (ORDER_LATENCY)."""

    def execute(self, command: ExecuteOrder) -> ExecutionResult:
        started = time.perf_counter()
        try:
            return super().execute(command)
        finally:
            ORDER_LATENCY.observe(time.perf_counter() - started)
