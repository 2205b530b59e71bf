"""Tick sizes for imported symbols: inferred from the ticker, or configured by the user."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from tradingcore.domain.errors import DomainError
from tradingcore.domain.instruments import infer_instrument
from tradingcore.domain.values import PRICE_SCALE, Symbol


class TickSizes:
    """Tick size in price units per ticker (`--tick` overrides first), and which to import.

    `only` names tickers or ticker prefixes (`WIN`, `WDOF26`) to import; trades of other
    symbols are read for the file's layout and then left out (NEG_BMF files mix hundreds of
    derivatives, many with tickers our Symbol rules do not know).
    """

    def __init__(
        self, overrides: Mapping[str, Decimal] | None = None, only: Iterable[str] | None = None
    ) -> None:
        self.overrides = {key.upper(): value for key, value in (overrides or {}).items()}
        self.only = tuple(prefix.strip().upper() for prefix in only or () if prefix.strip())
        self._cache: dict[str, int] = {}

    def accepts(self, ticker: str) -> bool:
        """Return whether trades of this ticker are imported."""
        return not self.only or ticker.startswith(self.only)

    def __call__(self, ticker: str) -> int:
        """Return the tick of a ticker in units of 1/PRICE_SCALE, or raise LookupError."""
        units = self._cache.get(ticker)
        if units is None:
            units = self._cache[ticker] = to_units(self._tick(ticker), ticker)
        return units

    def _tick(self, ticker: str) -> Decimal:
        if ticker in self.overrides:
            return self.overrides[ticker]
        try:
            symbol = Symbol(ticker)
        except DomainError as error:
            raise LookupError(str(error)) from None
        if symbol.root in self.overrides:
            return self.overrides[symbol.root]
        try:
            return infer_instrument(symbol).tick_size
        except DomainError:
            raise LookupError(
                f"no tick size known for {ticker}: pass --tick {ticker}=SIZE "
                f"(or --tick {symbol.root}=SIZE for every {symbol.root} contract)"
            ) from None


def to_units(tick: Decimal, ticker: str) -> int:
    units = tick * PRICE_SCALE
    if tick <= 0 or units != units.to_integral_value():
        raise LookupError(
            f"tick {tick} of {ticker} must be positive and a multiple of 1/{PRICE_SCALE}"
        )
    return int(units)


def parse_tick_option(text: str) -> tuple[str, Decimal]:
    """Parse `SYMBOL=SIZE` (e.g. `DI1F27=0.001` or `DI1=0.001`), or raise ValueError."""
    name, separator, size = text.partition("=")
    if not separator or not name.strip():
        raise ValueError(f"--tick {text!r}: expected SYMBOL=SIZE, e.g. WDOF26=0.5")
    try:
        tick = Decimal(size.strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"--tick {text!r}: size {size!r} is not a number") from None
    if not tick.is_finite() or tick <= 0:
        raise ValueError(f"--tick {text!r}: size must be a positive number")
    return name.strip().upper(), tick
