"""The Litestar application factory: routes, guards, metrics, OpenAPI, limits."""

from __future__ import annotations

from typing import Any, Final

from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, OpenAPI, OpenAPIType, Schema, SecurityScheme
from litestar.plugins.prometheus import PrometheusConfig
from litestar.plugins.pydantic import PydanticPlugin
from litestar.routes import HTTPRoute

from hosts.api.bodies import check_body
from hosts.api.controllers.assets import static_asset
from hosts.api.controllers.dashboard import DashboardController
from hosts.api.controllers.health import HealthController
from hosts.api.controllers.orders import OrderController
from hosts.api.controllers.positions import PositionController
from hosts.api.controllers.public import dashboard, metrics
from hosts.api.controllers.risk import RiskController
from hosts.api.controllers.signals import SignalController
from hosts.api.dashboard_service import DashboardService
from hosts.api.guards import API_KEY_HEADER, request_guard
from hosts.api.host import ApiHost
from hosts.api.metrics import RequestMetrics
from hosts.api.schemas import FEATURE_NAME, INPUT_MODELS, MAX_FEATURES
from hosts.api.store_health import STORE_ERRORS, store_error_answer

TITLE: Final = "tradingcore API"
VERSION: Final = "1.0.0"
PUBLIC_PATHS: Final = ("/health", "/metrics", "/api/v1/dashboard/stream")


def create_app(host: ApiHost) -> Litestar:
    """Build the ASGI app over a host; the server's lifespan starts and stops the host."""
    prometheus = PrometheusConfig(
        app_name="tradingcore_api",
        prefix="tradingcore_api",
        group_path=True,
        middleware_class=RequestMetrics,
    )
    service = DashboardService(host)
    app = Litestar(
        route_handlers=[
            SignalController,
            OrderController,
            PositionController,
            RiskController,
            HealthController,
            DashboardController,
            metrics,
            dashboard,
            static_asset,
        ],
        guards=[request_guard],
        before_request=check_body,
        exception_handlers={
            kind: lambda request, error: store_error_answer(host.store_health, error)
            for kind in STORE_ERRORS
        },
        middleware=[prometheus.middleware],
        plugins=[PydanticPlugin(validate_strict=True)],
        openapi_config=OpenAPIConfig(
            title=TITLE,
            version=VERSION,
            description="Signals, orders through pre-trade risk, positions and the kill switch.",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
            security=[{"ApiKey": []}],
            components=Components(
                security_schemes={
                    "ApiKey": SecurityScheme(
                        type="apiKey", name=API_KEY_HEADER, security_scheme_in="header"
                    )
                }
            ),
        ),
        request_max_body_size=host.config.max_body_bytes,
        state=State({"host": host, "dashboard": service}),
        on_startup=[host.start, service.start],
        on_shutdown=[service.stop, host.stop],
        debug=False,
    )
    complete_openapi(app.openapi_schema)
    rebind_options_handlers(app)
    return app


def rebind_options_handlers(app: Litestar) -> None:
    """Make the automatic OPTIONS answers list every method of their path.

    Litestar 2.25 builds each path's OPTIONS handler when the path's first handler registers;
    it keeps pointing at that first route, so `Allow` lists one method. Point it at the final
    route instead.
    """
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            function = handler.fn
            if handler.http_methods != {"OPTIONS"} or function.__name__ != "options_handler":
                continue
            for cell in function.__closure__ or ():
                if isinstance(cell.cell_contents, HTTPRoute):
                    cell.cell_contents = route


def complete_openapi(document: OpenAPI) -> None:
    """Add what Litestar 2.25 leaves out: `additionalProperties: false` on inputs that forbid
    unknown fields, and `security: []` on public operations."""
    schemas = document.components.schemas if document.components else None
    for model in INPUT_MODELS:
        if schemas and model.__name__ in schemas:
            schemas[model.__name__].additional_properties = False
    signal = schemas.get("SignalIn") if schemas else None
    if signal is not None and signal.properties:
        signal.properties["features"] = Schema(
            type=OpenAPIType.OBJECT,
            additional_properties=Schema(type=OpenAPIType.NUMBER),
            max_properties=MAX_FEATURES,
            property_names=Schema(type=OpenAPIType.STRING, pattern=FEATURE_NAME.pattern),
            description="feature name to finite value",
        )
    for path, item in (document.paths or {}).items():
        if path not in PUBLIC_PATHS:
            continue
        for operation in (item.get, item.post, item.put, item.delete):
            if operation is not None:
                operation.security = []


def openapi_document(app: Litestar) -> dict[str, Any]:
    """Return the OpenAPI document exactly as served at /schema/openapi.json."""
    from litestar.testing import TestClient

    with TestClient(app=app) as client:
        document: dict[str, Any] = client.get("/schema/openapi.json").json()
    return document
