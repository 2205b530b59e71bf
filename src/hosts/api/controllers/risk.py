"""Risk: the kill switch (admin to change) and the limits (admin to change)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post, put
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK

from hosts.api.errors import domain_errors
from hosts.api.guards import admin_guard, host_of, principal_of
from hosts.api.schemas import KillSwitchIn, KillSwitchOut, RiskLimitsIn, RiskLimitsOut
from hosts.api.views import error_responses, kill_switch_out, limits_out


class RiskController(Controller):
    path = "/api/v1/risk"
    tags = ("risk",)

    @post(
        "/kill-switch",
        operation_id="changeKillSwitch",
        summary="Engage (stop trading, cancel open orders) or release the kill switch",
        guards=[admin_guard],
        status_code=HTTP_200_OK,
        responses=error_responses(403, 413, 422),
        sync_to_thread=True,
    )
    def change_kill_switch(
        self, request: Request[Any, Any, Any], data: JSONBody[KillSwitchIn]
    ) -> KillSwitchOut:
        """Admin only; the reason goes to the audit trail. Engaging twice changes nothing."""
        principal = principal_of(request)
        orders = host_of(request).orders
        with domain_errors():
            if data.action == "engage":
                open_before = len(orders.book.open_orders)
                switch = orders.engage_kill_switch(principal.name, data.reason)
                canceled = open_before - len(orders.book.open_orders)
                return kill_switch_out(switch, max(0, canceled))
            return kill_switch_out(orders.release_kill_switch(principal.name, data.reason))

    @get(
        "/kill-switch",
        operation_id="getKillSwitch",
        summary="Whether the kill switch is engaged, by whom and why",
        responses=error_responses(),
        sync_to_thread=True,
    )
    def get_kill_switch(self, request: Request[Any, Any, Any]) -> KillSwitchOut:
        """Return the kill switch's state."""
        with host_of(request).orders.lock:
            return kill_switch_out(host_of(request).orders.kill_switch())

    @get(
        "/limits",
        operation_id="getRiskLimits",
        summary="The pre-trade risk limits in force",
        responses=error_responses(),
        sync_to_thread=False,
    )
    def get_limits(self, request: Request[Any, Any, Any]) -> RiskLimitsOut:
        """Return the limits (money in R$, durations in seconds)."""
        return limits_out(host_of(request).orders.settings.limits)

    @put(
        "/limits",
        operation_id="changeRiskLimits",
        summary="Change risk limits (admin only; stored, audited, kept across restarts)",
        guards=[admin_guard],
        responses=error_responses(403, 413, 422),
        sync_to_thread=True,
    )
    def change_limits(
        self, request: Request[Any, Any, Any], data: JSONBody[RiskLimitsIn]
    ) -> RiskLimitsOut:
        """Apply the given limits; omitted ones keep their values. The change is stored: after a
        restart it still wins over the configured limits."""
        principal = principal_of(request)
        changes = data.model_dump(exclude_none=True)
        reason = changes.pop("reason", "")
        with domain_errors():
            limits = host_of(request).orders.change_limits(principal.name, changes, reason)
        return limits_out(limits)
