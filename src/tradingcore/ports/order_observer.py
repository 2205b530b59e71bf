"""The order observer port: what the order manager reports for metrics, logs and audit files."""

from __future__ import annotations

from typing import Protocol

from tradingcore.domain.audit import AuditEntry
from tradingcore.domain.kill_switch import KillSwitch
from tradingcore.domain.order import Order
from tradingcore.domain.position import Position


class OrderObserver(Protocol):
    """Told after each change is stored; it must not raise (a host counts and logs)."""

    def order_sent(self, order: Order) -> None: ...

    def order_denied(self, order: Order) -> None: ...

    def order_rejected(self, order: Order) -> None: ...

    def order_filled(self, order: Order, position: Position) -> None: ...

    def order_canceled(self, order: Order) -> None: ...

    def kill_switch_changed(self, switch: KillSwitch) -> None: ...

    def audited(self, entry: AuditEntry) -> None: ...


class NullObserver:
    """An observer that ignores everything: for tests and replays."""

    def order_sent(self, order: Order) -> None:
        pass

    def order_denied(self, order: Order) -> None:
        pass

    def order_rejected(self, order: Order) -> None:
        pass

    def order_filled(self, order: Order, position: Position) -> None:
        pass

    def order_canceled(self, order: Order) -> None:
        pass

    def kill_switch_changed(self, switch: KillSwitch) -> None:
        pass

    def audited(self, entry: AuditEntry) -> None:
        pass
