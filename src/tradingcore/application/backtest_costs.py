"""Fees of the backtest's fills: a small port until the money issue's FeeModel lands."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from tradingcore.domain.values import Side, Symbol


class FillFees(Protocol):
    """Return the fees (R$, positive) of one fill."""

    def fee(self, symbol: Symbol, side: Side, quantity: int, price: Decimal) -> Decimal: ...


@dataclass(frozen=True, slots=True)
class PerContractFees:
    """A flat fee per contract (or share) traded."""

    per_contract: Decimal = Decimal(0)

    def fee(self, symbol: Symbol, side: Side, quantity: int, price: Decimal) -> Decimal:
        return self.per_contract * quantity
