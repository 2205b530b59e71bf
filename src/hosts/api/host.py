"""The API host's composition root: store, broker, order manager, signal desk, follower, keys."""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from adapters.broker.paper import PaperBroker
from adapters.credentials import with_stored_credentials
from adapters.eventstore import DEFAULT_STORE_URL, open_store
from adapters.jsonlog import DEFAULT_LOG_DIR, AuditTrail, configure_logging
from hosts.api.auth import KeyRing
from hosts.api.clock import SystemClock
from hosts.api.committer import Committer
from hosts.api.follower import StoreFollower
from hosts.api.metrics import (
    FOLLOWER_ERRORS,
    KILL_SWITCH_ENGAGED,
    POSITION_PNL_REALIZED,
    TRADING,
    MetricsObserver,
)
from hosts.api.ratelimit import FixedWindowLimiter
from hosts.api.store_health import StoreHealth
from hosts.api.store_mark import SQLiteMark, store_mark
from hosts.api.trading_metrics import TradingCollector
from tradingcore.application.order_commands import ExecuteOrder, ExecutionResult
from tradingcore.application.order_manager import OrderManager
from tradingcore.application.signal_desk import AutoExecution, SignalDesk
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.fees import B3_DEFAULTS, B3FeeModel, FeeSchedule
from tradingcore.ports.broker import Broker
from tradingcore.ports.clock import Clock
from tradingcore.risk.calendar import SessionCalendar
from tradingcore.risk.limits import RiskLimits

BROKERS: Final = ("paper", "profitdll")
LOG_FLUSH_SECONDS: Final = 0.2
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
    poll_interval: float = 0.05
    capture_health_url: str | None = None
    """The capture host's /health, shown on the dashboard (None: not shown as polled)."""
    analytics_health_url: str | None = None


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
        self.app = app or open_store(config.store_url, clock or SystemClock())
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
        self.orders = OrderManager(
            self.app,
            self.broker,
            limits=config.limits,
            calendar=config.calendar,
            observer=MetricsObserver(self.logger, self.audit_trail),
            store_mark=self.store_mark,
        )
        self.committer = Committer(self.orders.writes)
        self.signals = SignalDesk(self.orders, config.auto_execution)
        paper = self.broker if isinstance(self.broker, PaperBroker) else None
        self.follower = StoreFollower(
            self.orders,
            self.signals,
            paper.on_trade if paper is not None else None,
            self.logger,
            interval=config.poll_interval,
            on_error=FOLLOWER_ERRORS.inc,
        )
        self.client_limiter = FixedWindowLimiter(config.requests_per_second_per_client)
        self.key_limiter = FixedWindowLimiter(config.requests_per_second_per_key)
        self.trading_metrics: TradingCollector | None = None
        self.store_health = StoreHealth(self._probe_store)
        self.kill_switch_engaged: bool | None = None
        """As of the last store probe (None before it): /health reads it without the store."""
        self._probed_position = -1
        self.started = False

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
                }
            },
        )

    async def execute(self, command: ExecuteOrder) -> ExecutionResult:
        """Execute an order from the event loop without blocking it.

        The decision runs on the loop when the order manager's lock is free (no thread hop);
        the write joins the next group commit. Otherwise, or for a remote broker, the whole
        command runs in a worker thread.
        """
        decided = self.orders.execute_nowait(command) if self.started else None
        if decided is None:
            return await asyncio.to_thread(self.orders.execute, command)
        if isinstance(decided, ExecutionResult):
            return decided
        await self.committer.committed(decided.write)
        return self.orders.complete(decided)

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
        self.follower.stop()
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
            raise ValueError(f"broker 'profitdll' cannot start: {error}") from None
        return broker
    raise ValueError(f"unknown broker {kind!r}: use one of {', '.join(BROKERS)}")
