"""B3's NEG trade-file layout: header, trailer and a reference parser for one detail line.

The reference parser is the slow path: it names the exact line and field of a bad value,
and it is the definition the fast columnar reader in `neg.py` must agree with.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Final, Protocol

from adapters.b3.errors import B3FileError
from adapters.b3.table import aggressor_code
from tradingcore.domain.errors import DomainError
from tradingcore.domain.values import PRICE_SCALE, Symbol

FIELDS: Final = (
    "SessionDate",
    "InstrumentSymbol",
    "TradeNumber",
    "TradePrice",
    "TradedQuantity",
    "TradeTime",
    "TradeIndicator",
    "BuyOrderDate",
    "BuyOrderSequence",
    "BuySecondaryOrderID",
    "AggressorBuyOrderIndicator",
    "SellOrderDate",
    "SellOrderSequence",
    "SellSecondaryOrderID",
    "AggressorSellOrderIndicator",
    "CrossTradeIndicator",
    "BuyMember",
    "SellMember",
)
"""The 18 semicolon-separated detail columns, in file order."""

TRADE: Final = 1
CANCELLED_TRADE: Final = 2
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$")
_INTEGER = re.compile(r"^-?\d+$")


class TickUnits(Protocol):
    """Tick sizes per ticker, and which tickers a file's import keeps."""

    def __call__(self, ticker: str) -> int:
        """Return the tick size of a ticker in price units, or raise LookupError saying why."""
        ...

    def accepts(self, ticker: str) -> bool:
        """Return whether trades of this ticker are imported (others are only read)."""
        ...


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the header and trailer say: the file kind, the session dates and the line count."""

    name: str
    first_date: date
    last_date: date
    line_count: int


@dataclass(frozen=True, slots=True)
class NegLine:
    session_date: date
    symbol: str
    trade_number: int
    price_units: int
    quantity: int
    time_ms: int
    aggressor: str
    cancelled: bool
    cross: bool


def parse_envelope(path: Path, text: str, line: int, marker: str) -> Envelope:
    """Parse a header (`RH`) or trailer (`RT`) line: `RH NEG  2015-11-26 2015-11-26 000018304`."""
    field = "header" if marker == "RH" else "trailer"
    parts = text.split()
    if not parts or parts[0] != marker:
        expected = "the first line" if marker == "RH" else "the last line"
        raise B3FileError(
            path,
            f"expected {expected} to be the NEG {field} '{marker} NEG <date> <date> <count>', "
            f"got {text[:60]!r}: not a B3 NEG file, or the file is truncated",
            line=line,
            field=field,
        )
    dates = [part for part in parts[1:] if _DATE.match(part)]
    count = parts[-1]
    if len(parts) < 3 or not count.isdigit():
        raise B3FileError(path, f"{field} {text!r} has no line count", line=line, field=field)
    try:
        first, last = date.fromisoformat(dates[0]), date.fromisoformat(dates[-1])
    except (IndexError, ValueError):
        raise B3FileError(
            path, f"{field} {text!r} has no session date YYYY-MM-DD", line=line, field=field
        ) from None
    name = " ".join(part for part in parts[1:-1] if not _DATE.match(part))
    return Envelope(name, first, last, int(count))


def parse_line(
    path: Path, text: str, line: int, envelope: Envelope, tick_units: TickUnits
) -> NegLine:
    """Parse one detail line, or raise B3FileError naming the line and the field."""
    values = text.rstrip("\r").split(";")
    if len(values) != len(FIELDS):
        raise B3FileError(
            path,
            f"expected {len(FIELDS)} fields separated by ';', got {len(values)}",
            line=line,
            field="layout",
        )

    def fail(index: int, why: str) -> B3FileError:
        return B3FileError(path, f"{values[index].strip()!r} {why}", line=line, field=FIELDS[index])

    session_date = _date(values[0].strip(), lambda why: fail(0, why))
    if not envelope.first_date <= session_date <= envelope.last_date:
        raise fail(0, f"is outside the header's dates {envelope.first_date}..{envelope.last_date}")
    symbol = values[1].strip()
    wanted = tick_units.accepts(symbol)
    if wanted:
        try:
            Symbol(symbol)
        except DomainError as error:
            raise fail(1, f"is not a B3 symbol ({error})") from None
    trade_number = _integer(values[2], lambda why: fail(2, why), minimum=0)
    price_units = price_text_to_units(values[3], lambda why: fail(3, why))
    try:
        tick = tick_units(symbol) if wanted else 1
    except LookupError as error:
        raise B3FileError(path, str(error), line=line, field=FIELDS[1]) from None
    if price_units % tick:
        raise fail(3, f"is not a multiple of the tick {Decimal(tick) / PRICE_SCALE} of {symbol}")
    quantity = _integer(values[4], lambda why: fail(4, why), minimum=1)
    time_ms = _time_ms(values[5].strip(), lambda why: fail(5, why))
    indicator = _choice(values[6], (TRADE, CANCELLED_TRADE), lambda why: fail(6, why))
    buy = _choice(values[10], (0, 1, 2), lambda why: fail(10, why))
    sell = _choice(values[14], (0, 1, 2), lambda why: fail(14, why))
    cross = _choice(values[15], (0, 1), lambda why: fail(15, why))
    return NegLine(
        session_date,
        symbol,
        trade_number,
        price_units,
        quantity,
        time_ms,
        aggressor_code(buy, sell),
        indicator == CANCELLED_TRADE,
        cross == 1,
    )


Fail = Callable[[str], B3FileError]


def _date(text: str, fail: Fail) -> date:
    if not _DATE.match(text):
        raise fail("is not a date YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail("is not a valid date") from None


def _integer(text: str, fail: Fail, *, minimum: int) -> int:
    text = text.strip()
    if not _INTEGER.match(text):
        raise fail("is not a whole number")
    value = int(text)
    if value < minimum:
        raise fail(f"must be >= {minimum}")
    return value


def _choice(text: str, allowed: tuple[int, ...], fail: Fail) -> int:
    text = text.strip()
    if not _INTEGER.match(text) or int(text) not in allowed:
        raise fail(f"must be one of {', '.join(map(str, allowed))}")
    return int(text)


def price_text_to_units(text: str, fail: Fail) -> int:
    """Parse a `.`-decimal price into exact integer units, or raise `fail(why)`."""
    try:
        price = Decimal(text.strip())
    except InvalidOperation:
        raise fail("is not a number") from None
    if not price.is_finite() or price <= 0:
        raise fail("must be a positive price")
    units = price * PRICE_SCALE
    if units != units.to_integral_value():
        raise fail(f"is finer than 1/{PRICE_SCALE}")
    return int(units)


def _time_ms(text: str, fail: Fail) -> int:
    match = _TIME.match(text)
    if match is None:
        raise fail("is not a time HH:MM:SS.mmm")
    hours, minutes = int(match[1]), int(match[2])
    seconds = int(match[3] or 0)
    millis = int((match[4] or "0").ljust(3, "0"))
    if hours > 23 or minutes > 59 or seconds > 59:
        raise fail("is not a valid time of day")
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis
