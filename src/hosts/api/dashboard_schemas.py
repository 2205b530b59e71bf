"""Response bodies of the dashboard routes, kept apart from the domain and the read model.

Money is a decimal string in R$ ("-1234.50", never "-0.00"); prices are decimal strings on the
instrument's tick ("127850", "31.42"), so the page never shows binary float noise.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from hosts.api.schemas import KillSwitchOut


class ViewerOut(BaseModel):
    name: str
    role: str
    account: str


class HostHealthOut(BaseModel):
    name: str = Field(description="api, capture or analytics")
    state: str = Field(description="ok, degraded, unreachable, unknown or not configured")
    detail: str
    checked_age_seconds: float | None = Field(description="seconds since the last poll")
    status: str | None
    connected: bool | None
    connection: str | None = Field(description="the feed's phase, when the host reports one")
    store_ok: bool | None
    last_tick_age_seconds: float | None
    restarts: int | None
    report: dict[str, Any] = Field(description="the host's whole /health body")


class DashboardSignalOut(BaseModel):
    signal_id: str
    time: str = Field(description="when the signal was generated (ISO 8601, UTC)")
    time_ms: int
    symbol: str
    direction: str
    confidence: float
    model_version: str
    price: str
    latency_ms: float | None = Field(
        description="tick to signal from the stored times (null on the feed clock)"
    )


class DashboardOrderOut(BaseModel):
    order_id: str
    time: str
    account: str
    symbol: str
    side: str
    quantity: int
    price: str = Field(description="the limit price, or MKT")
    status: str
    filled_quantity: int
    average_fill_price: str | None
    reason_code: str
    reason: str
    latency_ms: float | None = Field(description="submission to the first answer")


class DashboardFillOut(BaseModel):
    time: str
    order_id: str
    account: str
    symbol: str
    side: str
    quantity: int
    price: str
    trade_id: int
    fees: str = Field(description="R$ charged on this fill")


class DashboardPositionOut(BaseModel):
    account: str
    symbol: str
    net_quantity: int
    average_price: str
    last_price: str | None
    gross_realized: str
    fees: str
    net_realized: str
    unrealized: str | None = Field(description="null when no last trade price is known")


class TotalsOut(BaseModel):
    gross_realized: str
    fees: str
    net_realized: str
    unrealized: str | None


class PnlSeriesOut(BaseModel):
    t: list[int] = Field(description="epoch ms")
    cumulative: list[float] = Field(description="cumulative net realized P&L (after fees), R$")
    drawdown: list[float] = Field(description="below the running peak, R$ (<= 0)")


class HitRateSeriesOut(BaseModel):
    t: list[int]
    rate: list[float] = Field(description="share of closing fills at a gross profit so far")
    wins: int
    closes: int


class LatencySeriesOut(BaseModel):
    source: str = Field(description="what was measured: a host's histogram or stored events")
    t: list[int]
    p50: list[float]
    p95: list[float]
    p99: list[float]


class ChartsOut(BaseModel):
    pnl: PnlSeriesOut
    hit_rate: HitRateSeriesOut
    signal_latency: LatencySeriesOut = Field(description="tick to signal, ms")
    order_latency: LatencySeriesOut = Field(description="order submission to answer, ms")


class DashboardOut(BaseModel):
    """Everything the dashboard shows, as one key may see it."""

    generated_at: str
    viewer: ViewerOut
    accounts: list[str] = Field(description="accounts this key may see (admin: all)")
    account: str | None = Field(description="the account filter in force (null: all)")
    kill_switch: KillSwitchOut
    health: list[HostHealthOut]
    signals: list[DashboardSignalOut] = Field(description="newest first, by generation time")
    orders: list[DashboardOrderOut] = Field(description="newest first")
    fills: list[DashboardFillOut] = Field(description="newest first")
    positions: list[DashboardPositionOut]
    totals: TotalsOut
    charts: ChartsOut


class StreamTokenOut(BaseModel):
    token: str = Field(description="opens GET /api/v1/dashboard/stream?token=... once or more")
    expires_in_seconds: int


class StreamEventOut(BaseModel):
    """One Server-Sent Event of the dashboard stream, as its fields arrive."""

    event: str = Field(description="snapshot")
    data: str = Field(description="a getDashboard body as JSON")
    retry: int | None = Field(default=None, description="reconnect delay, ms (first event)")
    id: str | None = None
