"""The config file as command-line defaults: each host's flags keep working and override it.

`tradingcore HOST --config FILE ...` parses twice: once to find the file, then again with the
file's values as the parser's defaults, so a flag given on the command line still wins.
Values no flag carries (risk limits, fees, HOLD policy) reach the host as extra attributes.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from hosts.config import TradingConfig


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where each host listens, as the other hosts reach it."""

    analytics_ws: str
    api_url: str


def endpoints(config: TradingConfig) -> Endpoints:
    analytics, api = config.analytics, config.api
    return Endpoints(
        analytics_ws=f"ws://{reachable(analytics.host)}:{analytics.port}",
        api_url=f"http://{reachable(api.host)}:{api.port}",
    )


def reachable(host: str) -> str:
    """A wildcard listen address is reached on loopback."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def capture_defaults(config: TradingConfig) -> dict[str, Any]:
    capture, shared = config.capture, config.observability
    return {
        "store": config.store.url,
        "source": capture.source,
        "path": capture.recording,
        "symbols": ",".join(capture.symbols),
        "seed": capture.seed,
        "trades": capture.trades,
        "fast": capture.fast,
        "rate": capture.rate,
        "speed": capture.speed,
        "dll": capture.dll,
        "routing": capture.routing,
        "ws_url": endpoints(config).analytics_ws,
        "buffer": capture.buffer,
        "no_books": not capture.books,
        "no_record_books": not capture.record_books,
        "retry_interval": capture.retry_interval,
        "batch_size": capture.batch_size,
        "batch_age_ms": capture.batch_age_ms,
        "metrics_port": capture.metrics_port,
        "metrics_host": shared.metrics_host,
        "log_dir": shared.log_dir,
        "drain_timeout": capture.drain_timeout,
        "reconnect_after": capture.reconnect_after,
    }


def analytics_defaults(config: TradingConfig) -> dict[str, Any]:
    analytics, shared = config.analytics, config.observability
    values: dict[str, Any] = {
        "store": config.store.url,
        "listen": (analytics.host, analytics.port),
        "api_key_env": analytics.api_key_env,
        "metrics_port": analytics.metrics_port,
        "metrics_host": shared.metrics_host,
        "model": analytics.model,
        "log_dir": shared.log_dir,
        "feature_batch": analytics.feature_batch,
        **strategy_defaults(config),
    }
    if analytics.trainer is not None:
        values["trainer"] = analytics.trainer
    if analytics.writer is not None:
        values["writer"] = analytics.writer
    return values


def strategy_defaults(config: TradingConfig) -> dict[str, Any]:
    return config.strategy.model_dump()


def api_defaults(config: TradingConfig) -> dict[str, Any]:
    api, risk, execution = config.api, config.risk, config.execution
    return {
        "store": config.store.url,
        "host": api.host,
        "port": api.port,
        "keys_file": api.keys_file,
        "broker": api.broker,
        "clock": api.clock,
        "feed_hold": api.feed_hold,
        "signal_wait": api.signal_wait,
        "poll_interval": api.poll_interval,
        "max_held_trades": api.max_held_trades,
        "history": api.history,
        "auto_execute": execution.enabled,
        "auto_quantity": execution.quantity,
        "auto_min_confidence": execution.min_confidence,
        "auto_scale": execution.scale_by_confidence,
        "auto_hold_closes": execution.hold_closes,
        "risk_limits": risk.limits(),
        "trading_hours": risk.trading_hours,
        "holiday": [day.isoformat() for day in risk.holidays],
        "fees": dict(config.fees),
        "log_dir": config.observability.log_dir,
        "rate_limit_client": api.rate_limit_client,
        "rate_limit_key": api.rate_limit_key,
        "http": api.http,
        "loop": api.loop,
        **peer_urls(config),
        "supervisor_state": config.supervisor.state_file,
        # [strategy] import_path: that strategy runs live in the API host (docs/strategies.md)
        "import_path": config.strategy.import_path,
        "params": dict(config.strategy.params),
    }


def peer_urls(config: TradingConfig) -> dict[str, str | None]:
    """The other hosts' URLs the dashboard polls: as configured, else their metrics ports'
    (capture serves /health there; analytics only /metrics, which tells up or down)."""
    metrics_host = reachable(config.observability.metrics_host)
    capture, analytics = config.capture.metrics_port, config.analytics.metrics_port
    return {
        "capture_health_url": config.api.capture_health_url
        or (f"http://{metrics_host}:{capture}/health" if capture > 0 else None),
        "analytics_health_url": config.api.analytics_health_url
        or (f"http://{metrics_host}:{analytics}/metrics" if analytics > 0 else None),
    }


def backtest_defaults(config: TradingConfig) -> dict[str, Any]:
    risk, execution = config.risk, config.execution
    return {
        **strategy_defaults(config),
        "fees": dict(config.fees),
        # --trade runs the API host's auto-execution and risk: the same keys.
        "auto_quantity": execution.quantity,
        "auto_min_confidence": execution.min_confidence,
        "auto_scale": execution.scale_by_confidence,
        "auto_hold_closes": execution.hold_closes,
        "risk_limits": risk.limits(),
        "trading_hours": risk.trading_hours,
        "holiday": [day.isoformat() for day in risk.holidays],
    }


HOST_DEFAULTS: Final[dict[str, Callable[[TradingConfig], dict[str, Any]]]] = {
    "capture": capture_defaults,
    "analytics": analytics_defaults,
    "api": api_defaults,
    "backtest": backtest_defaults,
}
"""The commands that take `--config`, and how the file becomes their defaults."""


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="read defaults from this tradingcore.toml (flags given here override it)",
    )
