"""Instrument specs: tick size, lot and point value, inferred from B3 tickers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from tradingcore.domain.errors import InvalidPrice, InvalidQuantity, UnknownInstrument
from tradingcore.domain.money import EXACT
from tradingcore.domain.values import Price, Quantity, Symbol, SymbolKind


@dataclass(frozen=True, slots=True)
class Instrument:
    """What the exchange allows for one symbol, and what a point is worth in money."""

    symbol: Symbol
    tick_size: Decimal
    lot_size: int
    point_value: Decimal
    """Money (R$) per price point per contract or share."""
    max_order_quantity: int = 1_000_000
    """The largest quantity one order may have (a domain bound, far inside the codec's 64 bits)."""

    def check_price(self, price: Price) -> Price:
        """Return the price if it is on the tick grid (or a market marker); raise otherwise."""
        if price.is_market:
            return price
        if not self.on_grid(price.value):
            raise InvalidPrice(
                f"invalid price {price.value} for {self.symbol.ticker}: "
                f"not a multiple of tick {self.tick_size}"
            )
        return price

    def on_grid(self, price: Decimal) -> bool:
        """Return True if the price is a whole number of ticks (exact, any decimal context)."""
        return EXACT.remainder(price, self.tick_size).is_zero()

    def check_quantity(self, quantity: Quantity) -> Quantity:
        """Return the quantity if it is a whole number of lots within the bound; raise otherwise."""
        if quantity.value > self.max_order_quantity:
            raise InvalidQuantity(
                f"invalid quantity {quantity.value} for {self.symbol.ticker}: "
                f"above the maximum of {self.max_order_quantity} per order"
            )
        if quantity.value % self.lot_size != 0:
            raise InvalidQuantity(
                f"invalid quantity {quantity.value} for {self.symbol.ticker}: "
                f"not a multiple of lot {self.lot_size}"
            )
        return quantity

    def money(self, points: Decimal, quantity: int) -> Decimal:
        """Return the money value of a price difference over a quantity."""
        return points * quantity * self.point_value


@dataclass(frozen=True, slots=True)
class FutureSpec:
    tick_size: Decimal
    point_value: Decimal


FUTURE_SPECS: Final[Mapping[str, FutureSpec]] = {
    "WIN": FutureSpec(Decimal(5), Decimal("0.20")),
    "IND": FutureSpec(Decimal(5), Decimal(1)),
    "WDO": FutureSpec(Decimal("0.5"), Decimal(10)),
    "DOL": FutureSpec(Decimal("0.5"), Decimal(50)),
}
"""Known B3 index and dollar futures; others are configured by the user."""

EQUITY_TICK: Final = Decimal("0.01")


DEFAULT_MAX_ORDER_QUANTITY: Final = 1_000_000


def infer_instrument(
    symbol: Symbol,
    overrides: Mapping[str, FutureSpec] | None = None,
    *,
    max_order_quantity: int = DEFAULT_MAX_ORDER_QUANTITY,
) -> Instrument:
    """Infer the spec of a symbol from its ticker alone, or raise UnknownInstrument."""
    specs = {**FUTURE_SPECS, **(overrides or {})}
    kind = symbol.kind
    if kind in (SymbolKind.FUTURE, SymbolKind.GENERIC_FUTURE):
        spec = specs.get(symbol.root)
        if spec is None:
            raise UnknownInstrument(
                f"unknown instrument {symbol.ticker}: no spec for futures root {symbol.root!r}; "
                f"known roots are {', '.join(sorted(specs))}; configure one"
            )
        return Instrument(symbol, spec.tick_size, 1, spec.point_value, max_order_quantity)
    if kind is SymbolKind.STOCK:
        lot = 1 if symbol.ticker.endswith("F") else 100
        return Instrument(symbol, EQUITY_TICK, lot, Decimal(1), max_order_quantity)
    return Instrument(symbol, EQUITY_TICK, 1, Decimal(1), max_order_quantity)
