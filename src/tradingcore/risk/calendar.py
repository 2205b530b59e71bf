"""The B3 session calendar: when orders may be sent, in São Paulo time (UTC-3, no DST)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Final

from tradingcore.domain.errors import DomainError

SAO_PAULO: Final = timezone(timedelta(hours=-3), "BRT")
"""Brazil has had no daylight saving time since 2019: B3 runs on a fixed UTC-3."""


class InvalidCalendar(DomainError):
    """A session calendar's hours or days make no sense."""


@dataclass(frozen=True, slots=True)
class SessionCalendar:
    """Trading hours on weekdays, minus holidays; `always_open` for tests and simulations."""

    opens: time = time(9, 0)
    closes: time = time(18, 25)
    """Regular session of the WIN/WDO mini contracts; configure stocks as 10:00-16:55."""
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    holidays: frozenset[date] = field(default_factory=frozenset)
    always_open: bool = False

    def __post_init__(self) -> None:
        if not self.always_open and self.opens >= self.closes:
            raise InvalidCalendar(
                f"invalid trading hours {self.opens}-{self.closes}: the open must precede the close"
            )
        if not self.weekdays <= frozenset(range(7)):
            raise InvalidCalendar(f"invalid weekdays {sorted(self.weekdays)}: use 0 (Mon) to 6")

    @classmethod
    def parse(
        cls, hours: str, holidays: Iterable[str] = (), weekdays: Iterable[int] = range(5)
    ) -> SessionCalendar:
        """Build a calendar from `HH:MM-HH:MM` (São Paulo time) or `always`."""
        if hours.strip().lower() == "always":
            return cls(always_open=True)
        try:
            opens_text, closes_text = hours.split("-")
            opens = time.fromisoformat(opens_text.strip())
            closes = time.fromisoformat(closes_text.strip())
            days = frozenset(date.fromisoformat(day) for day in holidays)
        except ValueError:
            raise InvalidCalendar(
                f"invalid trading hours {hours!r}: use HH:MM-HH:MM (São Paulo time) or 'always'"
            ) from None
        return cls(opens=opens, closes=closes, weekdays=frozenset(weekdays), holidays=days)

    def session_date(self, at: datetime) -> date:
        """Return the São Paulo date of a moment: the trading day it belongs to."""
        return at.astimezone(SAO_PAULO).date()

    def session_start(self, at: datetime) -> datetime:
        """Return São Paulo midnight of the moment's day, as the start of the daily P&L."""
        local = at.astimezone(SAO_PAULO)
        return datetime.combine(local.date(), time(0), SAO_PAULO)

    def is_open(self, at: datetime) -> bool:
        if self.always_open:
            return True
        local = at.astimezone(SAO_PAULO)
        if local.weekday() not in self.weekdays or local.date() in self.holidays:
            return False
        return self.opens <= local.time() < self.closes
