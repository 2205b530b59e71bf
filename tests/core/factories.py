"""Stub factories for commands and aggregates (no deep fixture chains)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tradingcore.domain.commands import SubmitOrder
from tradingcore.domain.instruments import infer_instrument
from tradingcore.domain.order import Order
from tradingcore.domain.values import Price, Quantity, Side, Symbol

AT = datetime(2025, 12, 1, 13, 0, tzinfo=UTC)
WIN = Symbol("WINZ25")


def submit_order(
    client_order_id: str = "c-1",
    *,
    side: Side = Side.BUY,
    quantity: int = 5,
    price: Decimal | int = 127_850,
    symbol: Symbol = WIN,
    account: str = "acct",
) -> SubmitOrder:
    return SubmitOrder(client_order_id, account, symbol, side, Quantity(quantity), Price.of(price))


def new_order(**kwargs: object) -> Order:
    command = submit_order(**kwargs)  # type: ignore[arg-type]
    return Order.submit(command, infer_instrument(command.symbol), AT)
