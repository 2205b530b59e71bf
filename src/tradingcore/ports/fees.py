"""The fee model port: what one fill costs (exchange and broker fees), as Money."""

from __future__ import annotations

from typing import Protocol

from tradingcore.domain.fees import FillCharge
from tradingcore.domain.money import Money


class FeeModel(Protocol):
    """Prices a fill; `tradingcore.domain.fees.B3FeeModel` is the B3 implementation."""

    def fees(self, charge: FillCharge) -> Money:
        """Return the fill's total fees in whole cents (>= 0)."""
        ...
