"""Domain objects to response bodies, and the error responses each route documents."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Final

from litestar.openapi.datastructures import ResponseSpec

from adapters.jsonlog import iso_ms
from hosts.api.schemas import (
    ErrorOut,
    KillSwitchOut,
    LimitsOut,
    OrderOut,
    PositionOut,
    PositionsOut,
    RiskLimitsOut,
    SignalOut,
)
from tradingcore.application.position_views import PositionView
from tradingcore.domain.kill_switch import KillSwitch
from tradingcore.domain.money import BRL, Money
from tradingcore.domain.order import Order
from tradingcore.domain.signal import Signal
from tradingcore.risk.limits import RiskLimits

DESCRIPTIONS: Final = {
    400: "The body or a parameter breaks the schema; `extra` names the field and why",
    401: "Missing or invalid X-API-Key",
    403: "The API key lacks the admin role",
    404: "No such resource for this API key",
    409: "Conflicts with the current state (client order id reused, order not open)",
    413: "The body is larger than the limit",
    415: "The body is not sent as application/json",
    422: "Well-formed but breaks a domain rule (tick grid, lot, instrument); `extra` names it",
    429: "Rate limit hit (per client address or per key); see Retry-After and RateLimit-*",
    503: "A dependency (store, broker, feed) is unhealthy",
}


def error_responses(*codes: int) -> dict[int, ResponseSpec]:
    """Document error answers; 400, 401 and 429 can come from every protected route, 415 and
    503 (the store failing) from every route that takes a body (those document 413)."""
    chosen = sorted({400, 401, 429, *codes, *((415, 503) if 413 in codes else ())})
    return {
        code: ResponseSpec(ErrorOut, generate_examples=False, description=DESCRIPTIONS[code])
        for code in chosen
    }


def order_out(order: Order) -> OrderOut:
    return OrderOut(
        order_id=str(order.id),
        client_order_id=order.client_order_id,
        account=order.account,
        symbol=order.symbol.ticker,
        side=order.side.value,
        quantity=order.quantity,
        price=float(order.price),
        status=order.status.value,
        filled_quantity=order.filled_quantity,
        average_fill_price=float(order.average_fill_price),
        fees=order.fees.text,
        reason_code=order.reason_code,
        reason=order.reason,
        venue_order_id=order.venue_order_id,
        signal_id=str(order.signal_id) if order.signal_id else None,
        submitted_at=iso_ms(order.submitted_at) if order.submitted_at else "",
    )


def signal_out(signal: Signal) -> SignalOut:
    return SignalOut(
        signal_id=str(signal.id),
        symbol=signal.symbol.ticker,
        direction=signal.direction.value,
        confidence=signal.confidence,
        features=dict(signal.features),
        model_version=signal.model_version,
        tick_trade_id=signal.tick_trade_id,
        tick_timestamp_ms=signal.tick_timestamp_ms,
        price=signal.price,
    )


def positions_out(account: str, views: Iterable[PositionView]) -> PositionsOut:
    rows = []
    gross = fees = Money.zero()
    unrealized: Money | None = Money.zero()
    for view in views:
        position = view.position
        gross += position.gross_realized_pnl
        fees += position.fees
        if unrealized is not None:
            unrealized = None if view.unrealized_pnl is None else unrealized + view.unrealized_pnl
        net = position.net_realized_pnl
        rows.append(
            PositionOut(
                symbol=position.symbol.ticker,
                net_quantity=position.net_quantity,
                average_price=float(position.average_price),
                currency=BRL,
                gross_realized_pnl=position.gross_realized_pnl.text,
                fees=position.fees.text,
                net_realized_pnl=net.text,
                realized_pnl=net.text,
                daily_realized_pnl=view.daily_realized_pnl.text,
                unrealized_pnl=None if view.unrealized_pnl is None else view.unrealized_pnl.text,
                last_price=_float(view.last_price),
            )
        )
    return PositionsOut(
        account=account,
        currency=BRL,
        positions=rows,
        gross_realized_pnl=gross.text,
        fees=fees.text,
        net_realized_pnl=(gross - fees).text,
        realized_pnl=(gross - fees).text,
        unrealized_pnl=None if unrealized is None else unrealized.text,
    )


def kill_switch_out(switch: KillSwitch, canceled: int = 0) -> KillSwitchOut:
    return KillSwitchOut(
        engaged=switch.engaged,
        actor=switch.actor,
        reason=switch.reason,
        changed_at=iso_ms(switch.changed_at) if switch.changed_at else None,
        canceled_orders=canceled,
    )


def limits_out(limits: RiskLimits) -> RiskLimitsOut:
    plain = limits.to_plain()
    return RiskLimitsOut(limits=LimitsOut.model_validate(plain, strict=False))


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)
