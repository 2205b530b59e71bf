"""Audit entries (spec 9.2) as stored events: who did what, when, why, and the result."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tradingcore.domain.aggregate import AggregateRoot, DomainEvent
from tradingcore.domain.values import deterministic_id


def audit_id_for(action: str, subject: object, step: int = 0) -> uuid.UUID:
    """Return the id of the audit entry of one action on one subject (a retry finds it)."""
    return deterministic_id("audit", action, subject, step)


@dataclass(frozen=True, kw_only=True)
class AuditRecorded(DomainEvent):
    """One command and its outcome; `details` holds plain values only."""

    actor: str
    action: str
    details: dict[str, Any]
    result: str
    reason: str

    def apply(self, aggregate: AuditEntry) -> None:
        aggregate.actor = self.actor
        aggregate.action = self.action
        aggregate.details = dict(self.details)
        aggregate.result = self.result
        aggregate.reason = self.reason
        aggregate.recorded_at = self.timestamp


class AuditEntry(AggregateRoot[AuditRecorded]):
    """One audit record; it is written in the same transaction as the change it describes."""

    def _reset(self) -> None:
        self.actor = ""
        self.action = ""
        self.details: dict[str, Any] = {}
        self.result = ""
        self.reason = ""
        self.recorded_at: datetime | None = None

    @classmethod
    def record(
        cls,
        *,
        entry_id: uuid.UUID,
        actor: str,
        action: str,
        details: Mapping[str, Any],
        result: str,
        reason: str,
        at: datetime,
    ) -> AuditEntry:
        entry = cls.__new__(cls)
        AggregateRoot.__init__(entry, entry_id)
        entry._reset()
        entry._trigger(
            AuditRecorded,
            at,
            actor=actor,
            action=action,
            details=dict(details),
            result=result,
            reason=reason,
        )
        return entry
