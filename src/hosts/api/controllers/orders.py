"""Orders: execute through the risk checks, look up, cancel (scoped to the key's account)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from hosts.api.controllers.dashboard import Account, checked_account, service_of
from hosts.api.errors import ApiError, domain_errors
from hosts.api.guards import host_of, principal_of
from hosts.api.history import OrderFilter, epoch_ms, orders_page
from hosts.api.schemas import ORDER_SYMBOL_PATTERN, ExecuteIn, OrderOut, OrdersOut
from hosts.api.views import error_responses, order_out
from tradingcore.application.order_commands import ExecuteOrder
from tradingcore.domain.values import Side, Symbol, to_decimal

StatusFilter = Literal[
    "OPEN",
    "SUBMITTED",
    "ACCEPTED",
    "PARTIALLY_FILLED",
    "FILLED",
    "CANCELED",
    "DENIED",
    "REJECTED",
]
ORDER_RESPONSES = {
    **error_responses(409, 413, 422),
    200: ResponseSpec(
        OrderOut, generate_examples=False, description="A retry: the original order, sent only once"
    ),
}


class OrderController(Controller):
    path = "/api/v1"
    tags = ("orders",)

    @post(
        "/execute",
        operation_id="executeOrder",
        summary="Execute an order through the pre-trade risk checks",
        status_code=HTTP_201_CREATED,
        responses=ORDER_RESPONSES,
    )
    async def execute(
        self, request: Request[Any, Any, Any], data: JSONBody[ExecuteIn]
    ) -> Response[OrderOut]:
        """Submit an order; 201 with its status (ACCEPTED, DENIED with the reason code...).

        Without `client_order_id` one is derived from the order and the time of arrival.
        """
        principal = principal_of(request)
        with domain_errors():
            price = to_decimal(data.price, "price")
            if price != -1 and price <= 0:
                raise ApiError(
                    422,
                    f"invalid price {data.price}: must be > 0, or -1 for a market order",
                    "price",
                )
            result = await host_of(request).execute(
                ExecuteOrder(
                    actor=principal.name,
                    account=principal.account,
                    symbol=Symbol(data.symbol),
                    side=Side(data.side),
                    quantity=data.quantity,
                    price=price,
                    client_order_id=data.client_order_id,
                )
            )
        status = HTTP_201_CREATED if result.created else HTTP_200_OK
        return Response(order_out(result.order), status_code=status)

    @get(
        "/orders",
        operation_id="listOrders",
        summary="This key's orders, newest first, filtered and paged",
        responses=error_responses(403),
        sync_to_thread=True,
    )
    def list_orders(
        self,
        request: Request[Any, Any, Any],
        account: Account = None,
        status: Annotated[
            StatusFilter | None,
            Parameter(description="OPEN: SUBMITTED, ACCEPTED or PARTIALLY_FILLED"),
        ] = None,
        symbol: Annotated[str | None, Parameter(pattern=ORDER_SYMBOL_PATTERN)] = None,
        side: Annotated[Literal["BUY", "SELL"] | None, Parameter(description="BUY or SELL")] = None,
        since: Annotated[
            str | None,
            Parameter(
                schema_extra={"format": "date-time"},
                max_length=64,
                description="submitted at or after this ISO 8601 time (UTC if no offset)",
            ),
        ] = None,
        until: Annotated[
            str | None,
            Parameter(
                schema_extra={"format": "date-time"},
                max_length=64,
                description="submitted before this ISO 8601 time (UTC if no offset)",
            ),
        ] = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
        before: Annotated[
            int | None, Parameter(ge=1, description="the `next_before` of the previous page")
        ] = None,
    ) -> OrdersOut:
        """List orders: a trader's key its own account's, an admin's every account's (or one).

        Every stored order: the newest `[api] history` from memory, older ones from the store.
        """
        principal = principal_of(request)
        chosen = checked_account(principal, account)
        accounts = None if principal.is_admin and chosen is None else {chosen or principal.account}
        wanted = OrderFilter(
            accounts, status, symbol, side, epoch_ms(since, "since"), epoch_ms(until, "until")
        )
        orders, cursor = orders_page(service_of(request).activity, wanted, limit, before)
        return OrdersOut(orders=orders, next_before=cursor)

    @get(
        "/orders/{order_id:uuid}",
        operation_id="getOrder",
        summary="Look up one of this key's orders",
        responses=error_responses(404),
        sync_to_thread=True,
    )
    def get_order(self, request: Request[Any, Any, Any], order_id: FromPath[uuid.UUID]) -> OrderOut:
        """Return an order of the key's account; other accounts' orders are 404."""
        principal = principal_of(request)
        with domain_errors():
            order = host_of(request).orders.find_order(order_id, principal.account)
        return order_out(order)

    @post(
        "/orders/{order_id:uuid}/cancel",
        operation_id="cancelOrder",
        summary="Cancel one of this key's open orders",
        status_code=HTTP_200_OK,
        responses=error_responses(404, 409),
        sync_to_thread=True,
    )
    def cancel(self, request: Request[Any, Any, Any], order_id: FromPath[uuid.UUID]) -> OrderOut:
        """Ask the broker to cancel; 409 if the order is no longer open."""
        principal = principal_of(request)
        with domain_errors():
            result = host_of(request).orders.cancel(order_id, principal.name, principal.account)
        return order_out(result.order)
