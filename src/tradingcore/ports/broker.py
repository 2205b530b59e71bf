"""The broker port: orders go out, acknowledgements and fills come back to a listener."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from tradingcore.domain.values import MARKET_PRICE_MARKER, Side, Symbol


@dataclass(frozen=True, slots=True)
class BrokerOrder:
    """What a broker needs to route an order; price -1 is a market order."""

    order_id: uuid.UUID
    account: str
    symbol: Symbol
    side: Side
    quantity: int
    price: Decimal

    @property
    def is_market(self) -> bool:
        return self.price == MARKET_PRICE_MARKER


class BrokerListener(Protocol):
    def on_order_accepted(self, order_id: uuid.UUID, venue_order_id: str) -> None: ...

    def on_order_rejected(self, order_id: uuid.UUID, reason_code: str, reason: str) -> None: ...

    def on_order_filled(
        self, order_id: uuid.UUID, trade_id: int, price: Decimal, quantity: int
    ) -> None: ...

    def on_order_canceled(self, order_id: uuid.UUID, reason: str) -> None: ...


class Broker(Protocol):
    """Routes orders to a venue: the paper broker or ProfitDLL."""

    def connect(self, listener: BrokerListener) -> None: ...

    @property
    def is_connected(self) -> bool: ...

    def send(self, order: BrokerOrder) -> None: ...

    def cancel(self, order_id: uuid.UUID) -> None: ...
