"""The system's services: start order, dependencies, health probes and the recovery policy.

One plan, read by `tradingcore up` (which runs it) and by `tradingcore service install` (which
hands it to the Windows service manager or systemd), so both start the same hosts in the same
order and restart them the same way. Spec section 10: Analytics (the WebSocket server) first,
then DataCapture (it connects to Analytics), then the API gateway.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from hosts.config import TradingConfig
from hosts.config_args import endpoints, reachable


class PlanError(ValueError):
    """The config cannot be run as a supervised system (says which key and why)."""


@dataclass(frozen=True, slots=True)
class Probe:
    """A host is healthy when every probe passes: a URL answers 200, a TCP port accepts."""

    url: str | None = None
    tcp: tuple[str, int] | None = None


@dataclass(frozen=True, slots=True)
class HostPlan:
    name: str
    """The `tradingcore` subcommand that runs the host, and its name in logs and metrics."""
    service_name: str
    """Its Windows service name (spec 10.1) and, lower-cased, its systemd unit."""
    description: str
    requires: tuple[str, ...]
    """Hosts that must run for this one to work: it starts after them, stops with them."""
    after: tuple[str, ...]
    """Hosts that start before this one (the spec's order)."""
    probes: tuple[Probe, ...]
    listens: tuple[str, ...]
    """Where it listens, for people: `WebSocket ws://127.0.0.1:9001`..."""
    finite: bool = False
    """It may end by itself with exit code 0 (a capture of a finite source): not a crash."""
    extra_arguments: tuple[str, ...] = field(default=())

    def command(self, config_file: Path, python: str = sys.executable) -> list[str]:
        """Return the command line that runs this host with the config file."""
        return [
            python,
            "-m",
            "hosts.cli",
            self.name,
            "--config",
            str(config_file),
            *self.extra_arguments,
        ]

    @property
    def unit_name(self) -> str:
        return self.service_name.lower() + ".service"


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """Capped exponential backoff: initial, 2x initial, 4x ... up to maximum.

    A host that stayed up `reset_after` seconds starts again from the initial delay.
    """

    initial: float = 1.0
    maximum: float = 30.0
    reset_after: float = 60.0

    def delay(self, failures: int) -> float:
        """Return the wait before restart number `failures` (1 for the first restart)."""
        if failures < 1:
            return 0.0
        return float(min(self.initial * 2 ** min(failures - 1, 62), self.maximum))

    def steps(self) -> list[float]:
        """Return the distinct delays, initial to cap (the service managers' action list)."""
        delays: list[float] = []
        failures = 1
        while not delays or delays[-1] < self.maximum:
            delays.append(self.delay(failures))
            failures += 1
        return delays


ANALYTICS: Final = "analytics"
CAPTURE: Final = "capture"
API: Final = "api"
SERVICE_NAMES: Final = {
    ANALYTICS: "TradingSystem-Analytics",
    CAPTURE: "TradingSystem-DataCapture",
    API: "TradingSystem-Gateway",
}
"""Spec 10.1's Windows service names (the REST API is the spec's API Gateway)."""


def restart_policy(config: TradingConfig) -> RestartPolicy:
    section = config.supervisor
    return RestartPolicy(section.backoff_initial, section.backoff_max, section.backoff_reset_after)


def system_plan(config: TradingConfig, *, forward_signals: bool | None = None) -> list[HostPlan]:
    """Return the hosts in start order (analytics, capture, api) with their probes."""
    _check_ports(config)
    metrics_host = reachable(config.observability.metrics_host)
    analytics, capture = config.analytics, config.capture
    ends = endpoints(config)
    forward = analytics.forward_signals if forward_signals is None else forward_signals
    capture_health = f"http://{metrics_host}:{capture.metrics_port}/health"
    capture_probes = (Probe(url=capture_health),) if capture.metrics_port > 0 else ()
    analytics_metrics = f"http://{metrics_host}:{analytics.metrics_port}/metrics"
    analytics_probes = [Probe(tcp=(reachable(analytics.host).strip("[]"), analytics.port))]
    if analytics.metrics_port > 0:
        analytics_probes.append(Probe(url=analytics_metrics))
    peers: list[str] = []  # the dashboard's health panel polls the other hosts
    if config.api.capture_health_url is None and capture.metrics_port > 0:
        peers += ["--capture-health-url", capture_health]
    if config.api.analytics_health_url is None and analytics.metrics_port > 0:
        peers += ["--analytics-health-url", analytics_metrics]
    return [
        HostPlan(
            name=ANALYTICS,
            service_name=SERVICE_NAMES[ANALYTICS],
            description="tradingcore Analytics: features, online model and signals",
            requires=(),
            after=(),
            probes=tuple(analytics_probes),
            listens=(
                f"WebSocket {ends.analytics_ws}",
                *((f"metrics {analytics_metrics}",) if analytics.metrics_port > 0 else ()),
            ),
            extra_arguments=("--api-url", ends.api_url) if forward else (),
        ),
        HostPlan(
            name=CAPTURE,
            service_name=SERVICE_NAMES[CAPTURE],
            description="tradingcore DataCapture: market data into the store and to Analytics",
            requires=(ANALYTICS,),
            after=(ANALYTICS,),
            probes=capture_probes,
            listens=(f"health {capture_health}",) if capture.metrics_port > 0 else (),
            finite=capture.source != "profitdll",
        ),
        HostPlan(
            name=API,
            service_name=SERVICE_NAMES[API],
            description="tradingcore API gateway: REST, dashboard, orders and risk",
            requires=(ANALYTICS,),
            after=(ANALYTICS, CAPTURE),
            probes=(Probe(url=f"{ends.api_url}/health"),),
            listens=(f"REST {ends.api_url}", f"dashboard {ends.api_url}/dashboard"),
            extra_arguments=tuple(peers),
        ),
    ]


def stop_order(plan: Sequence[HostPlan]) -> list[HostPlan]:
    """Return the hosts in the order they stop: the reverse of the start order."""
    return list(reversed(plan))


def _check_ports(config: TradingConfig) -> None:
    fixed = {"analytics.port": config.analytics.port, "api.port": config.api.port}
    for key, port in fixed.items():
        if port == 0:
            raise PlanError(f"{key} = 0: a supervised host needs a fixed port to be probed")
    for key, port in (
        ("capture.metrics_port", config.capture.metrics_port),
        ("analytics.metrics_port", config.analytics.metrics_port),
    ):
        if port == 0:
            raise PlanError(f"{key} = 0: use a fixed port, or -1 for no metrics and probe")
    seen: dict[int, str] = {}
    ports = {
        **fixed,
        "analytics.metrics_port": config.analytics.metrics_port,
        "capture.metrics_port": config.capture.metrics_port,
    }
    ports["supervisor.metrics_port"] = config.supervisor.metrics_port
    for key, port in ports.items():
        if port <= 0:
            continue
        if port in seen:
            raise PlanError(f"{key} and {seen[port]} are both port {port}")
        seen[port] = key
