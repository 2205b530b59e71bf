"""The port a fold uses to look back at an aggregate's earlier events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

from tradingcore.domain.aggregate import DomainEvent


class EventHistory(Protocol):
    def events(self, originator_id: uuid.UUID, until_version: int) -> Sequence[DomainEvent]:
        """Return the aggregate's events with versions 1..until_version, in order."""
        ...


class InMemoryHistory:
    """An EventHistory over events held in memory (for tests and recordings)."""

    def __init__(self, events: Sequence[DomainEvent] = ()) -> None:
        self._events: dict[uuid.UUID, list[DomainEvent]] = {}
        for event in events:
            self.add(event)

    def add(self, event: DomainEvent) -> None:
        self._events.setdefault(event.originator_id, []).append(event)

    def events(self, originator_id: uuid.UUID, until_version: int) -> Sequence[DomainEvent]:
        return [
            event
            for event in self._events.get(originator_id, [])
            if event.originator_version <= until_version
        ]
