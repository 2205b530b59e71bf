"""`tradingcore service install|remove|start|stop`: the hosts as Windows services or systemd."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from hosts.config import DEFAULT_CONFIG_FILE, ConfigError, TradingConfig, load_config
from hosts.config_toml import commented_default
from hosts.supervisor import probe, systemd
from hosts.supervisor.keys import KeySetupError, ensure_operator_key, ensure_service_key
from hosts.supervisor.plan import PlanError
from hosts.supervisor.services import ServiceDefinition, by_name, service_definitions

DEFAULT_UNITS_DIR = Path("data/systemd")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        choices=("install", "remove", "start", "stop", "wait-healthy"),
        help="install: register the services (Windows) or write systemd units (Linux); "
        "start/stop: in the spec's order / in reverse",
    )
    parser.add_argument("host", nargs="?", help="wait-healthy: the host to wait for")
    parser.add_argument(
        "--config",
        type=Path,
        help=f"the config file the services read (default ./{DEFAULT_CONFIG_FILE}; install "
        "writes one with the defaults if there is none)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_UNITS_DIR,
        help=f"Linux: where the systemd units are written (default {DEFAULT_UNITS_DIR})",
    )
    parser.add_argument("--user", action="store_true", help="Linux: units for `systemctl --user`")


def run(args: argparse.Namespace) -> int:
    path = args.config or DEFAULT_CONFIG_FILE
    try:
        if args.action == "install" and not path.exists():
            path.write_text(commented_default(TradingConfig()), encoding="utf-8")
            print(f"wrote {path} with the defaults: the services read it")
        config = load_config(path)
        definitions = service_definitions(config, path, Path.cwd())
    except (ConfigError, PlanError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.action == "wait-healthy":
        return _wait_healthy(definitions, args.host)
    try:
        if args.action == "install":
            for line in _keys(config, definitions):
                print(line)
        lines = _windows(args.action, definitions, path) if sys.platform == "win32" else (
            _linux(args.action, definitions, args.output, user=args.user)
        )  # fmt: skip
    except (KeySetupError, OSError, subprocess.CalledProcessError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    return 0


def _keys(config: TradingConfig, definitions: list[ServiceDefinition]) -> list[str]:
    lines = [ensure_operator_key(config.api.keys_file, config.supervisor.operator_key_file)]
    for definition in definitions:
        if definition.environment_file is not None:
            lines.append(
                ensure_service_key(
                    config.api.keys_file, definition.environment_file, config.analytics.api_key_env
                )
            )
    return lines


def _windows(action: str, definitions: list[ServiceDefinition], path: Path) -> list[str]:
    from hosts.supervisor import winservice

    if action == "install":
        return winservice.install(definitions, path)
    if action == "remove":
        return winservice.remove(definitions)
    if action == "start":
        return winservice.start(definitions)
    return winservice.stop(definitions)


def _linux(
    action: str, definitions: list[ServiceDefinition], output: Path, *, user: bool
) -> list[str]:
    units = [systemd.unit_name(definition.name) for definition in definitions]
    systemctl = ["systemctl", *(["--user"] if user else [])]
    if action == "install":
        written = systemd.write_units(definitions, output, user=user)
        target = "~/.config/systemd/user" if user else "/etc/systemd/system"
        return [
            *(f"wrote {unit}" for unit in written),
            f"to register them: cp {output}/*.service {target}/ && "
            f"{' '.join(systemctl)} daemon-reload && "
            f"{' '.join(systemctl)} enable {' '.join(units)}",
            "then: tradingcore service start",
        ]
    if action == "remove":
        return [f"removed {path}" for path in systemd.remove_units(definitions, output)]
    ordered = units if action == "start" else list(reversed(units))
    for unit in ordered:  # one at a time: each start returns once its host is healthy
        subprocess.run([*systemctl, action, unit], check=True)
    return [f"{action}ed {unit}".replace("stoped", "stopped") for unit in ordered]


def _wait_healthy(definitions: list[ServiceDefinition], host: str | None) -> int:
    """Return 0 once the host passes its probes (a unit's ExecStartPost), 1 on time-out."""
    if host is None:
        print("error: wait-healthy needs the host: analytics, capture or api", file=sys.stderr)
        return 2
    try:
        definition = by_name(definitions, host)
    except KeyError as error:
        print(f"error: {error.args[0]}", file=sys.stderr)
        return 2
    deadline = time.monotonic() + definition.health_timeout
    while True:
        passed, seen = probe.healthy(definition.host.probes)
        if passed:
            return 0
        if time.monotonic() > deadline:
            print(f"error: {host} not healthy (last probe: {seen})", file=sys.stderr)
            return 1
        time.sleep(0.5)
