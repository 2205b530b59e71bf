"""The dashboard's data: one snapshot, a stream token, and the Server-Sent Events stream."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any, Final

from litestar import Controller, Request, get, post
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.status_codes import HTTP_200_OK

from hosts.api.auth import Principal
from hosts.api.dashboard_schemas import DashboardOut, StreamEventOut, StreamTokenOut
from hosts.api.dashboard_service import TOKEN_SECONDS, DashboardService
from hosts.api.dashboard_view import dashboard_view
from hosts.api.guards import host_of, principal_of
from hosts.api.views import error_responses

ACCOUNT_PATTERN: Final = r"^[A-Za-z0-9._-]{1,64}$"
HEARTBEAT_SECONDS: Final = 2.0
"""A stream sends the view at least this often (ages move on) and at once on a change."""
COALESCE_SECONDS: Final = 0.1
"""After a change, wait this long for the rest of a burst before sending."""
RETRY_MS: Final = 1_000

Account = Annotated[
    str | None,
    Parameter(pattern=ACCOUNT_PATTERN, description="admin: show one account (default: all)"),
]


def service_of(request: Request[Any, Any, Any]) -> DashboardService:
    service: DashboardService = request.app.state["dashboard"]
    return service


def checked_account(principal: Principal, account: str | None) -> str | None:
    """A trader sees their own account only; asking for another is a 403."""
    if account is not None and not principal.is_admin and account != principal.account:
        raise PermissionDeniedException(detail="a trader key sees its own account only")
    return account


class DashboardController(Controller):
    path = "/api/v1/dashboard"
    tags = ("dashboard",)

    @get(
        "",
        operation_id="getDashboard",
        summary="Health, signals, orders, fills, positions and chart series in one body",
        responses=error_responses(403),
        sync_to_thread=True,
    )
    def snapshot(self, request: Request[Any, Any, Any], account: Account = None) -> DashboardOut:
        """What the dashboard shows; an admin sees every account unless `account` is given."""
        principal = principal_of(request)
        service = service_of(request)
        return dashboard_view(
            host_of(request),
            service.activity,
            service.peers,
            principal,
            checked_account(principal, account),
        )

    @post(
        "/stream-token",
        operation_id="createDashboardStreamToken",
        summary="A short-lived token to open the dashboard stream (EventSource sends no headers)",
        status_code=HTTP_200_OK,
        responses=error_responses(),
        sync_to_thread=False,
    )
    def stream_token(self, request: Request[Any, Any, Any]) -> StreamTokenOut:
        """Mint a random token bound to this key; the key itself never goes into a URL."""
        token = service_of(request).tokens.mint(principal_of(request))
        return StreamTokenOut(token=token, expires_in_seconds=TOKEN_SECONDS)

    @get(
        "/stream",
        operation_id="streamDashboard",
        summary="Server-Sent Events: a `snapshot` event (the getDashboard body) on every change",
        opt={"public": True},  # the token authenticates it, not the header
        responses={
            **error_responses(403),
            200: ResponseSpec(
                StreamEventOut,
                media_type="text/event-stream",
                generate_examples=False,
                description="`event: snapshot` messages whose data is a getDashboard body",
            ),
        },
    )
    async def stream(
        self,
        request: Request[Any, Any, Any],
        token: Annotated[str, Parameter(min_length=16, max_length=64)],
        account: Account = None,
    ) -> ServerSentEvent:
        """Push the dashboard body at once, on every stored change and every 2 s; 401 when the
        token is unknown or expired (the page then mints a new one)."""
        service = service_of(request)
        principal = service.tokens.redeem(token)
        if principal is None:
            raise NotAuthorizedException(detail="unknown or expired stream token")
        chosen = checked_account(principal, account)
        host = host_of(request)

        async def events() -> AsyncIterator[ServerSentEventMessage]:
            changed = service.activity.subscribe()
            try:
                while not service.stopping:
                    changed.clear()
                    body = await asyncio.to_thread(
                        dashboard_view, host, service.activity, service.peers, principal, chosen
                    )
                    yield ServerSentEventMessage(data=body.model_dump_json(), event="snapshot")
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(changed.wait(), HEARTBEAT_SECONDS)
                        await asyncio.sleep(COALESCE_SECONDS)
            finally:
                service.activity.unsubscribe(changed)

        return ServerSentEvent(events(), retry_duration=RETRY_MS)
