"""Value objects: exact prices and quantities, B3 symbols, sides and typed ids."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from typing import Final, NewType

from tradingcore.domain.errors import InvalidPrice, InvalidQuantity, InvalidSymbol

MARKET_PRICE_MARKER: Final = Decimal(-1)
"""The spec's price for a market order (ProfitDLL sends -1 as well)."""

PRICE_SCALE: Final = 10_000
"""Tape prices are stored as integers of 1/10,000 of a price unit (exact for B3 grids)."""

NAMESPACE: Final = uuid.UUID("6f1c1d2e-6a57-4d3c-9a43-2f4a0b8f7a10")
"""Namespace for deterministic (uuid5) aggregate ids."""

OrderId = NewType("OrderId", uuid.UUID)
SignalId = NewType("SignalId", uuid.UUID)
ClientOrderId = NewType("ClientOrderId", str)
TradeId = NewType("TradeId", int)
AccountId = NewType("AccountId", str)


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        """Return +1 for a buy and -1 for a sell."""
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class Aggressor(StrEnum):
    """Who initiated a trade: the buyer, the seller, or nobody (an auction print)."""

    BUY = "B"
    SELL = "S"
    NONE = "N"


def to_decimal(value: object, what: str) -> Decimal:
    """Convert an int, str, float or Decimal to an exact finite Decimal."""
    try:
        if isinstance(value, float):
            number = Decimal(repr(value))
        elif isinstance(value, Decimal | int | str):
            number = Decimal(value)
        else:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise InvalidPrice(f"invalid {what} {value!r}: not a number") from None
    if not number.is_finite():
        raise InvalidPrice(f"invalid {what} {value!r}: not finite")
    return number


@dataclass(frozen=True, slots=True, order=True)
class Price:
    """An exact price: positive, or the market-order marker -1."""

    value: Decimal

    def __post_init__(self) -> None:
        value = to_decimal(self.value, "price")
        if value <= 0 and value != MARKET_PRICE_MARKER:
            raise InvalidPrice(f"invalid price {value}: must be > 0, or -1 for a market order")
        object.__setattr__(self, "value", value)

    @classmethod
    def of(cls, value: object) -> Price:
        """Build a price from an int, str, float or Decimal."""
        return cls(to_decimal(value, "price"))

    @classmethod
    def market(cls) -> Price:
        return cls(MARKET_PRICE_MARKER)

    @property
    def is_market(self) -> bool:
        return self.value == MARKET_PRICE_MARKER

    def to_units(self) -> int:
        """Return the price in integer units of 1/PRICE_SCALE."""
        return price_to_units(self.value)

    def __str__(self) -> str:
        return str(self.value)


def price_to_units(value: Decimal) -> int:
    """Convert an exact price to integer units of 1/PRICE_SCALE, refusing finer prices."""
    scaled = value * PRICE_SCALE
    if scaled != scaled.to_integral_value():
        raise InvalidPrice(f"invalid price {value}: finer than 1/{PRICE_SCALE}")
    return int(scaled)


def units_to_price(units: int) -> Decimal:
    """Convert integer price units back to an exact Decimal."""
    return Decimal(units) / PRICE_SCALE


@dataclass(frozen=True, slots=True, order=True)
class Quantity:
    """A strictly positive whole number of contracts or shares."""

    value: int

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise InvalidQuantity(f"invalid quantity {self.value!r}: must be a whole number")
        if self.value <= 0:
            raise InvalidQuantity(f"invalid quantity {self.value}: must be > 0")

    def __int__(self) -> int:
        return self.value


_FUTURE = re.compile(r"^(?P<root>[A-Z][A-Z0-9]{2})(?P<month>[FGHJKMNQUVXZ])(?P<year>\d{2})$")
_GENERIC_FUTURE = re.compile(r"^(?P<root>[A-Z][A-Z0-9]{2})FUT$")
_STOCK = re.compile(r"^(?P<root>[A-Z]{4})(?P<kind>3|4|5|6|7|8|11|3[1-5]|39)(?P<fractional>F?)$")
_OPTION = re.compile(r"^(?P<root>[A-Z]{4})(?P<series>[A-X])(?P<strike>\d{1,3})(?:W\d)?E?$")
_EXCHANGE = re.compile(r"^[A-Z][A-Z0-9]{0,9}$")

FUTURE_MONTH_CODES: Final = "FGHJKMNQUVXZ"
KNOWN_FUTURE_ROOTS: Final = frozenset(
    {
        "WIN",
        "IND",
        "WDO",
        "DOL",
        "DI1",
        "BGI",
        "CCM",
        "ICF",
        "SJC",
        "ETH",
        "BIT",
        "WSP",
        "ISP",
        "DAP",
        "WEU",
        "EUR",
        "DDI",
        "FRC",
        "OZ1",
    }
)
"""Futures roots that win when a ticker also reads as a stock (WINF31 vs KLBN11)."""


class SymbolKind(StrEnum):
    FUTURE = "future"
    GENERIC_FUTURE = "generic_future"
    STOCK = "stock"
    OPTION = "option"


@dataclass(frozen=True, slots=True, order=True)
class Symbol:
    """A B3 ticker and its exchange, both upper-cased: `WINZ25:B3`."""

    ticker: str
    exchange: str = "B3"

    def __post_init__(self) -> None:
        if not isinstance(self.ticker, str) or not self.ticker.strip():
            raise InvalidSymbol(f"invalid symbol {self.ticker!r}: the ticker is empty")
        ticker = self.ticker.strip().upper()
        exchange = str(self.exchange).strip().upper()
        if not _EXCHANGE.match(exchange):
            raise InvalidSymbol(f"invalid exchange {self.exchange!r}: letters and digits only")
        object.__setattr__(self, "ticker", ticker)
        object.__setattr__(self, "exchange", exchange)
        classify(ticker)

    @classmethod
    def parse(cls, text: str) -> Symbol:
        """Parse `WINZ25` or `WINZ25:B3`."""
        ticker, _, exchange = text.partition(":")
        return cls(ticker, exchange or "B3")

    @property
    def full_symbol(self) -> str:
        return f"{self.ticker}:{self.exchange}"

    @property
    def kind(self) -> SymbolKind:
        return classify(self.ticker)

    @property
    def root(self) -> str:
        """Return the asset root: `WIN` for WINZ25, `PETR` for PETR4 and PETRL80."""
        return self.ticker[:3] if self.kind in _FUTURE_KINDS else self.ticker[:4]

    def __str__(self) -> str:
        return self.ticker


_FUTURE_KINDS: Final = (SymbolKind.FUTURE, SymbolKind.GENERIC_FUTURE)


def classify(ticker: str) -> SymbolKind:
    """Classify a B3 ticker, or raise InvalidSymbol naming the formats it failed."""
    future = _FUTURE.match(ticker)
    if future and (future["root"] in KNOWN_FUTURE_ROOTS or not _STOCK.match(ticker)):
        return SymbolKind.FUTURE
    if _GENERIC_FUTURE.match(ticker):
        return SymbolKind.GENERIC_FUTURE
    if _STOCK.match(ticker):
        return SymbolKind.STOCK
    if _OPTION.match(ticker):
        return SymbolKind.OPTION
    raise InvalidSymbol(
        f"invalid symbol {ticker!r}: not a B3 future (root + month code {FUTURE_MONTH_CODES} + "
        "2-digit year, e.g. WINZ25), a stock/unit/ETF (4 letters + 3-8, 11 or a BDR class, "
        "optional F, e.g. PETR4, BOVA11) or a stock option (4 letters + series A-X + strike, "
        "e.g. PETRL80)"
    )


def deterministic_id(*parts: object) -> uuid.UUID:
    """Return a uuid5 built from the given parts, stable across runs and machines."""
    return _uuid5("|".join(str(part) for part in parts))


@lru_cache(maxsize=4_096)
def _uuid5(name: str) -> uuid.UUID:
    # Keyed on the joined text, not the parts: Decimal("1.0") == Decimal("1.00") as keys, but
    # their ids differ. Position, tape and order ids repeat (a backtest asks ~3 times each),
    # soon after each other: a few thousand recent names are enough. At 65,536 names (~280
    # bytes each with its UUID) the API host grew ~19 MB, one order, signal and audit id at a
    # time, over its first ~20 minutes at 60 orders/s.
    return uuid.uuid5(NAMESPACE, name)
