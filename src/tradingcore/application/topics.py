"""Stored topics resolve only to tradingcore's own event classes: never import a name from data.

eventsourcing's `resolve_topic` imports whatever module a stored topic names. A store or a
recording is data (a recording can come from anyone), so a topic naming another module would
import it and run its code. Every reader here maps topics through `event_classes()`: the
`DomainEvent` subclasses of `tradingcore.domain`, found by importing our own modules (never a
name read from data). An unknown topic is refused with `UnknownEventTopic`.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import Any, Final

from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import TopicError, get_topic

import tradingcore.domain
from tradingcore.domain.aggregate import DomainEvent

EVENT_PACKAGE: Final = "tradingcore.domain"


class UnknownEventTopic(TopicError):
    """A stored event's topic is not one of tradingcore's event classes."""


@cache
def event_classes() -> dict[str, type[DomainEvent]]:
    """Return every event class of the domain by its stored topic."""
    for module in pkgutil.iter_modules(tradingcore.domain.__path__, f"{EVENT_PACKAGE}."):
        importlib.import_module(module.name)
    found: dict[str, type[DomainEvent]] = {}
    pending: list[type[DomainEvent]] = [DomainEvent]
    while pending:
        kind = pending.pop()
        pending.extend(kind.__subclasses__())
        if kind is not DomainEvent and kind.__module__.startswith(f"{EVENT_PACKAGE}."):
            found[get_topic(kind)] = kind  # get_topic also primes eventsourcing's topic cache
    return found


def resolve_event_topic(topic: str) -> type[DomainEvent]:
    """Return the event class a stored topic names; raise UnknownEventTopic for any other."""
    kind = event_classes().get(topic)
    if kind is None:
        raise UnknownEventTopic(
            f"unknown event topic {topic!r}: not one of tradingcore's event classes "
            "(topics are never imported from data)"
        )
    return kind


class EventMapper(Mapper[Any]):
    """eventsourcing's mapper, resolving topics only through `resolve_event_topic`."""

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        resolve_event_topic(stored_event.topic)  # refuse before eventsourcing would import it
        return super().to_domain_event(stored_event)
