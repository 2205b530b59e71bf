"""The dashboard's routes in process: one body per key, account scoping, formats, tokens."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from hosts.api.app import create_app
from hosts.api.dashboard_service import StreamTokens
from hosts.api.dashboard_view import money_text, price_text
from hosts.api.host import ApiHost
from hosts.api.latency_windows import parse_families
from hosts.api.peers import fetch, health_gauges, summarize, summarize_gauges
from tests.api.conftest import ALICE, BOB, ROOT, HostFactory, Tape, headers


def execute(client: TestClient[Any], key: str, **changes: Any) -> Any:
    body = {"symbol": "WINZ25", "side": "BUY", "quantity": 2, "price": -1, **changes}
    response = client.post("/api/v1/execute", json=body, headers=headers(key))
    assert response.status_code == 201, response.text
    return response.json()


def dashboard(client: TestClient[Any], key: str, **params: str) -> Any:
    response = client.get("/api/v1/dashboard", headers=headers(key), params=params)
    assert response.status_code == 200, response.text
    return response.json()


def trade_round_trip(client: TestClient[Any], host: ApiHost, tape: Tape) -> None:
    """alice buys 2 and sells them 10 points higher (R$ 4 on WIN); bob sells 2; one denial."""
    tape.print(127_850)
    execute(client, ALICE)
    execute(client, BOB, side="SELL")
    tape.print(127_855)
    execute(client, ALICE, side="SELL")
    tape.print(127_865)
    execute(client, ALICE, quantity=500)
    client.app.state["dashboard"].activity.poll()


def test_an_admin_sees_every_account_and_can_filter_one(
    client: TestClient[Any], host: ApiHost, tape: Tape
) -> None:
    trade_round_trip(client, host, tape)

    everything = dashboard(client, ROOT)
    only_bob = dashboard(client, ROOT, account="bob")

    assert everything["accounts"] == ["alice", "bob"]
    assert {order["account"] for order in everything["orders"]} == {"alice", "bob"}
    assert {order["account"] for order in only_bob["orders"]} == {"bob"}
    assert [p["account"] for p in only_bob["positions"]] == ["bob"]
    assert everything["viewer"] == {"name": "root", "role": "admin", "account": "ops"}


def test_a_trader_sees_their_own_account_only(
    client: TestClient[Any], host: ApiHost, tape: Tape
) -> None:
    trade_round_trip(client, host, tape)

    body = dashboard(client, BOB)
    other = client.get("/api/v1/dashboard", headers=headers(BOB), params={"account": "alice"})

    assert body["accounts"] == ["bob"]
    assert {order["account"] for order in body["orders"]} == {"bob"}
    assert body["charts"]["pnl"]["cumulative"] == [-0.5]  # the opening fill's fees
    assert other.status_code == 403


def test_orders_fills_positions_and_charts_are_formatted_for_people(
    client: TestClient[Any], host: ApiHost, tape: Tape
) -> None:
    trade_round_trip(client, host, tape)

    body = dashboard(client, ALICE)

    denied, sold, bought = body["orders"]
    assert (denied["status"], denied["reason_code"]) == ("DENIED", "MAX_ORDER_QUANTITY")
    assert (sold["status"], sold["price"], sold["average_fill_price"]) == (
        "FILLED",
        "MKT",
        "127865",
    )
    assert bought["average_fill_price"] == "127855"
    assert [fill["price"] for fill in body["fills"]] == ["127865", "127855"]
    assert body["totals"] == {
        "gross_realized": "4.00",
        "fees": "1.00",
        "net_realized": "3.00",
        "unrealized": "0.00",
    }
    charts = body["charts"]
    assert charts["pnl"]["cumulative"][-1] == 3.0
    assert [fill["fees"] for fill in body["fills"]] == ["0.50", "0.50"]
    (flat,) = body["positions"]
    assert (flat["net_quantity"], flat["average_price"]) == (0, "")  # shown "–", not a price 0
    assert (charts["hit_rate"]["wins"], charts["hit_rate"]["closes"]) == (1, 1)
    # On the feed clock the stored times are the feed's: no latency is made up from them.
    assert charts["order_latency"]["p99"] == []
    assert charts["order_latency"]["source"].startswith("feed clock")


def test_on_the_wall_clock_latencies_come_from_the_stored_times(make_host: HostFactory) -> None:
    host = make_host(clock="wall")
    with TestClient(app=create_app(host)) as client:
        trade_round_trip(client, host, Tape(host))
        charts = dashboard(client, ALICE)["charts"]

    assert len(charts["order_latency"]["p99"]) == 3
    assert charts["order_latency"]["source"] == "stored events' times"


def test_signals_come_newest_first_with_their_time_and_tick_price(
    client: TestClient[Any], host: ApiHost
) -> None:
    for tick, model in ((1, "m-old"), (2, "m-new")):
        response = client.post(
            "/api/v1/signals",
            headers=headers(ALICE),
            json={
                "symbol": "WINZ25",
                "direction": "BUY",
                "confidence": 0.8,
                "features": {},
                "model_version": model,
                "tick_trade_id": tick,
                "tick_timestamp_ms": 1_764_601_199_000 + tick,
                "price": 131367.14285714287,
            },
        )
        assert response.status_code == 201, response.text
    client.app.state["dashboard"].activity.poll()

    signals = dashboard(client, ALICE)["signals"]

    assert [signal["model_version"] for signal in signals] == ["m-new", "m-old"]
    assert signals[0]["price"] == "131367"
    assert signals[0]["time"] == "2025-12-01T15:00:00.000Z"


def test_prices_keep_the_decimals_of_their_tick_and_money_has_cents() -> None:
    assert price_text("WINZ25", 131367.14285714287) == "131367"
    assert price_text("WDOF26", 5432.5) == "5432.5"
    assert price_text("PETR4", 31.4) == "31.40"
    assert price_text("XYZW3", 1.005) == "1.00"
    assert money_text(Decimal("-0.001")) == "0.00"
    assert money_text(Decimal("1234.5")) == "1234.50"


def test_the_stream_needs_a_token_minted_with_a_key(client: TestClient[Any]) -> None:
    no_key = client.post("/api/v1/dashboard/stream-token")
    minted = client.post("/api/v1/dashboard/stream-token", headers=headers(ALICE))
    unknown = client.get("/api/v1/dashboard/stream", params={"token": "x" * 32})

    assert no_key.status_code == 401
    assert minted.status_code == 200 and minted.json()["expires_in_seconds"] == 60
    assert ALICE not in minted.json()["token"]
    assert unknown.status_code == 401


def test_a_stream_token_expires() -> None:
    from hosts.api.auth import Principal, Role

    principal = Principal("alice", Role.TRADER, "alice")
    lasting, expired = StreamTokens(60), StreamTokens(0)

    assert lasting.redeem(lasting.mint(principal)) == principal
    assert expired.redeem(expired.mint(principal)) is None
    assert lasting.redeem("never-minted-token") is None


def test_peer_reports_are_summarized_and_an_unreachable_peer_says_so() -> None:
    report = {
        "status": "ok",
        "feed": {"phase": "connected", "market_data": True, "last_tick_age_seconds": 0.4},
        "store": {"ok": True},
        "supervisor": {"restarts": 2},
    }

    summary = summarize(report)
    state, detail, body, _ = fetch("http://127.0.0.1:9/health")

    assert summary == {
        "status": "ok",
        "connected": True,
        "connection": "connected",
        "store_ok": True,
        "last_tick_age_seconds": 0.4,
        "restarts": 2,
    }
    assert (state, body) == ("unreachable", {}) and "refused" in detail.lower()


def test_a_metrics_only_host_is_summarized_from_its_health_gauges() -> None:
    from prometheus_client import generate_latest

    from hosts.analytics.metrics import AnalyticsMetrics

    metrics = AnalyticsMetrics()
    blank = summarize_gauges(
        health_gauges(parse_families(generate_latest(metrics.registry).decode())), 0
    )
    metrics.last_tick_time = 1_000.0
    metrics.connections.set(1)
    metrics.store_ok = False
    page = generate_latest(metrics.registry).decode()

    summary = summarize_gauges(health_gauges(parse_families(page)), now=1_002.5)

    assert blank["last_tick_age_seconds"] is None and blank["store_ok"] is True
    assert summary == {
        "connected": True,
        "connection": "capture",
        "store_ok": False,
        "last_tick_age_seconds": 2.5,
    }


def test_every_order_is_timed_whatever_sent_it(
    client: TestClient[Any], host: ApiHost, tape: Tape
) -> None:
    from prometheus_client import REGISTRY

    from tradingcore.application.order_commands import ExecuteOrder
    from tradingcore.domain.values import Side, Symbol

    def timed() -> float:
        return REGISTRY.get_sample_value("order_latency_seconds_count") or 0.0

    before = timed()
    tape.print(127_850)
    execute(client, ALICE)  # through REST
    command = ExecuteOrder("auto", "bob", Symbol("WINZ25"), Side.SELL, 1, Decimal(-1))
    host.orders.execute(command)  # as auto-execution and live strategies do

    assert timed() == before + 2


def test_the_page_and_its_assets_name_no_other_site() -> None:
    import re

    import hosts.api

    static = Path(hosts.api.__file__).parent / "static"
    ours = [static / name for name in ("dashboard.html", "dashboard.js", "dashboard.css")]
    found = {
        path.name: re.findall(r"(?:https?:)?//[\w.-]+\.\w+/", path.read_text()) for path in ours
    }

    assert found == {path.name: [] for path in ours}  # no CDN: the page works offline
    assert (static / "vendor" / "uplot" / "uPlot.iife.min.js").stat().st_size > 10_000


def test_static_files_are_served_and_nothing_else(client: TestClient[Any]) -> None:
    script = client.get("/static/dashboard.js")
    chart = client.get("/static/vendor/uplot/uPlot.iife.min.js")
    outside = client.get("/static/../app.py")
    python = client.get("/static/activity.py")

    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javasc")
    assert chart.status_code == 200 and b"uPlot" in chart.content
    assert outside.status_code == 404 and python.status_code == 404


def test_restarts_come_from_the_supervisors_state_file(
    client: TestClient[Any], host: ApiHost, tmp_path: Path
) -> None:
    from hosts.api.peers import PeerHealth

    state = tmp_path / "state.json"
    state.write_text(
        json.dumps({"hosts": {"capture": {"restarts": 3}, "api": {"restarts": 1}}}),
        encoding="utf-8",
    )
    service = client.app.state["dashboard"]
    service.peers = PeerHealth({"capture": None, "analytics": None}, state)

    health = {card["name"]: card for card in dashboard(client, ROOT)["health"]}

    assert (health["api"]["restarts"], health["capture"]["restarts"]) == (1, 3)
    assert health["analytics"]["restarts"] is None
    assert health["capture"]["state"] == "not configured"
    assert PeerHealth({}, tmp_path / "missing.json").restarts() == {}


def test_tradingcore_up_gives_the_api_the_other_hosts_urls() -> None:
    from hosts.config import TradingConfig
    from hosts.config_args import api_defaults

    defaults = api_defaults(TradingConfig())
    chosen = api_defaults(
        TradingConfig.model_validate({"api": {"capture_health_url": "http://cap:1/health"}})
    )

    assert defaults["capture_health_url"] == "http://127.0.0.1:9101/health"
    assert defaults["analytics_health_url"] == "http://127.0.0.1:9102/metrics"
    assert chosen["capture_health_url"] == "http://cap:1/health"
    assert str(defaults["supervisor_state"]).endswith("state.json")


def test_latency_windows_follow_a_histogram_between_polls() -> None:
    from prometheus_client import CollectorRegistry, Histogram, generate_latest

    from hosts.api.latency_windows import HistogramWindows, parse_families, quantile

    registry = CollectorRegistry()
    latency = Histogram("demo_latency_seconds", "", buckets=(0.001, 0.01, 0.1), registry=registry)
    windows = HistogramWindows("demo_latency_seconds")
    windows.observe(registry.collect(), 1)  # the first poll only sets the baseline
    for _ in range(99):
        latency.observe(0.0005)
    latency.observe(0.05)
    windows.observe(parse_families(generate_latest(registry).decode()), 2)
    windows.observe(registry.collect(), 3)  # nothing new: no point

    assert len(windows.points) == 1
    at, p50, p95, p99 = windows.points[0]
    assert at == 2 and p50 == pytest.approx(0.505, rel=0.01)  # ms, inside the first bucket
    assert (p95, p99) == (pytest.approx(0.96, rel=0.01), pytest.approx(1.0))
    late = HistogramWindows("demo_latency_seconds")
    late.observe([], 1)  # no such series yet (no request so far): counts start from zero
    late.observe(registry.collect(), 2)
    assert len(late.points) == 1
    assert quantile(0.5, []) is None
    assert quantile(0.99, [(0.1, 0.0), (float("inf"), 4.0)]) == 0.1
