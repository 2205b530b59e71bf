"""The KillSwitch aggregate: a stored emergency stop that only an admin releases."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from tradingcore.domain.aggregate import AggregateRoot, DomainEvent
from tradingcore.domain.errors import DomainError
from tradingcore.domain.values import deterministic_id


class InvalidKillSwitchChange(DomainError):
    """A kill-switch change lacks an actor or a reason, or is not allowed in its state."""


def kill_switch_id_for(scope: str = "global") -> uuid.UUID:
    """Return the kill switch's id: one switch per scope, the same in every process."""
    return deterministic_id("kill-switch", scope)


@dataclass(frozen=True, kw_only=True)
class KillSwitchEvent(DomainEvent):
    actor: str
    reason: str

    def apply(self, aggregate: KillSwitch) -> None:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class KillSwitchEngaged(KillSwitchEvent):
    """Trading stopped: new orders are denied and open orders are being canceled."""

    def apply(self, aggregate: KillSwitch) -> None:
        aggregate.engaged = True
        aggregate.actor = self.actor
        aggregate.reason = self.reason
        aggregate.changed_at = self.timestamp


@dataclass(frozen=True, kw_only=True)
class KillSwitchReleased(KillSwitchEvent):
    """Trading may resume; an admin said why."""

    def apply(self, aggregate: KillSwitch) -> None:
        aggregate.engaged = False
        aggregate.actor = self.actor
        aggregate.reason = self.reason
        aggregate.changed_at = self.timestamp


class KillSwitch(AggregateRoot[KillSwitchEvent]):
    """Whether trading is stopped, who changed it last, when and why."""

    def _reset(self) -> None:
        self.engaged = False
        self.actor = ""
        self.reason = ""
        self.changed_at: datetime | None = None

    @classmethod
    def new(cls, scope: str = "global") -> KillSwitch:
        """Return a released switch that has no events yet."""
        switch = cls.__new__(cls)
        AggregateRoot.__init__(switch, kill_switch_id_for(scope))
        switch._reset()
        return switch

    def engage(self, actor: str, reason: str, at: datetime) -> KillSwitchEngaged | None:
        """Stop trading; engaging an engaged switch changes nothing and returns None."""
        _require(actor, reason, "engage")
        if self.engaged:
            return None
        return self._trigger(KillSwitchEngaged, at, actor=actor, reason=reason)

    def release(self, actor: str, reason: str, at: datetime) -> KillSwitchReleased | None:
        """Let trading resume; releasing a released switch changes nothing and returns None."""
        _require(actor, reason, "release")
        if not self.engaged:
            return None
        return self._trigger(KillSwitchReleased, at, actor=actor, reason=reason)


def _require(actor: str, reason: str, action: str) -> None:
    if not actor.strip():
        raise InvalidKillSwitchChange(f"cannot {action} the kill switch: the actor is empty")
    if not reason.strip():
        raise InvalidKillSwitchChange(
            f"cannot {action} the kill switch: a reason is required for the audit trail"
        )
