"""A trading desk for tests: a real store, the paper broker and the order manager on a clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from adapters.broker.paper import PaperBroker
from adapters.eventstore import open_store
from tests.risk.factories import NOW, WIN
from tradingcore.application.order_commands import ExecuteOrder, ExecutionResult
from tradingcore.application.order_manager import OrderManager
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.audit import AuditEntry
from tradingcore.domain.kill_switch import KillSwitch
from tradingcore.domain.order import Order
from tradingcore.domain.position import Position
from tradingcore.domain.tape import Trade, TradeColumns
from tradingcore.domain.values import Aggressor, Side, Symbol
from tradingcore.ports.clock import ManualClock
from tradingcore.risk.limits import RiskLimits


@dataclass
class RecordingObserver:
    """Remembers what the order manager reported."""

    sent: list[Order] = field(default_factory=list)
    denied: list[Order] = field(default_factory=list)
    filled: list[tuple[Order, Position]] = field(default_factory=list)
    canceled: list[Order] = field(default_factory=list)
    rejected: list[Order] = field(default_factory=list)
    switches: list[bool] = field(default_factory=list)
    audits: list[AuditEntry] = field(default_factory=list)

    def order_sent(self, order: Order) -> None:
        self.sent.append(order)

    def order_denied(self, order: Order) -> None:
        self.denied.append(order)

    def order_rejected(self, order: Order) -> None:
        self.rejected.append(order)

    def order_filled(self, order: Order, position: Position) -> None:
        self.filled.append((order, position))

    def order_canceled(self, order: Order) -> None:
        self.canceled.append(order)

    def kill_switch_changed(self, switch: KillSwitch) -> None:
        self.switches.append(switch.engaged)

    def audited(self, entry: AuditEntry) -> None:
        self.audits.append(entry)


class Desk:
    """Order manager + paper broker over one store; trades reach both, like the API host."""

    def __init__(
        self,
        url: str = "memory://",
        *,
        clock: ManualClock | None = None,
        limits: RiskLimits | None = None,
        app: TradingApplication | None = None,
    ) -> None:
        self.clock = clock or ManualClock(NOW)
        self.app = app or open_store(url, self.clock)
        self.broker = PaperBroker()
        self.observer = RecordingObserver()
        self.orders = OrderManager(
            self.app, self.broker, limits=limits or RiskLimits(), observer=self.observer
        )
        self.orders.start()
        for order, remaining in self.orders.open_broker_orders():
            self.broker.resume(order, remaining)
        self.next_trade_id = 1

    def trade(self, price: float | int, volume: int = 100, symbol: Symbol = WIN) -> Trade:
        """Print a trade now: store it, then show it to risk and to the paper broker."""
        trade = Trade(
            symbol,
            self.next_trade_id,
            int(self.clock.now().timestamp() * 1000),
            Decimal(price),
            volume,
            Aggressor.BUY,
        )
        self.next_trade_id += 1
        columns = TradeColumns()
        columns.append(trade)
        self.app.record_trades(symbol, self.clock.now().date(), columns)
        self.orders.on_trade(trade)
        self.broker.on_trade(trade)
        return trade

    def execute(
        self,
        side: Side = Side.BUY,
        quantity: int = 1,
        price: float | int = -1,
        **changes: Any,
    ) -> ExecutionResult:
        command: dict[str, Any] = {
            "actor": "alice",
            "account": "alice",
            "symbol": WIN,
            "side": side,
            "quantity": quantity,
            "price": Decimal(price),
        }
        command.update(changes)
        return self.orders.execute(ExecuteOrder(**command))

    def tick(self, seconds: float = 3) -> None:
        """Let time pass (beyond the duplicate window by default)."""
        self.clock.advance(timedelta(seconds=seconds))
