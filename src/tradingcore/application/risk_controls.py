"""Risk controls: the kill switch and the limits, changed by admins and audited."""

from __future__ import annotations

from typing import Any

from tradingcore.application.broker_reports import BrokerReports
from tradingcore.application.errors import AggregateMissing
from tradingcore.domain.audit import AuditEntry, audit_id_for
from tradingcore.domain.kill_switch import KillSwitch, kill_switch_id_for
from tradingcore.domain.order import Order
from tradingcore.risk.limits import RiskLimits


class RiskControls(BrokerReports):
    """Engage or release the kill switch (cancelling open orders) and change the limits."""

    def kill_switch(self) -> KillSwitch:
        switch_id = kill_switch_id_for()
        try:
            return self.app.load(KillSwitch, switch_id)
        except AggregateMissing:
            return KillSwitch.new()

    def engage_kill_switch(self, actor: str, reason: str) -> KillSwitch:
        """Stop new orders and cancel every open one; engaging twice changes nothing."""
        with self.lock:
            self.writes.flush()  # orders decided before the switch are stored before it
            switch = self.kill_switch()
            if switch.engage(actor, reason, self.clock.now()) is not None:
                self._store_switch(switch, actor, "KILL_SWITCH_ENGAGED", reason)
            for order_id in self.book.open_order_ids():
                self._request_cancel(self.app.load(Order, order_id), f"kill switch: {reason}")
            return switch

    def release_kill_switch(self, actor: str, reason: str) -> KillSwitch:
        """Let trading resume (the host lets only admins call this)."""
        with self.lock:
            switch = self.kill_switch()
            if switch.release(actor, reason, self.clock.now()) is not None:
                self._store_switch(switch, actor, "KILL_SWITCH_RELEASED", reason)
            return switch

    def _store_switch(self, switch: KillSwitch, actor: str, action: str, reason: str) -> None:
        audit = self._audit(
            actor, action, switch.id, {"engaged": switch.engaged}, "SUCCESS", reason, switch.version
        )
        self.app.store(switch, audit)
        self.observer.audited(audit)
        self.observer.kill_switch_changed(switch)

    def change_limits(self, actor: str, changes: dict[str, Any]) -> RiskLimits:
        """Apply limit changes (the host lets only admins call this), with an audit entry.

        The change itself is not persisted: a restart takes the limits from the configuration.
        """
        with self.lock:
            before = self.settings.limits
            after = before.updated(changes)
            now = self.clock.now()
            audit = AuditEntry.record(
                entry_id=audit_id_for("RISK_LIMITS_CHANGED", f"{actor}@{now.isoformat()}"),
                actor=actor,
                action="RISK_LIMITS_CHANGED",
                details={"before": before.to_plain(), "after": after.to_plain()},
                result="SUCCESS",
                reason="",
                at=now,
            )
            self.app.store(audit)
            self.settings.limits = after
            self.observer.audited(audit)
            return after
