"""Pre-trade checks: pure functions from the facts of one order to a decision with a reason.

Every check fails closed: a missing, stale or non-finite fact denies the order.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Final

from tradingcore.domain.values import Side
from tradingcore.risk.calendar import SessionCalendar
from tradingcore.risk.context import OrderIntent, RecentOrder, RiskContext, RiskDecision
from tradingcore.risk.limits import ReasonCode, RiskLimits

__all__ = [
    "CHECKS",
    "OrderIntent",
    "RecentOrder",
    "RiskContext",
    "RiskDecision",
    "evaluate",
    "is_risk_reducing",
]


APPROVED: Final = RiskDecision.approve()

Check = Callable[[RiskContext, RiskLimits, SessionCalendar], RiskDecision]


def check_kill_switch(
    context: RiskContext, limits: RiskLimits, calendar: SessionCalendar
) -> RiskDecision:
    if context.kill_switch_engaged is None:
        return RiskDecision.deny(
            ReasonCode.RISK_STATE_UNREADABLE, "the kill switch state could not be read"
        )
    if context.kill_switch_engaged:
        return RiskDecision.deny(
            ReasonCode.KILL_SWITCH_ENGAGED, "the kill switch is engaged: no new orders"
        )
    return APPROVED


def check_allowed_symbol(
    context: RiskContext, limits: RiskLimits, calendar: SessionCalendar
) -> RiskDecision:
    root = context.intent.symbol.root
    if limits.allowed_roots and root not in limits.allowed_roots:
        return RiskDecision.deny(
            ReasonCode.SYMBOL_NOT_ALLOWED,
            f"{context.intent.symbol.ticker} is not tradable: allowed roots are "
            f"{', '.join(sorted(limits.allowed_roots))}",
        )
    return APPROVED


def check_trading_hours(
    context: RiskContext, limits: RiskLimits, calendar: SessionCalendar
) -> RiskDecision:
    if not calendar.is_open(context.now):
        return RiskDecision.deny(
            ReasonCode.OUTSIDE_TRADING_HOURS,
            f"the market is closed at {context.now.isoformat()} "
            f"(session {calendar.opens}-{calendar.closes} São Paulo time)",
        )
    return APPROVED


def check_broker_connection(
    context: RiskContext, limits: RiskLimits, calendar: SessionCalendar
) -> RiskDecision:
    if not context.broker_connected:
        return RiskDecision.deny(ReasonCode.BROKER_DISCONNECTED, "the broker is not connected")
    return APPROVED


def check_market_data(
    context: RiskContext, limits: RiskLimits, calendar: SessionCalendar
) -> RiskDecision:
    ticker = context.intent.symbol.ticker
    price, at = context.last_price, context.last_trade_at
    if price is None or at is None or not price.is_finite() or price <= 0:
        return RiskDecision.deny(
            ReasonCode.MARKET_DATA_MISSING, f"no valid last trade of {ticker} is known"
        )
    age = context.now - at
    if age > limits.market_data_max_age:
        return RiskDecision.deny(
            ReasonCode.MARKET_DATA_STALE,
            f"the last trade of {ticker} is {age.total_seconds():.1f} s old "
            f"(limit {limits.market_data_max_age.total_seconds():.0f} s)",
        )
    return APPROVED


def check_order_quantity(
    context: RiskContext, limits: RiskLimits, calendar: SessionCalendar
) -> RiskDecision:
    if context.intent.quantity > limits.max_order_quantity:
        return RiskDecision.deny(
            ReasonCode.MAX_ORDER_QUANTITY,
            f"quantity {context.intent.quantity} exceeds the limit {limits.max_order_quantity}",
        )
    return APPROVED


def check_order_notional(
    context: RiskContext, limits: RiskLimits, calendar: SessionCalendar
) -> RiskDecision:
    intent = context.intent
    price = context.last_price if intent.is_market else intent.price
    if price is None or not price.is_finite():
        return RiskDecision.deny(
            ReasonCode.MARKET_DATA_MISSING, "no reference price to value a market order"
        )
    notional = price * intent.quantity * intent.point_value
    if notional > limits.max_order_notional:
        return RiskDecision.deny(
            ReasonCode.MAX_ORDER_NOTIONAL,
            f"notional R$ {notional:,.2f} exceeds the limit R$ {limits.max_order_notional:,.2f}",
        )
    return APPROVED


def check_price_band(
    context: RiskContext, limits: RiskLimits, calendar: SessionCalendar
) -> RiskDecision:
    intent = context.intent
    if intent.is_market:
        return APPROVED
    reference = context.last_price
    if reference is None or not reference.is_finite() or reference <= 0:
        return RiskDecision.deny(
            ReasonCode.MARKET_DATA_MISSING, "no reference price for the price band"
        )
    distance = abs(intent.price - reference) / reference
    if distance > limits.price_band_fraction:
        return RiskDecision.deny(
            ReasonCode.PRICE_BAND,
            f"price {intent.price} is {distance:.2%} from the last trade {reference} "
            f"(band {limits.price_band_fraction:.2%})",
        )
    return APPROVED


def is_risk_reducing(context: RiskContext) -> bool:
    """Return whether the order, filled with every open order on its side, shrinks exposure."""
    net = context.net_position
    if net is None or net == 0:
        return False
    intent = context.intent
    if (net > 0) == (intent.side is Side.BUY):
        return False
    pending = context.open_sell_quantity if net > 0 else context.open_buy_quantity
    return pending + intent.quantity <= abs(net)


def check_position(
    context: RiskContext, limits: RiskLimits, calendar: SessionCalendar
) -> RiskDecision:
    net = context.net_position
    if net is None:
        return RiskDecision.deny(ReasonCode.RISK_STATE_UNREADABLE, "the position could not be read")
    intent = context.intent
    if intent.side is Side.BUY:
        projected = net + context.open_buy_quantity + intent.quantity
    else:
        projected = net - context.open_sell_quantity - intent.quantity
    if abs(projected) > limits.max_position and not is_risk_reducing(context):
        return RiskDecision.deny(
            ReasonCode.MAX_POSITION,
            f"projected position {projected} of {intent.symbol.ticker} (net {net}, open orders "
            f"included) exceeds the limit {limits.max_position}",
        )
    return APPROVED


def check_daily_loss(
    context: RiskContext, limits: RiskLimits, calendar: SessionCalendar
) -> RiskDecision:
    pnl = context.daily_pnl
    if pnl is None or not pnl.is_finite():
        return RiskDecision.deny(
            ReasonCode.RISK_STATE_UNREADABLE, "the daily P&L could not be computed"
        )
    if pnl <= -limits.daily_loss_limit and not is_risk_reducing(context):
        return RiskDecision.deny(
            ReasonCode.DAILY_LOSS_LIMIT,
            f"the daily loss R$ {-pnl:,.2f} reached the limit R$ {limits.daily_loss_limit:,.2f}: "
            "only risk-reducing orders pass",
        )
    return APPROVED


def check_order_rate(
    context: RiskContext, limits: RiskLimits, calendar: SessionCalendar
) -> RiskDecision:
    since = context.now - limits.throttle_window
    recent = context.recent_orders  # oldest first: count the ones after `since` in O(log n)
    count = len(recent) - bisect_right(recent, since, key=_passed_at)
    if count >= limits.max_orders_per_window:
        return RiskDecision.deny(
            ReasonCode.ORDER_RATE,
            f"{count} orders in the last {limits.throttle_window.total_seconds():g} s "
            f"(limit {limits.max_orders_per_window})",
        )
    return APPROVED


def _passed_at(order: RecentOrder) -> datetime:
    return order.at


def check_duplicate(
    context: RiskContext, limits: RiskLimits, calendar: SessionCalendar
) -> RiskDecision:
    """Deny the same decision sent twice within the window (a double click, a blind retry).

    An order acting on a signal is one decision per signal: a position policy's SELL 1 to go
    flat and its SELL 1 to go short on the next signal are two decisions, not a duplicate.
    Orders with no signal (manual, a strategy's own) are compared on their fields alone.
    """
    intent = context.intent
    since = context.now - limits.duplicate_window
    for order in reversed(context.recent_orders):
        if order.at <= since:
            break
        same = (order.symbol, order.side, order.quantity, order.price, order.signal_id) == (
            intent.symbol,
            intent.side,
            intent.quantity,
            intent.price,
            intent.signal_id,
        )
        if same:
            cause = "" if intent.signal_id is None else f" for signal {intent.signal_id}"
            return RiskDecision.deny(
                ReasonCode.DUPLICATE_ORDER,
                f"the same order ({intent.side} {intent.quantity} {intent.symbol.ticker} @ "
                f"{intent.price}){cause} passed "
                f"{(context.now - order.at).total_seconds():.3f} s ago",
            )
    return APPROVED


CHECKS: Final[tuple[Check, ...]] = (
    check_kill_switch,
    check_allowed_symbol,
    check_trading_hours,
    check_broker_connection,
    check_market_data,
    check_order_quantity,
    check_order_notional,
    check_price_band,
    check_position,
    check_daily_loss,
    check_order_rate,
    check_duplicate,
)


def evaluate(
    context: RiskContext,
    limits: RiskLimits,
    calendar: SessionCalendar,
    checks: Sequence[Check] = CHECKS,
) -> RiskDecision:
    """Run the checks in order; the first denial decides."""
    for check in checks:
        decision = check(context, limits, calendar)
        if not decision.approved:
            return decision
    return APPROVED
