"""Aggregate root and domain event base: aggregates decide, events evolve."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Self, TypeVar, cast


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Something that happened to one aggregate, at one version, at one time."""

    originator_id: uuid.UUID
    originator_version: int
    timestamp: datetime

    def apply(self, aggregate: Any) -> None:
        """Evolve the aggregate's state; each event class overrides this."""
        raise NotImplementedError(type(self).__name__)


E = TypeVar("E", bound=DomainEvent)
T = TypeVar("T", bound=DomainEvent)


class AggregateRoot(Generic[E]):
    """An event-sourced aggregate: state changes only by applying its own events."""

    def __init__(self, aggregate_id: uuid.UUID) -> None:
        self.id = aggregate_id
        self.version = 0
        self._pending: list[E] = []

    def _trigger(self, event_type: type[T], at: datetime, **fields: Any) -> T:
        event = event_type(
            originator_id=self.id,
            originator_version=self.version + 1,
            timestamp=at,
            **fields,
        )
        self._mutate(cast(E, event))
        self._pending.append(cast(E, event))
        return event

    def _mutate(self, event: E) -> None:
        event.apply(self)
        self.version = event.originator_version

    def collect_events(self) -> list[E]:
        """Return and forget the events raised since the last collection."""
        events, self._pending = self._pending, []
        return events

    @property
    def pending_events(self) -> tuple[E, ...]:
        return tuple(self._pending)

    @classmethod
    def rehydrate(cls, aggregate_id: uuid.UUID, events: Iterable[E]) -> Self:
        """Rebuild an aggregate by applying its stored events in order."""
        aggregate = cls.__new__(cls)
        AggregateRoot.__init__(aggregate, aggregate_id)
        aggregate._reset()
        for event in events:
            aggregate._mutate(event)
        return aggregate

    def _reset(self) -> None:
        """Set the blank state that the first event builds on."""

    def state(self) -> dict[str, Any]:
        """Return the aggregate's state, without pending events, for comparison and hashing."""
        return {key: value for key, value in vars(self).items() if key != "_pending"}

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.state() == other.state()

    __hash__ = None  # type: ignore[assignment]
