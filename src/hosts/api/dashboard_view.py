"""Build the dashboard's body for one key: its accounts only (an admin: all, or one filtered)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any, Final

from adapters.jsonlog import iso_ms
from hosts.api.activity import ALL, Activity, LatencySeries
from hosts.api.activity_rows import OrderRow, PnlChange
from hosts.api.auth import Principal
from hosts.api.dashboard_schemas import (
    ChartsOut,
    DashboardFillOut,
    DashboardOrderOut,
    DashboardOut,
    DashboardPositionOut,
    DashboardSignalOut,
    HitRateSeriesOut,
    HostHealthOut,
    LatencySeriesOut,
    PnlSeriesOut,
    TotalsOut,
    ViewerOut,
)
from hosts.api.host import ApiHost
from hosts.api.latency_windows import HistogramWindows
from hosts.api.peers import PeerHealth, summarize, summarize_gauges
from hosts.api.views import kill_switch_out
from tradingcore.application.position_views import positions_of
from tradingcore.domain.errors import DomainError
from tradingcore.domain.instruments import infer_instrument
from tradingcore.domain.money import Money
from tradingcore.domain.values import Symbol

ROWS: Final = 100
"""Signals, orders and fills sent per list."""
CENT: Final = Decimal("0.01")
MARKET: Final = Decimal(-1)


def money_text(value: Money | Decimal) -> str:
    """R$ to the cent as a decimal string ("-12.30"), never "-0.00"."""
    money = value if isinstance(value, Money) else Money(value)
    return money.text


def price_text(symbol: str, value: Decimal | Fraction | float | None) -> str | None:
    """A price to the decimals of the instrument's tick (2 when the instrument is unknown)."""
    if value is None:
        return None
    try:
        exponent = int(infer_instrument(Symbol(symbol)).tick_size.as_tuple().exponent)
    except (DomainError, ValueError):
        exponent = -2
    quantum = Decimal(1).scaleb(min(0, exponent))
    if isinstance(value, Fraction):
        exact = Decimal(value.numerator) / Decimal(value.denominator)
    else:
        exact = Decimal(str(value))
    return str(exact.quantize(quantum, ROUND_HALF_EVEN))


def _iso(at_ms: int) -> str:
    return iso_ms(datetime.fromtimestamp(at_ms / 1000, UTC))


def _order_out(row: OrderRow) -> DashboardOrderOut:
    average = row.fill_notional / row.filled_quantity if row.filled_quantity else None
    return DashboardOrderOut(
        order_id=str(row.order_id),
        time=_iso(row.submitted_ms),
        account=row.account,
        symbol=row.symbol,
        side=row.side,
        quantity=row.quantity,
        price="MKT" if row.price == MARKET else price_text(row.symbol, row.price) or "",
        status=row.status,
        filled_quantity=row.filled_quantity,
        average_fill_price=price_text(row.symbol, average),
        reason_code=row.reason_code,
        reason=row.reason,
        latency_ms=row.ack_ms,
    )


def _latency_out(
    windows: HistogramWindows, series: LatencySeries | None, measured: str, wall: bool
) -> LatencySeriesOut:
    """The hosts' own histograms when they have windows (wall clock), else the gaps between
    stored events, on the wall clock only (on the feed clock they are feed time, not latency)."""
    points: list[tuple[int, float, float, float]] = []
    if windows.points:
        points, source = list(windows.points), measured
    elif wall:
        points = list(series.points) if series is not None else []
        source = "stored events' times"
    else:
        source = "feed clock: stored times are the feed's, no wall-clock measure yet"
    return LatencySeriesOut(
        source=source,
        t=[point[0] for point in points],
        p50=[point[1] for point in points],
        p95=[point[2] for point in points],
        p99=[point[3] for point in points],
    )


def _charts(
    activity: Activity, peers: PeerHealth, accounts: Iterable[str], merged: bool, wall: bool
) -> ChartsOut:
    changes: list[PnlChange] = []
    start = Decimal(0)
    for account in accounts:
        series = activity.series.get(account)
        if series is not None:
            start += series.dropped
            changes.extend(series.changes)
    changes.sort(key=lambda change: change.at_ms)
    times: list[int] = []
    cumulative: list[float] = []
    drawdown: list[float] = []
    rate_times: list[int] = []
    rates: list[float] = []
    total, peak, wins, closes = start, max(start, Decimal(0)), 0, 0
    for change in changes:
        total += change.net
        peak = max(peak, total)
        times.append(change.at_ms)
        cumulative.append(float(total))
        drawdown.append(float(total - peak))
        if change.closed:
            closes += 1
            wins += change.won
            rate_times.append(change.at_ms)
            rates.append(wins / closes)
    chosen = list(accounts)
    latency_key = ALL if merged else (chosen[0] if chosen else "")
    return ChartsOut(
        pnl=PnlSeriesOut(t=times, cumulative=cumulative, drawdown=drawdown),
        hit_rate=HitRateSeriesOut(t=rate_times, rate=rates, wins=wins, closes=closes),
        signal_latency=_latency_out(
            peers.signal_latency,
            activity.signal_latency,
            "analytics host: tick to decision",
            wall,
        ),
        order_latency=_latency_out(
            peers.order_latency,
            activity.order_latency.get(latency_key),
            "API host: order submitted to answered",
            wall,
        ),
    )


def api_health(host: ApiHost, restarts: int | None) -> HostHealthOut:
    """This host's own health, as /health computes it (store, broker, freshest trade)."""
    orders = host.orders
    report: dict[str, Any] = {}
    # From the host's background store probe, as /health: never waits on the store.
    failure = host.store_health.failure()
    report["store"] = {
        "ok": failure is None,
        "last_notification_id": host.store_health.last_notification_id,
    }
    if failure is not None:
        report["store"]["detail"] = failure
    if host.feed_clock is not None:
        # Feed time follows the trades taken in, so its age is always ~0: say instead how long
        # ago (wall clock) the follower last took trades from the store.
        seen = host.follower.trade_seen_at
        age = None if seen is None else max(0.0, time.time() - seen)
    else:
        now = orders.clock.now()
        ages = [
            (now - at).total_seconds()
            for symbol in list(orders.book.last_trades)
            if (at := orders.book.last_trade_at(symbol)) is not None
        ]
        age = min(ages) if ages else None
    connected = bool(host.broker.is_connected)
    report["broker"] = {"kind": host.config.broker, "connected": connected}
    healthy = bool(report["store"]["ok"]) and connected
    report["status"] = "ok" if healthy else "degraded"
    return HostHealthOut(
        name="api",
        state=report["status"],
        detail="" if healthy else "store or broker down",
        checked_age_seconds=0.0,
        status=report["status"],
        connected=connected,
        connection=host.config.broker,
        store_ok=bool(report["store"]["ok"]),
        last_tick_age_seconds=age,
        restarts=restarts,
        report=report,
    )


def peers_health(peers: PeerHealth, restarts: dict[str, int]) -> list[HostHealthOut]:
    now = time.time()
    answers = []
    for report in peers.reports.values():
        summary = summarize(report.report)
        # As of the poll, like the ages a /health report gives.
        polled = report.checked_at or now
        for key, value in summarize_gauges(report.gauges, polled).items():
            if summary[key] is None:
                summary[key] = value
        if summary["restarts"] is None:
            summary["restarts"] = restarts.get(report.name)
        answers.append(
            HostHealthOut(
                name=report.name,
                state=report.state,
                detail=report.detail,
                checked_age_seconds=None if report.checked_at is None else now - report.checked_at,
                report=dict(report.report),
                **summary,
            )
        )
    return answers


def visible_accounts(host: ApiHost, activity: Activity, principal: Principal) -> list[str]:
    if not principal.is_admin:
        return [principal.account]
    with host.orders.lock:
        booked = set(host.orders.book.symbols)
    return sorted(booked | set(activity.accounts()))


def dashboard_view(
    host: ApiHost,
    activity: Activity,
    peers: PeerHealth,
    principal: Principal,
    account: str | None,
) -> DashboardOut:
    """The whole dashboard for `principal`; `account` filters an admin's view (a trader's is
    always their own account)."""
    accounts = visible_accounts(host, activity, principal)
    if not principal.is_admin:
        account = principal.account
    chosen = [account] if account is not None else accounts
    wanted = set(chosen)
    positions: list[DashboardPositionOut] = []
    gross, fees = Money.zero(), Money.zero()
    unrealized: Money | None = Money.zero()
    for name in chosen:
        for view in positions_of(host.orders, name):
            position = view.position
            row_gross, row_fees = position.gross_realized_pnl, position.fees
            gross, fees = gross + row_gross, fees + row_fees
            if unrealized is not None:
                marked = view.unrealized_pnl
                unrealized = None if marked is None else unrealized + marked
            ticker = position.symbol.ticker
            positions.append(
                DashboardPositionOut(
                    account=name,
                    symbol=ticker,
                    net_quantity=position.net_quantity,
                    # Flat: no average to show (the page shows "–"), not a price of 0.
                    average_price=""
                    if position.is_flat
                    else price_text(ticker, position.average_price) or "",
                    last_price=price_text(ticker, view.last_price),
                    gross_realized=money_text(row_gross),
                    fees=money_text(row_fees),
                    net_realized=money_text(position.net_realized_pnl),
                    unrealized=(
                        None if view.unrealized_pnl is None else money_text(view.unrealized_pnl)
                    ),
                )
            )
    with host.orders.lock:
        switch = kill_switch_out(host.orders.kill_switch())
    wall = getattr(host.config, "clock", "wall") == "wall"  # else the stored times are feed time
    restarts = peers.restarts()
    health = [api_health(host, restarts.get("api")), *peers_health(peers, restarts)]

    def read(model: Activity) -> DashboardOut:
        signals = sorted(model.signals, key=lambda row: (row.at_ms, row.tick_timestamp_ms))
        orders = [row for row in model.orders.values() if row.account in wanted]
        orders.sort(key=lambda row: row.submitted_ms)
        fills = [row for row in model.fills if row.account in wanted]
        return DashboardOut(
            generated_at=iso_ms(datetime.now(UTC)),
            viewer=ViewerOut(
                name=principal.name, role=principal.role.value, account=principal.account
            ),
            accounts=accounts,
            account=account,
            kill_switch=switch,
            health=health,
            signals=[
                DashboardSignalOut(
                    signal_id=str(row.signal_id),
                    time=_iso(row.at_ms),
                    time_ms=row.at_ms,
                    symbol=row.symbol,
                    direction=row.direction,
                    confidence=row.confidence,
                    model_version=row.model_version,
                    price=price_text(row.symbol, row.price) or "",
                    latency_ms=row.latency_ms if wall else None,
                )
                for row in reversed(signals[-ROWS:])
            ],
            orders=[_order_out(row) for row in reversed(orders[-ROWS:])],
            fills=[
                DashboardFillOut(
                    time=_iso(row.at_ms),
                    order_id=str(row.order_id),
                    account=row.account,
                    symbol=row.symbol,
                    side=row.side,
                    quantity=row.quantity,
                    price=price_text(row.symbol, row.price) or "",
                    trade_id=row.trade_id,
                    fees=money_text(row.fees),
                )
                for row in reversed(fills[-ROWS:])
            ],
            positions=positions,
            totals=TotalsOut(
                gross_realized=money_text(gross),
                fees=money_text(fees),
                net_realized=money_text(gross - fees),
                unrealized=None if unrealized is None else money_text(unrealized),
            ),
            charts=_charts(
                model, peers, chosen, merged=account is None and principal.is_admin, wall=wall
            ),
        )

    return activity.read(read)
