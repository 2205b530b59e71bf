"""B3 trading costs: exchange fees per contract or on notional, and the broker's fee."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Final

from tradingcore.domain.errors import DomainError
from tradingcore.domain.instruments import Instrument
from tradingcore.domain.money import BRL, EXACT, Money
from tradingcore.domain.values import Side, SymbolKind

B3_TIME: Final = timezone(timedelta(hours=-3), "BRT")
"""B3 runs on São Paulo time, a fixed UTC-3 since 2019 (no daylight saving)."""


def session_of(at: datetime) -> date:
    """Return the B3 trading day of a moment (its São Paulo date)."""
    return at.astimezone(B3_TIME).date()


class InvalidFeeSchedule(DomainError):
    """A fee table has a negative, non-numeric or unknown entry."""


@dataclass(frozen=True, slots=True)
class FillCharge:
    """What a fee model needs to price one fill."""

    instrument: Instrument
    side: Side
    price: Decimal
    quantity: int
    closing_quantity: int
    """Of `quantity`, how much closes open quantity (the rest opens)."""
    day_trade_quantity: int
    """Of `closing_quantity`, how much closes quantity opened in the same session."""
    first_fill_of_order: bool
    """True on an order's first fill: a per-order broker fee is charged once, there."""


@dataclass(frozen=True, slots=True)
class Rates:
    """One charge, at the day-trade rate and at the position-trade (carried) rate."""

    day_trade: Decimal
    position_trade: Decimal


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Exchange and broker fees; `as_of` and `source` say where the figures come from."""

    futures: Mapping[str, Rates] = field(default_factory=dict)
    """R$ per contract (emolumentos + registration) by futures root (WIN, WDO...)."""
    stocks: Rates = field(default_factory=lambda: Rates(Decimal(0), Decimal(0)))
    """Fraction of the notional (negotiation + settlement) for stocks, units and ETFs."""
    broker_per_contract: Decimal = Decimal(0)
    broker_per_order: Decimal = Decimal(0)
    opening_as_day_trade: bool = True
    """Price opening quantity at the day-trade rate (the user is expected to close it the same
    session); B3 reclassifies at the end of the day, which this model does not do."""
    as_of: date | None = None
    source: str = ""

    @classmethod
    def from_plain(cls, plain: Mapping[str, Any], base: FeeSchedule | None = None) -> FeeSchedule:
        """Return a schedule from a plain mapping (a `[fees]` TOML section) over `base`.

        Keys: `futures.<ROOT>.day_trade` / `.position_trade` (R$ per contract),
        `stocks.day_trade` / `.position_trade` (fraction of notional, e.g. 0.00023),
        `broker_per_contract`, `broker_per_order` (R$), `opening_as_day_trade`, `as_of`, `source`.
        Numbers may be strings (exact) or ints; a float is read through its shortest repr.
        """
        base = base or B3_DEFAULTS
        known = {"futures", "stocks", "broker_per_contract", "broker_per_order"}
        known |= {"opening_as_day_trade", "as_of", "source"}
        unknown = set(plain) - known
        if unknown:
            raise InvalidFeeSchedule(
                f"invalid fee schedule: unknown keys {sorted(unknown)}; known are {sorted(known)}"
            )
        futures = dict(base.futures)
        for root, rates in dict(plain.get("futures", {})).items():
            futures[str(root).upper()] = _rates(rates, futures.get(str(root).upper()), root)
        stocks = _rates(plain.get("stocks", {}), base.stocks, "stocks")
        as_of = plain.get("as_of", base.as_of)
        if isinstance(as_of, str):
            as_of = date.fromisoformat(as_of)
        return cls(
            futures=futures,
            stocks=stocks,
            broker_per_contract=_amount(
                plain.get("broker_per_contract", base.broker_per_contract), "broker_per_contract"
            ),
            broker_per_order=_amount(
                plain.get("broker_per_order", base.broker_per_order), "broker_per_order"
            ),
            opening_as_day_trade=bool(plain.get("opening_as_day_trade", base.opening_as_day_trade)),
            as_of=as_of,
            source=str(plain.get("source", base.source)),
        )


def _amount(value: object, what: str) -> Decimal:
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidFeeSchedule(f"invalid fee {what} {value!r}: not a number")
    else:
        try:
            number = Decimal(repr(value) if isinstance(value, float) else value)
        except ArithmeticError:
            raise InvalidFeeSchedule(f"invalid fee {what} {value!r}: not a number") from None
    if not number.is_finite() or number < 0:
        raise InvalidFeeSchedule(f"invalid fee {what} {value!r}: must be a number >= 0")
    return number


def _rates(plain: object, base: Rates | None, what: object) -> Rates:
    if not isinstance(plain, Mapping):
        raise InvalidFeeSchedule(f"invalid fee rates for {what}: expected a table, got {plain!r}")
    unknown = set(plain) - {"day_trade", "position_trade"}
    if unknown:
        raise InvalidFeeSchedule(f"invalid fee rates for {what}: unknown keys {sorted(unknown)}")
    if base is None and not {"day_trade", "position_trade"} <= set(plain):
        raise InvalidFeeSchedule(
            f"invalid fee rates for {what}: a new entry needs day_trade and position_trade"
        )
    day = plain.get("day_trade", base.day_trade if base else 0)
    position = plain.get("position_trade", base.position_trade if base else 0)
    return Rates(_amount(day, f"{what}.day_trade"), _amount(position, f"{what}.position_trade"))


B3_DEFAULTS: Final = FeeSchedule(
    futures={
        "WIN": Rates(Decimal("0.25"), Decimal("0.35")),
        "WDO": Rates(Decimal("0.90"), Decimal("1.07")),
    },
    stocks=Rates(Decimal("0.00023"), Decimal("0.00030")),
    as_of=date(2025, 12, 1),
    source="docs/money.md: B3 tariff tables, retail tier (approximate: check your broker's note)",
)
"""Default figures, approximate and dated: see docs/money.md for their source and caveats."""


class B3FeeModel:
    """The fee model of B3 listed markets: a pure function of the fill and the schedule."""

    def __init__(self, schedule: FeeSchedule = B3_DEFAULTS) -> None:
        self.schedule = schedule

    def fees(self, charge: FillCharge) -> Money:
        """Return the fill's exchange plus broker fees, rounded half-even to the cent."""
        schedule = self.schedule
        opening = charge.quantity - charge.closing_quantity
        day = charge.day_trade_quantity + (opening if schedule.opening_as_day_trade else 0)
        carried = charge.quantity - day
        instrument = charge.instrument
        kind = instrument.symbol.kind
        # Sums and products in the EXACT context: exact whatever the caller's decimal context.
        add, multiply = EXACT.add, EXACT.multiply
        total = multiply(schedule.broker_per_contract, Decimal(charge.quantity))
        if charge.first_fill_of_order:
            total = add(total, schedule.broker_per_order)
        if kind in (SymbolKind.FUTURE, SymbolKind.GENERIC_FUTURE):
            rates = schedule.futures.get(instrument.symbol.root)
            if rates is not None:
                total = add(total, _weighted(rates, day, carried))
        else:
            notional = multiply(charge.price, instrument.point_value)
            total = add(total, multiply(notional, _weighted(schedule.stocks, day, carried)))
        return Money.rounded(total, BRL)


def _weighted(rates: Rates, day: int, carried: int) -> Decimal:
    day_part = EXACT.multiply(rates.day_trade, Decimal(day))
    return EXACT.add(day_part, EXACT.multiply(rates.position_trade, Decimal(carried)))


class NoFees:
    """A fee model that charges nothing (the default of a bare TradingApplication)."""

    def fees(self, charge: FillCharge) -> Money:
        return Money.zero()
