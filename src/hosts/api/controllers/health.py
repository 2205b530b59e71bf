"""Health (public): store, broker and market-data feed status, for probes and the dashboard."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.openapi.datastructures import ResponseSpec

from hosts.api.guards import host_of
from hosts.api.schemas import HealthOut
from hosts.api.views import error_responses

HEALTH_RESPONSES = {
    **{code: spec for code, spec in error_responses().items() if code == 429},
    503: ResponseSpec(
        HealthOut,
        generate_examples=False,
        description="A dependency (store, broker, feed) is unhealthy",
    ),
}


class HealthController(Controller):
    path = "/health"
    tags = ("health",)
    opt = {"public": True}  # noqa: RUF012 - Litestar reads a plain dict

    @get(
        "",
        operation_id="health",
        summary="Feed, broker and store status (no key needed)",
        responses=HEALTH_RESPONSES,
        sync_to_thread=False,  # memory only: answers even when every worker thread is busy
    )
    def health(self, request: Request[Any, Any, Any]) -> Response[HealthOut]:
        """Return 200 when everything is healthy, 503 with the same body otherwise."""
        host = host_of(request)
        orders = host.orders
        # From the background probe: answers at once even when the store does not.
        failure = host.store_health.failure()
        store: dict[str, str | bool | int] = {
            "ok": failure is None,
            "last_notification_id": host.store_health.last_notification_id,
        }
        if failure is not None:
            store["detail"] = failure
        engaged = host.kill_switch_engaged  # as of the last probe: never waits on the store
        now = orders.clock.now()
        ages = {
            symbol.ticker: (now - at).total_seconds()
            for symbol in list(orders.book.last_trades)
            if (at := orders.book.last_trade_at(symbol)) is not None
        }
        newest = min(ages.values()) if ages else None
        max_age = orders.settings.limits.market_data_max_age.total_seconds()
        fresh = newest is not None and newest <= max_age
        feed: dict[str, str | bool | float | None] = {
            "fresh": fresh,
            "newest_trade_age_seconds": newest,
            "symbols": ",".join(sorted(ages)),
        }
        connected = bool(host.broker.is_connected)
        broker: dict[str, str | bool] = {"kind": host.config.broker, "connected": connected}
        healthy = bool(store["ok"]) and connected and engaged is not None
        body = HealthOut(
            status="ok" if healthy else "degraded",
            store=store,
            broker=broker,
            feed=feed,
            kill_switch_engaged=engaged,
        )
        return Response(body, status_code=200 if healthy else 503)
