"""The RiskLimitsOverride aggregate: the pre-trade limits an admin set, kept across restarts."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tradingcore.domain.aggregate import AggregateRoot, DomainEvent
from tradingcore.domain.errors import DomainError
from tradingcore.domain.values import deterministic_id


class InvalidRiskLimitsChange(DomainError):
    """A limits change names no actor or carries no limits."""


def risk_limits_id_for(scope: str = "global") -> uuid.UUID:
    """Return the id of the stored limits: one per scope, the same in every process."""
    return deterministic_id("risk-limits", scope)


@dataclass(frozen=True, kw_only=True)
class RiskLimitsChanged(DomainEvent):
    """An admin set the limits; `limits` holds every limit in force after it, as plain values."""

    limits: dict[str, Any]
    actor: str
    reason: str

    def apply(self, aggregate: RiskLimitsOverride) -> None:
        aggregate.limits = dict(self.limits)
        aggregate.actor = self.actor
        aggregate.reason = self.reason
        aggregate.changed_at = self.timestamp


class RiskLimitsOverride(AggregateRoot[RiskLimitsChanged]):
    """The latest limits an admin set: at start-up they win over the configured ones."""

    def _reset(self) -> None:
        self.limits: dict[str, Any] = {}
        self.actor = ""
        self.reason = ""
        self.changed_at: datetime | None = None

    @classmethod
    def new(cls, scope: str = "global") -> RiskLimitsOverride:
        """Return an override that has no events yet (nothing set: the configuration rules)."""
        override = cls.__new__(cls)
        AggregateRoot.__init__(override, risk_limits_id_for(scope))
        override._reset()
        return override

    def change(
        self, limits: Mapping[str, Any], actor: str, reason: str, at: datetime
    ) -> RiskLimitsChanged:
        """Record the full set of limits now in force, who set them and why."""
        if not actor.strip():
            raise InvalidRiskLimitsChange("cannot change the risk limits: the actor is empty")
        if not limits:
            raise InvalidRiskLimitsChange("cannot change the risk limits: no limits given")
        return self._trigger(RiskLimitsChanged, at, limits=dict(limits), actor=actor, reason=reason)
