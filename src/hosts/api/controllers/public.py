"""Public pages: Prometheus metrics and the dashboard (which asks for a key to read data)."""

from __future__ import annotations

from importlib.resources import files
from typing import Final

from litestar import MediaType, Response, get
from litestar.openapi.datastructures import ResponseSpec
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from hosts.api.schemas import ErrorOut
from hosts.api.views import DESCRIPTIONS

DASHBOARD: Final = files("hosts.api").joinpath("static/dashboard.html")
RATE_LIMITED: Final = {
    429: ResponseSpec(ErrorOut, generate_examples=False, description=DESCRIPTIONS[429])
}


@get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics (no key needed)",
    media_type=MediaType.TEXT,
    responses=RATE_LIMITED,
    opt={"public": True},
    tags=("health",),
    sync_to_thread=True,  # the trading metrics read the store: off the event loop
)
def metrics() -> Response[str]:
    """Return request metrics, the order manager's counters, the accounts' P&L and the
    process metrics in Prometheus text format."""
    return Response(generate_latest(REGISTRY).decode(), media_type=CONTENT_TYPE_LATEST)


@get(
    ["/", "/dashboard"],
    media_type=MediaType.HTML,
    include_in_schema=False,
    opt={"public": True},
    sync_to_thread=False,
)
def dashboard() -> Response[str]:
    """Serve the dashboard page; its script calls the API with the key the user types in."""
    return Response(DASHBOARD.read_text(encoding="utf-8"), media_type=MediaType.HTML)
