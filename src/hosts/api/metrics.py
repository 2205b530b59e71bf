"""Prometheus business metrics (spec 8.1 names) and the observer that feeds them and the logs."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Final

from litestar import Request
from litestar.enums import ScopeType
from litestar.plugins.prometheus import PrometheusMiddleware
from litestar.types import Message, Send
from prometheus_client import REGISTRY, Counter, Gauge, Histogram

from adapters.jsonlog import AuditTrail
from adapters.process_metrics import register_process_metrics
from hosts.api.trading_metrics import CurrentTrading
from tradingcore.application.feed_cursor import SIGNAL_LATE, TAPE_NOT_SEEN
from tradingcore.application.signal_desk import ORDER_IN_FLIGHT
from tradingcore.domain.audit import AuditEntry
from tradingcore.domain.kill_switch import KillSwitch
from tradingcore.domain.order import Order
from tradingcore.domain.position import Position

ORDERS_EXECUTED: Final = Counter(
    "orders_executed", "Orders that passed the risk checks and were sent to the broker"
)
ORDERS_REJECTED: Final = Counter(
    "orders_rejected", "Orders denied by risk or rejected by the broker", ["reason"]
)
ORDERS_FILLED: Final = Counter("orders_filled", "Fills booked from broker reports")
POSITION_PNL_REALIZED: Final = Gauge(
    "position_pnl_realized", "Realized P&L in R$ per account and symbol", ["account", "symbol"]
)
ORDER_LATENCY: Final = Histogram(
    "order_latency_seconds",
    "An order's submission to its answer (risk checks, durable write, broker acknowledgement), "
    "wall clock, whatever sent it (REST, auto-execution, a strategy)",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
KILL_SWITCH_ENGAGED: Final = Gauge("kill_switch_engaged", "1 while the kill switch is engaged")
AUTH_REJECTED: Final = Counter(
    "api_auth_rejected", "Requests refused by the API-key guard", ["reason"]
)
FOLLOWER_ERRORS: Final = Counter(
    "api_tape_follower_errors", "Store notifications the tape follower could not apply"
)
STRATEGY_ERRORS: Final = Counter(
    "api_strategy_errors",
    "Trades, signals, book tops or timers a live strategy failed on (logged with the cause)",
)
for _reason in ("missing", "invalid", "not_admin"):  # exported at 0 before the first refusal
    AUTH_REJECTED.labels(reason=_reason)
TRADING: Final = CurrentTrading()
"""Account P&L, drawdown and win/loss of the started host (`hosts.api.trading_metrics`)."""
REGISTRY.register(TRADING)
register_process_metrics(REGISTRY)
SIGNALS_SKIPPED: Final = Counter(
    "api_signals_skipped",
    "Signals auto-execution recorded without sending an order, by reason",
    ["reason"],
)
for _reason in (TAPE_NOT_SEEN, SIGNAL_LATE, ORDER_IN_FLIGHT):  # at 0 before the first skip
    SIGNALS_SKIPPED.labels(reason=_reason)
PROGRESS_MARKS: Final = Counter(
    "api_signal_progress_marks",
    "Progress marks taken from the signal source (ticks it has decided: held trades applied)",
)
HELD_TRADES_APPLIED: Final = Counter(
    "api_held_trades_applied",
    "Trades held for a signal at an earlier tick, then applied: by a progress mark of the "
    "signal source, or after the feed hold without one (a signal applies the rest)",
    ["by"],
)
HELD_BY_MARK: Final = HELD_TRADES_APPLIED.labels(by="mark")
HELD_BY_HOLD: Final = HELD_TRADES_APPLIED.labels(by="hold")


class RequestMetrics(PrometheusMiddleware):
    """Litestar's Prometheus middleware, same metrics and labels, less work per request.

    Litestar 2.25 parses the request URL for the `path` label even when `group_path` replaces
    it with the route template, and wraps `send` with `functools.wraps` on every request.
    """

    def _get_default_labels(self, request: Request[Any, Any, Any]) -> dict[str, str | int | float]:
        scope = request.scope
        if not self._config.group_path:
            return super()._get_default_labels(request)
        return {
            "method": scope["method"] if scope["type"] == ScopeType.HTTP else scope["type"],
            "path": scope["path_template"],
            "status_code": 200,
            "app_name": self._config.app_name,
        }

    def _get_wrapped_send(self, send: Send, request_span: dict[str, float]) -> Callable[..., Any]:
        async def wrapped_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                request_span["status_code"] = message["status"]
            elif message["type"] == "http.response.body":
                end = time.perf_counter()
                request_span["duration"] = end - request_span["start_time"]
                request_span["end_time"] = end
            await send(message)

        return wrapped_send


class MetricsObserver:
    """Counts, logs (JSONL) and audits (JSONL) what the order manager reports."""

    def __init__(self, logger: logging.Logger, audit_trail: AuditTrail | None) -> None:
        self.logger = logger
        self.audit_trail = audit_trail

    def order_sent(self, order: Order) -> None:
        ORDERS_EXECUTED.inc()
        self.logger.info("Order sent", extra={"context": _order_context(order)})

    def order_denied(self, order: Order) -> None:
        ORDERS_REJECTED.labels(reason=order.reason_code).inc()
        self.logger.warning("Order denied by risk", extra={"context": _order_context(order)})

    def order_rejected(self, order: Order) -> None:
        ORDERS_REJECTED.labels(reason=order.reason_code).inc()
        self.logger.warning(
            "Order rejected by the broker", extra={"context": _order_context(order)}
        )

    def order_filled(self, order: Order, position: Position) -> None:
        ORDERS_FILLED.inc()
        POSITION_PNL_REALIZED.labels(account=order.account, symbol=order.symbol.ticker).set(
            float(position.realized_pnl.amount)
        )
        context = {
            **_order_context(order),
            "filled_quantity": order.filled_quantity,
            "net_quantity": position.net_quantity,
            "realized_pnl": position.realized_pnl.text,
            "fees": position.fees.text,
        }
        self.logger.info("Order filled", extra={"context": context})

    def order_canceled(self, order: Order) -> None:
        self.logger.info("Order canceled", extra={"context": _order_context(order)})

    def kill_switch_changed(self, switch: KillSwitch) -> None:
        KILL_SWITCH_ENGAGED.set(1 if switch.engaged else 0)
        self.logger.warning(
            "Kill switch engaged" if switch.engaged else "Kill switch released",
            extra={"context": {"actor": switch.actor, "reason": switch.reason}},
        )

    def audited(self, entry: AuditEntry) -> None:
        if self.audit_trail is None or entry.recorded_at is None:
            return
        self.audit_trail.record(
            actor=entry.actor,
            action=entry.action,
            at=entry.recorded_at,
            details=entry.details,
            result=entry.result,
            reason=entry.reason,
        )


def _order_context(order: Order) -> dict[str, object]:
    return {
        "order_id": str(order.id),
        "client_order_id": order.client_order_id,
        "account": order.account,
        "symbol": order.symbol.ticker,
        "side": order.side.value,
        "quantity": order.quantity,
        "price": float(order.price),
        "status": order.status.value,
        "reason_code": order.reason_code,
    }
