"""Errors the application layer raises on top of the domain's."""

from eventsourcing.persistence import PersistenceError

from tradingcore.domain.errors import DomainError


class AggregateMissing(DomainError):
    """No aggregate with this id is in the store."""


class ConcurrencyConflict(DomainError):
    """Another writer saved the same aggregate version first; reload and retry."""


class IdempotencyConflict(DomainError):
    """A client order id was reused for a different order."""


class DecidedOnUnstoredWrite(PersistenceError):
    """A write decided on another one (a fill booked in memory, an earlier signal of a batch)
    that failed to store: not stored either. A store failure, not a broken rule."""
