"""The system as operating-system services: one definition per host, from the supervisor's plan.

Both installers (systemd units on Linux, pywin32 services on Windows) read these, so the
services start in the plan's order, depend on what the plan says each host requires, wait for
the plan's health probes and restart with the plan's backoff, as `tradingcore up` does.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hosts.config import TradingConfig
from hosts.supervisor.plan import ANALYTICS, HostPlan, RestartPolicy, restart_policy, system_plan

SERVICE_KEY_FILE: Final = Path("data/service-analytics.env")
"""The analytics service's API key, as `NAME=KEY` (a systemd EnvironmentFile), mode 0600."""


@dataclass(frozen=True, slots=True)
class ServiceDefinition:
    host: HostPlan
    command: tuple[str, ...]
    """The host's full command line: the venv's python, `-m hosts.cli HOST --config FILE`."""
    working_directory: Path
    requires: tuple[str, ...]
    """Service names this one depends on (starts after, stops before)."""
    after: tuple[str, ...]
    """Service names this one starts after."""
    recovery: RestartPolicy
    stop_timeout: float
    health_timeout: float
    environment_file: Path | None = None

    @property
    def name(self) -> str:
        return self.host.service_name

    @property
    def display_name(self) -> str:
        return self.host.service_name.replace("-", " ")


def service_definitions(
    config: TradingConfig,
    config_file: Path,
    working_directory: Path,
    python: str = sys.executable,
) -> list[ServiceDefinition]:
    """Return one definition per host, in start order (absolute paths throughout)."""
    plan = system_plan(config)
    names = {host.name: host.service_name for host in plan}
    config_file = Path(config_file).absolute()
    working_directory = Path(working_directory).absolute()
    policy = restart_policy(config)
    key_file = working_directory / SERVICE_KEY_FILE
    return [
        ServiceDefinition(
            host=host,
            command=tuple(host.command(config_file, python)),
            working_directory=working_directory,
            requires=tuple(names[name] for name in host.requires),
            after=tuple(names[name] for name in host.after),
            recovery=policy,
            stop_timeout=config.supervisor.stop_timeout,
            health_timeout=config.supervisor.health_timeout,
            environment_file=key_file if host.name == ANALYTICS and host.extra_arguments else None,
        )
        for host in plan
    ]


def by_name(definitions: list[ServiceDefinition], name: str) -> ServiceDefinition:
    """Find a definition by service name (case-insensitive) or host name."""
    for definition in definitions:
        if name.lower() in (definition.name.lower(), definition.host.name):
            return definition
    known = ", ".join(definition.name for definition in definitions)
    raise KeyError(f"no service {name!r}; the services are {known}")
