"""Orders: execute through the risk checks, look up, cancel (scoped to the key's account)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from hosts.api.errors import ApiError, domain_errors
from hosts.api.guards import host_of, principal_of
from hosts.api.schemas import ExecuteIn, OrderOut
from hosts.api.views import error_responses, order_out
from tradingcore.application.order_commands import ExecuteOrder
from tradingcore.domain.values import Side, Symbol, to_decimal

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
