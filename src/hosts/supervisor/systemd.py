"""systemd units for the services: the same order, dependencies, probes and backoff as `up`."""

from __future__ import annotations

import shlex
from pathlib import Path

from hosts.supervisor.services import ServiceDefinition


def unit_name(service_name: str) -> str:
    return service_name.lower() + ".service"


def render_unit(definition: ServiceDefinition, *, user: bool = False) -> str:
    """Return the unit file of one service."""
    host = definition.host
    policy = definition.recovery
    steps = max(1, len(policy.steps()) - 1)
    after = " ".join(["network-online.target", *map(unit_name, definition.after)])
    lines = [
        "# Written by `tradingcore service install`; the plan is src/hosts/supervisor/plan.py.",
        "[Unit]",
        f"Description={host.description} ({definition.name})",
        f"After={after}",
        "Wants=network-online.target",
    ]
    if definition.requires:
        lines.append("Requires=" + " ".join(map(unit_name, definition.requires)))
    lines += [
        "StartLimitIntervalSec=0",  # never give up restarting: the backoff paces it
        "",
        "[Service]",
        "Type=simple",
        f"WorkingDirectory={definition.working_directory}",
        f"Environment=TRADINGCORE_SERVICE={definition.name}",  # named in credential errors
        f"ExecStart={_command(definition.command)}",
        # The next service starts only once this one passes the plan's health probes.
        f"ExecStartPost={_command(_wait_healthy(definition))}",
        f"TimeoutStartSec={definition.health_timeout:g}",
    ]
    if definition.environment_file is not None:
        lines.append(f"EnvironmentFile={definition.environment_file}")
    lines += [
        "Restart=on-failure",  # a finite source ending (exit 0) is not a failure
        f"RestartSec={policy.initial:g}",
        f"RestartSteps={steps}",  # systemd 254+: exponential steps up to the cap
        f"RestartMaxDelaySec={policy.maximum:g}",
        "KillSignal=SIGTERM",
        f"TimeoutStopSec={definition.stop_timeout:g}",
        "",
        "[Install]",
        f"WantedBy={'default.target' if user else 'multi-user.target'}",
        "",
    ]
    return "\n".join(lines)


def write_units(
    definitions: list[ServiceDefinition], output: Path, *, user: bool = False
) -> list[Path]:
    """Write every unit into `output`; return their paths, in start order."""
    output.mkdir(parents=True, exist_ok=True)
    written = []
    for definition in definitions:
        path = output / unit_name(definition.name)
        path.write_text(render_unit(definition, user=user), encoding="utf-8")
        written.append(path)
    return written


def remove_units(definitions: list[ServiceDefinition], output: Path) -> list[Path]:
    removed = []
    for definition in definitions:
        path = output / unit_name(definition.name)
        if path.exists():
            path.unlink()
            removed.append(path)
    return removed


def _command(words: tuple[str, ...] | list[str]) -> str:
    return " ".join(shlex.quote(str(word)) for word in words)


def _wait_healthy(definition: ServiceDefinition) -> tuple[str, ...]:
    command = definition.command
    index = command.index("--config")
    wait = ("-m", "hosts.cli", "service", "wait-healthy", definition.host.name)
    return (command[0], *wait, *command[index : index + 2])
