"""`tradingcore up|down|status`: the whole system in one command, from one config file."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.jsonlog import configure_logging
from hosts.config import DEFAULT_CONFIG_FILE, ConfigError, TradingConfig, load_config, parse_config
from hosts.config_toml import effective_toml
from hosts.supervisor import probe, process
from hosts.supervisor.keys import KEYS_ENV, KeySetupError, analytics_key, ensure_operator_key
from hosts.supervisor.plan import API, PlanError, restart_policy, system_plan
from hosts.supervisor.runner import RunSettings, Supervisor, SupervisorMetrics
from hosts.supervisor.state import StateFile, probes_of


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        help=f"the config file (default: ./{DEFAULT_CONFIG_FILE} if present, else built-in "
        "defaults: paced synthetic market, SQLite store under data/, paper broker)",
    )


def add_up_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    parser.add_argument("--store", help="event store URL (overrides store.url)")
    parser.add_argument("--seed", type=int, help="synthetic market seed (capture.seed)")
    parser.add_argument("--trades", type=int, help="synthetic trades per symbol (capture.trades)")
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument("--rate", type=float, help="ticks per second (capture.rate)")
    pace.add_argument("--fast", action="store_true", help="as fast as possible (capture.fast)")
    parser.add_argument(
        "--exit-when-done",
        action="store_true",
        help="stop the whole system when a finite source ends (default: analytics and the API "
        "keep running; supervisor.when_capture_ends)",
    )


def load(path: Path | None) -> tuple[TradingConfig, Path | None]:
    """Load the named file, else ./tradingcore.toml if present, else the built-in defaults."""
    if path is None and DEFAULT_CONFIG_FILE.exists():
        path = DEFAULT_CONFIG_FILE
    return load_config(path), path


def with_overrides(config: TradingConfig, args: argparse.Namespace) -> TradingConfig:
    plain = config.model_dump()
    capture = plain["capture"]
    if args.store:
        plain["store"]["url"] = args.store
    for name in ("seed", "trades"):
        if getattr(args, name) is not None:
            capture[name] = getattr(args, name)
    if args.rate is not None:
        capture.update(rate=args.rate, fast=False, speed=None)
    if args.fast:
        capture.update(rate=None, fast=True, speed=None)
    if args.exit_when_done:
        plain["supervisor"]["when_capture_ends"] = "stop"
    return parse_config(plain, "command line")


def up(args: argparse.Namespace) -> int:
    try:
        loaded, path = load(args.config)
        config = with_overrides(loaded, args)
        plan = system_plan(config)
    except (ConfigError, PlanError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    state = StateFile(config.supervisor.state_file)
    running = _running(state)
    if running:
        print(f"error: a system already runs here (supervisor pid {running}); "
              "stop it with `tradingcore down`", file=sys.stderr)  # fmt: skip
        return 2
    busy = ports_in_use(config)
    if busy:
        print(f"error: {busy} is in use by another program (another `tradingcore up`? "
              "`tradingcore status` tells); set another port in the config",
              file=sys.stderr)  # fmt: skip
        return 2
    folder = state.path.parent
    folder.mkdir(parents=True, exist_ok=True)
    effective = folder / "tradingcore.effective.toml"
    effective.write_text(effective_toml(config), encoding="utf-8")
    try:
        operator_line = ensure_operator_key(
            config.api.keys_file, config.supervisor.operator_key_file
        )
        signal_key, api_keys = analytics_key(os.environ)
    except KeySetupError as error:
        print(f"error: API keys: {error}", file=sys.stderr)
        return 2
    base = dict(os.environ)
    environments = {
        "analytics": {**base, config.analytics.api_key_env: signal_key},
        "capture": base,
        "api": {**base, KEYS_ENV: api_keys},
    }
    log_dir = config.observability.log_dir
    logger = configure_logging("supervisor", log_dir)
    metrics = SupervisorMetrics()
    from prometheus_client import start_http_server

    metrics_host = config.observability.metrics_host
    try:
        server, _ = start_http_server(
            config.supervisor.metrics_port, metrics_host, metrics.registry
        )
    except OSError as error:
        print(f"error: supervisor.metrics_port {config.supervisor.metrics_port}: {error}",
              file=sys.stderr)  # fmt: skip
        return 2
    api_plan = next(host for host in plan if host.name == API)
    dashboard = api_plan.listens[-1].removeprefix("dashboard ")
    details = {
        "config": str(path) if path else None,
        "effective_config": str(effective),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "metrics": f"http://{metrics_host}:{config.supervisor.metrics_port}/metrics",
        "dashboard": dashboard,
    }
    state.start(plan, pid=os.getpid(), details=details)
    print(f"config: {path or 'built-in defaults'} (effective: {effective})", flush=True)
    note = replay_note(config)
    if note:
        print(note, flush=True)
    print(f"logs: {log_dir}/ (supervisor, datacapture, analytics, ordermanager); "
          f"host output: {log_dir / 'supervisor'}/HOST.out", flush=True)  # fmt: skip
    settings = RunSettings(
        config_file=effective,
        output_dir=log_dir / "supervisor",
        environments=environments,
        health_timeout=config.supervisor.health_timeout,
        stop_timeout=config.supervisor.stop_timeout,
        stop_when_finished=config.supervisor.when_capture_ends == "stop",
    )

    def started() -> None:
        for host in plan:
            for where in host.listens:
                print(f"  {host.name:<9} {where}", flush=True)
        print(f"  {'supervisor':<9} metrics {details['metrics']}", flush=True)
        print(operator_line, flush=True)
        print(f"dashboard: {dashboard}   (stop: Ctrl-C or `tradingcore down`)", flush=True)

    supervisor = Supervisor(
        plan, restart_policy(config), settings, state=state, logger=logger, metrics=metrics,
        say=lambda text: print(text, flush=True), on_started=started,
    )  # fmt: skip
    stop = _stop_on_signals()
    try:
        return supervisor.run(stop)
    finally:
        server.shutdown()
        for handler in logger.handlers:
            handler.close()
        print("system stopped", flush=True)


def down(args: argparse.Namespace) -> int:
    try:
        config, _ = load(args.config)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    state = StateFile(config.supervisor.state_file)
    data = state.read()
    if data is None:
        print("no system running here (no state file)")
        return 0
    pid = int(data.get("pid", 0))
    if not process.pid_alive(pid):
        state.remove()
        print(f"no system running (supervisor pid {pid} is gone); stale state removed")
        return 0
    state.request_stop()
    if sys.platform != "win32":
        os.kill(pid, signal.SIGTERM)
    print(f"stopping the system (supervisor pid {pid})...", flush=True)
    deadline = time.monotonic() + config.supervisor.stop_timeout * 3 + 10
    while process.pid_alive(pid):
        if time.monotonic() > deadline:
            print(f"error: supervisor pid {pid} still runs", file=sys.stderr)
            return 1
        time.sleep(0.2)
    print("stopped")
    return 0


def status(args: argparse.Namespace) -> int:
    try:
        config, _ = load(args.config)
        data = StateFile(config.supervisor.state_file).read()
    except (ConfigError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if data is None or not process.pid_alive(int(data.get("pid", 0))):
        print("not running" if data is None else "not running (stale state)")
        return 3
    hosts: dict[str, dict[str, Any]] = {}
    ok = True
    for name, entry in data.get("hosts", {}).items():
        hosts[name] = row = _host_status(entry)
        ok = ok and (row["health"] == "healthy" or row["status"] == "finished")
    report = {"supervisor": {"pid": data["pid"], "metrics": data.get("metrics")},
              "dashboard": data.get("dashboard"), "hosts": hosts}  # fmt: skip
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"supervisor pid {data['pid']}  metrics {data.get('metrics')}")
        for name, row in hosts.items():
            print(f"  {name:<9} {row['status']:<10} pid {row['pid'] or '-':<8} {row['health']:<24}"
                  f" {', '.join(row['listens'])}")  # fmt: skip
        print(f"dashboard: {data.get('dashboard')}")
    return 0 if ok else 1


def replay_note(config: TradingConfig) -> str:
    """Warn that a synthetic market replayed into a store that holds it records nothing new."""
    url = config.store.url
    if config.capture.source != "synthetic" or not url.startswith("sqlite:///"):
        return ""
    store = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
    if not store.exists():
        return ""
    return (
        f"note: {store} exists: capture refuses the synthetic trades it already holds "
        f"(seed {config.capture.seed}), so a finished session trades nothing again; for a "
        "fresh market give another store: --store sqlite:///data/OTHER.sqlite"
    )


def ports_in_use(config: TradingConfig) -> str:
    """Name the first port `up` would listen on that something else holds, or ""."""
    shared = config.observability.metrics_host
    wanted = [
        ("analytics.port", config.analytics.host, config.analytics.port),
        ("analytics.metrics_port", shared, config.analytics.metrics_port),
        ("capture.metrics_port", shared, config.capture.metrics_port),
        ("api.port", config.api.host, config.api.port),
        ("supervisor.metrics_port", shared, config.supervisor.metrics_port),
    ]
    for key, host, port in wanted:
        if port <= 0:
            continue
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as listener:
            if sys.platform != "win32":  # as the hosts bind: a port in TIME_WAIT is free
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                listener.bind((host, port))
            except OSError:
                return f"{key} {host}:{port}"
    return ""


def _host_status(entry: dict[str, Any]) -> dict[str, Any]:
    pid = entry.get("pid")
    status_text = str(entry.get("status", "?"))
    if status_text == "running" and pid and not process.pid_alive(int(pid)):
        status_text = "dead"
    health = "-"
    if status_text == "running":
        passed, seen = probe.healthy(probes_of(entry))
        health = "healthy" if passed else f"unhealthy ({seen})"
    return {"pid": pid, "status": status_text, "health": health,
            "restarts": entry.get("restarts", 0), "listens": entry.get("listens", [])}  # fmt: skip


def _running(state: StateFile) -> int | None:
    try:
        data = state.read()
    except ValueError:
        return None
    pid = int(data.get("pid", 0)) if data else 0
    return pid if pid and pid != os.getpid() and process.pid_alive(pid) else None


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    numbers = [signal.SIGINT, signal.SIGTERM]
    if sys.platform == "win32":
        numbers.append(signal.SIGBREAK)
    for number in numbers:
        signal.signal(number, lambda *_: stop.set())
    return stop
