"""Positions of the key's account (never another's), marked to the last trade."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get

from hosts.api.guards import host_of, principal_of
from hosts.api.schemas import PositionsOut
from hosts.api.views import error_responses, positions_out
from tradingcore.application.position_views import positions_of


class PositionController(Controller):
    path = "/api/v1/positions"
    tags = ("positions",)

    @get(
        "",
        operation_id="listPositions",
        summary="Positions and P&L of this key's account",
        responses=error_responses(),
        sync_to_thread=True,
    )
    def list_positions(self, request: Request[Any, Any, Any]) -> PositionsOut:
        """Return net quantity, average price, realized, daily and unrealized P&L per symbol."""
        principal = principal_of(request)
        views = positions_of(host_of(request).orders, principal.account)
        return positions_out(principal.account, views)
