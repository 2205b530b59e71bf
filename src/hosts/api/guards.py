"""Guards (not middleware, so Prometheus counts 401/429 right): rate limits, API key, admin.

Order: the client-address limit runs before authentication (it stops key guessing), the
per-key limit after it. Routes marked `opt={"public": True}` and the OpenAPI pages skip the key.
The guards are coroutines although they never wait: Litestar 2.25 runs a plain function guard
in a worker thread, two thread hops per request (about a third of the per-request cost).
"""

from __future__ import annotations

from typing import Any, Final

from litestar.connection import ASGIConnection
from litestar.exceptions import (
    NotAuthorizedException,
    PermissionDeniedException,
    TooManyRequestsException,
)
from litestar.handlers.base import BaseRouteHandler

from hosts.api.auth import Principal
from hosts.api.host import ApiHost
from hosts.api.metrics import AUTH_REJECTED

API_KEY_HEADER: Final = "X-API-Key"
PUBLIC_PREFIXES: Final = ("/schema",)


def host_of(connection: ASGIConnection[Any, Any, Any, Any]) -> ApiHost:
    host: ApiHost = connection.app.state["host"]
    return host


def is_public(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> bool:
    return bool(handler.opt.get("public")) or connection.scope["path"].startswith(PUBLIC_PREFIXES)


async def client_rate_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    host = host_of(connection)
    client = connection.client.host if connection.client else "unknown"
    verdict = host.client_limiter.hit(f"client:{client}")
    if not verdict.allowed:
        raise TooManyRequestsException(
            detail="too many requests from this address",
            headers=verdict.headers(host.client_limiter.window),
        )


async def api_key_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    if is_public(connection, handler):
        return
    host = host_of(connection)
    raw_key = connection.headers.get(API_KEY_HEADER)
    principal = host.keys.authenticate(raw_key)
    if principal is None:
        AUTH_REJECTED.labels(reason="missing" if not raw_key else "invalid").inc()
        raise NotAuthorizedException(
            detail=f"missing or invalid {API_KEY_HEADER} header",
            headers={"WWW-Authenticate": f'ApiKey header="{API_KEY_HEADER}"'},
        )
    connection.scope["user"] = principal
    # A route may count in a bucket of its own (the signal source's progress marks: frequent,
    # cheap, and never to crowd out its signals).
    bucket = handler.opt.get("rate_bucket", "key")
    verdict = host.key_limiter.hit(f"{bucket}:{principal.name}")
    if not verdict.allowed:
        raise TooManyRequestsException(
            detail="too many requests for this API key",
            headers=verdict.headers(host.key_limiter.window),
        )


async def request_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Both app-wide guards in their order, as one: Litestar 2.25 copies the route handler for
    every guard it runs (`copy(handler)` per guard per request)."""
    await client_rate_guard(connection, handler)
    await api_key_guard(connection, handler)


async def admin_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    principal = connection.scope.get("user")
    if not isinstance(principal, Principal) or not principal.is_admin:
        AUTH_REJECTED.labels(reason="not_admin").inc()
        raise PermissionDeniedException(detail="this action needs an admin API key")


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    principal = connection.scope.get("user")
    if not isinstance(principal, Principal):
        raise NotAuthorizedException(detail=f"missing or invalid {API_KEY_HEADER} header")
    return principal
