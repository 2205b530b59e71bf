"""São Paulo local exchange times to UTC epoch milliseconds, daylight saving included."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

SAO_PAULO: Final = ZoneInfo("America/Sao_Paulo")
"""Brazil kept summer time (UTC-2) until 2019; the zone database has the history."""

DAY_MS: Final = 86_400_000
_EPOCH: Final = date(1970, 1, 1)


def offset_ms(day: date, time_ms: int) -> int:
    """Return the UTC offset in milliseconds of a São Paulo local time on a day."""
    moment = datetime.combine(day, time(0)) + timedelta(milliseconds=time_ms)
    offset = moment.replace(tzinfo=SAO_PAULO).utcoffset()
    return 0 if offset is None else offset // timedelta(milliseconds=1)


def local_to_utc_ms(
    days: npt.NDArray[np.int64], times_ms: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Convert local day numbers (since 1970-01-01) and ms of day to UTC epoch ms.

    Brazil changed its clocks at midnight, so a trading day almost always has one offset:
    each day is checked at its first and last time, and only a day that spans a change is
    converted row by row.
    """
    local = days * DAY_MS + times_ms
    if not len(days):
        return local
    single = int(days.min()) == int(days.max())
    result = np.empty_like(local)
    for day_number in [int(days[0])] if single else np.unique(days).tolist():
        mask = np.ones(len(days), dtype=bool) if single else days == day_number
        day = _EPOCH + timedelta(days=day_number)
        day_times = times_ms[mask]
        low = offset_ms(day, int(day_times.min()))
        high = offset_ms(day, int(day_times.max()))
        if low == high:
            result[mask] = local[mask] - low
        else:
            result[mask] = [
                value - offset_ms(day, value - day_number * DAY_MS)
                for value in local[mask].tolist()
            ]
    return result


def local_datetime_to_utc_ms(moment: datetime) -> int:
    """Convert a naive São Paulo local datetime to UTC epoch milliseconds."""
    aware = moment.replace(tzinfo=SAO_PAULO).astimezone(UTC)
    return (aware - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def utc_ms_to_datetime(timestamp_ms: int) -> datetime:
    """Return the UTC datetime of epoch milliseconds, exactly (no float rounding)."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=timestamp_ms)


def utc_ms_to_local_day(timestamp_ms: int) -> int:
    """Return the São Paulo local day number (days since 1970-01-01) of a UTC epoch-ms time."""
    local = utc_ms_to_datetime(timestamp_ms).astimezone(SAO_PAULO)
    return (local.date() - _EPOCH).days
