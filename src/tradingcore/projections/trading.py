"""Folds of trading events: order events, fills (with their causation) and position changes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tradingcore.domain.money import Money
from tradingcore.domain.order import (
    Order,
    OrderAccepted,
    OrderDenied,
    OrderEvent,
    OrderFilled,
    OrderRejected,
)
from tradingcore.domain.position import PositionEvent
from tradingcore.projections.blocks import Block, single_row
from tradingcore.projections.tables import FILLS, ORDERS, POSITIONS, b3_date_of, epoch_ms


def order_row(order: Order, event: OrderEvent, notification_id: int) -> Block:
    """Return one row per order event: what happened and the order's state after it.

    `order` must already have this event applied.
    """
    day = b3_date_of(event.timestamp)
    fill = event if isinstance(event, OrderFilled) else None
    reason = getattr(event, "reason", None) if not isinstance(event, OrderAccepted) else None
    return single_row(
        ORDERS,
        order.symbol.ticker,
        day,
        {
            "timestamp": epoch_ms(event.timestamp),
            "order_id": str(order.id),
            "version": event.originator_version,
            "event": type(event).__name__,
            "status": str(order.status),
            "account": order.account,
            "symbol": order.symbol.ticker,
            "client_order_id": order.client_order_id,
            "side": str(order.side),
            "quantity": order.quantity,
            "price": _money(order.price),
            "signal_id": None if order.signal_id is None else str(order.signal_id),
            "strategy_id": order.strategy_id,
            "venue_order_id": order.venue_order_id or None,
            "reason_code": (
                event.reason_code if isinstance(event, OrderDenied | OrderRejected) else None
            ),
            "reason": reason,
            "fill_trade_id": None if fill is None else fill.trade_id,
            "fill_quantity": None if fill is None else fill.quantity,
            "fill_price": None if fill is None else _money(fill.price),
            "filled_quantity": order.filled_quantity,
            "average_fill_price": (
                _money(order.average_fill_price) if order.filled_quantity else None
            ),
            "date": day,
            "notification_id": notification_id,
        },
    )


def fill_row(order: Order, event: OrderFilled, notification_id: int) -> Block:
    """Return a fill with its causation: the order, its client id and the signal behind it."""
    day = b3_date_of(event.timestamp)
    return single_row(
        FILLS,
        order.symbol.ticker,
        day,
        {
            "timestamp": epoch_ms(event.timestamp),
            "order_id": str(order.id),
            "trade_id": event.trade_id,
            "account": order.account,
            "symbol": order.symbol.ticker,
            "side": str(event.side),
            "quantity": event.quantity,
            "price": _money(event.price),
            "client_order_id": order.client_order_id,
            "signal_id": None if order.signal_id is None else str(order.signal_id),
            "fees": _cents(event.fees),
            "strategy_id": order.strategy_id,
            "date": day,
            "notification_id": notification_id,
        },
    )


def position_row(event: PositionEvent, notification_id: int) -> Block:
    """Return one row per position event, with the money it realized."""
    day = b3_date_of(event.timestamp)
    values: dict[str, Any] = {
        "timestamp": epoch_ms(event.timestamp),
        "position_id": str(event.originator_id),
        "version": event.originator_version,
        "event": type(event).__name__,
        "account": event.account,
        "symbol": event.symbol.ticker,
        "order_id": str(event.order_id),
        "trade_id": event.trade_id,
        "side": str(event.side),
        "quantity": event.quantity,
        "price": _money(event.price),
        "net_quantity": event.net_quantity,
        "average_price": _money(event.average_price),
        "realized_pnl": _cents(Money(event.realized_pnl)),  # = gross_realized_pnl (kept)
        "point_value": _money(event.point_value),
        "cost_basis": _money(event.cost_basis),
        "gross_realized_pnl": _cents(Money(event.realized_pnl)),
        "fees": _cents(event.fees),
        "net_realized_pnl": _cents(Money(event.realized_pnl) - event.fees),
        "date": day,
        "notification_id": notification_id,
    }
    return single_row(POSITIONS, event.symbol.ticker, day, values)


def _cents(value: Money) -> Decimal:
    """Exact cents for a decimal(18, 2) column (events before version 2 may hold more digits:
    rounded half-even, as everywhere)."""
    return value.to_cents().amount


def _money(value: Decimal) -> float:
    """Parquet keeps float64 for analysis; the store keeps the exact Decimal."""
    return float(value)
