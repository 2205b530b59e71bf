"""Risk controls: the kill switch and the limits, changed by admins, stored and audited."""

from __future__ import annotations

from typing import Any

from tradingcore.application.broker_reports import BrokerReports
from tradingcore.application.errors import AggregateMissing
from tradingcore.domain.kill_switch import KillSwitch, kill_switch_id_for
from tradingcore.domain.order import Order
from tradingcore.domain.risk_limits import RiskLimitsOverride, risk_limits_id_for
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

    def limits_override(self) -> RiskLimitsOverride:
        """Return the stored admin change of the limits (version 0: none was ever made)."""
        try:
            return self.app.load(RiskLimitsOverride, risk_limits_id_for())
        except AggregateMissing:
            return RiskLimitsOverride.new()

    def apply_stored_limits(self) -> RiskLimitsOverride | None:
        """Put the latest stored admin change in force over the configured limits.

        The stored change wins; a limit it does not name (one added since) keeps its
        configured value. Return the change, or None when the configuration rules alone.
        """
        with self.lock:
            override = self.limits_override()
            if not override.version:
                return None
            known = self.configured_limits.to_plain()
            stored = {key: value for key, value in override.limits.items() if key in known}
            self.settings.limits = self.configured_limits.updated(stored)
            return override

    def limits_origin(self) -> dict[str, str]:
        """Name where each limit in force came from: `stored` (admin) or `configuration`."""
        override = self.limits_override()
        return {
            key: "stored" if key in override.limits else "configuration"
            for key in self.settings.limits.to_plain()
        }

    def change_limits(self, actor: str, changes: dict[str, Any], reason: str = "") -> RiskLimits:
        """Apply limit changes (the host lets only admins call this) as a stored event.

        The change and its audit entry are written in one transaction; at the next start the
        stored limits win over the configured ones.
        """
        with self.lock:
            self.apply_stored_limits()  # build on another process's change, if any
            before = self.settings.limits
            after = before.updated(changes)
            override = self.limits_override()
            override.change(after.to_plain(), actor, reason, self.clock.now())
            audit = self._audit(
                actor,
                "RISK_LIMITS_CHANGED",
                override.id,
                {"before": before.to_plain(), "after": after.to_plain()},
                "SUCCESS",
                reason,
                override.version,
            )
            self.app.store(override, audit)
            self.settings.limits = after
            self.observer.audited(audit)
            return after
