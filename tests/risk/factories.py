"""Stub factories for risk tests: an order intent and a context that passes every check."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tradingcore.domain.values import Side, Symbol
from tradingcore.risk.checks import OrderIntent, RiskContext

NOW = datetime(2025, 12, 1, 15, 0, tzinfo=UTC)  # a Monday, 12:00 in São Paulo
WIN = Symbol("WINZ25")


def intent(**changes: Any) -> OrderIntent:
    base = OrderIntent("alice", WIN, Side.BUY, 1, Decimal(127_850), Decimal("0.20"))
    return replace(base, **changes)


def context(**changes: Any) -> RiskContext:
    base = RiskContext(
        now=NOW,
        intent=intent(),
        kill_switch_engaged=False,
        broker_connected=True,
        last_price=Decimal(127_850),
        last_trade_at=NOW - timedelta(seconds=1),
        net_position=0,
        open_buy_quantity=0,
        open_sell_quantity=0,
        daily_pnl=Decimal(0),
        recent_orders=(),
    )
    return replace(base, **changes)
