"""`tradingcore api`: serve the REST API with uvicorn, create API keys, export the OpenAPI file."""

from __future__ import annotations

import argparse
import gc
import json
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Final, Literal

from adapters.eventstore import DEFAULT_STORE_URL
from adapters.jsonlog import DEFAULT_LOG_DIR
from adapters.strategy_loader import load_strategy, parse_params
from hosts.api.activity import HISTORY
from hosts.api.auth import KeyFileError, KeyRing, Role, create_key
from hosts.api.follower import DEFAULT_MAX_HELD
from hosts.api.host import BROKERS, CLOCKS, ApiConfig, ApiHost
from tradingcore.application.signal_desk import AutoExecution
from tradingcore.domain.errors import DomainError
from tradingcore.domain.fees import FeeSchedule
from tradingcore.risk.calendar import SessionCalendar
from tradingcore.risk.limits import RiskLimits
from tradingcore.strategy.api import Strategy

DEFAULT_KEYS_FILE: Final = Path("data/api-keys.json")
STREAM_SHUTDOWN_SECONDS: Final = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", default=DEFAULT_STORE_URL, help="event store URL")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="0: any free port, printed")
    add_strategy_arguments(parser)
    parser.add_argument(
        "--keys-file",
        type=Path,
        default=DEFAULT_KEYS_FILE,
        help="API key digests (JSON); TRADINGCORE_API_KEYS may hold more",
    )
    parser.add_argument("--broker", choices=BROKERS, default="paper")
    parser.add_argument(
        "--clock",
        choices=CLOCKS,
        help="feed: trade on the tape's time (paper on a synthetic or recorded feed); wall: the "
        "system clock (live); default: feed with --broker paper, wall with --broker profitdll",
    )
    parser.add_argument(
        "--feed-hold",
        type=float,
        default=10.0,
        help="feed clock, auto-execution: seconds a seen trade waits for an earlier tick's signal",
    )
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=0.005,
        help="seconds between reads of the store's new trades and signals (SQLite cannot push)",
    )
    parser.add_argument(
        "--signal-wait",
        type=float,
        default=4.0,
        help="seconds a signal waits for its tick to reach the tape before it is not traded",
    )
    parser.add_argument(
        "--max-held-trades",
        type=int,
        default=DEFAULT_MAX_HELD,
        help="feed clock, auto-execution: seen trades held at most; past it the store is read "
        "only as they are applied",
    )
    parser.add_argument(
        "--history",
        type=int,
        default=HISTORY,
        help="orders and signals kept in memory for the order and signal lists and the dashboard "
        "(the lists read older ones from the store)",
    )
    parser.add_argument(
        "--auto-execute", action="store_true", help="trade received BUY/SELL signals"
    )
    parser.add_argument(
        "--auto-quantity", type=int, default=1, help="target position N: BUY long N, SELL short N"
    )
    parser.add_argument(
        "--auto-hold",
        dest="auto_hold_closes",
        type=hold_closes,
        default="close",  # a string default goes through `type`: --help shows `close`
        metavar="{close,keep}",
        help="what a HOLD signal does to the position: close it (flat) or keep it",
    )
    parser.add_argument(
        "--auto-min-confidence",
        type=float,
        default=0.6,
        help="signals less confident than this are not traded",
    )
    parser.add_argument(
        "--auto-scale", action="store_true", help="target round(quantity x confidence) contracts"
    )
    parser.add_argument("--risk-config", type=Path, help="JSON object of risk limits to override")
    parser.add_argument(
        "--trading-hours",
        default="09:00-18:25",
        help="São Paulo session HH:MM-HH:MM, or 'always'",
    )
    parser.add_argument("--holiday", action="append", default=[], help="YYYY-MM-DD; repeatable")
    parser.add_argument("--log-dir", type=Path, default=DEFAULT_LOG_DIR)
    parser.add_argument("--rate-limit-client", type=int, default=200, help="requests/s per address")
    parser.add_argument("--rate-limit-key", type=int, default=100, help="requests/s per API key")
    parser.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="a reverse proxy whose X-Forwarded-For is believed (repeatable; none by default: "
        "the rate limit counts the connecting address)",
    )
    parser.add_argument(
        "--http",
        choices=("auto", "h11", "httptools"),
        default="auto",
        help="uvicorn's HTTP parser (auto: httptools when installed)",
    )
    parser.add_argument(
        "--loop",
        choices=("auto", "asyncio", "uvloop"),
        default="auto",
        help="event loop (auto: uvloop when installed)",
    )
    parser.add_argument(
        "--capture-health-url", help="the capture host's /health, for the dashboard"
    )
    parser.add_argument(
        "--analytics-health-url", help="the analytics host's /health, for the dashboard"
    )
    parser.add_argument(
        "--supervisor-state",
        type=Path,
        help="tradingcore up's state file: restarts per host, for the dashboard",
    )
    parser.add_argument("--create-key", metavar="NAME", help="add a key, print it once and exit")
    parser.add_argument("--role", choices=[role.value for role in Role], default="trader")
    parser.add_argument("--account", help="account the new key trades (default: its name)")
    parser.add_argument("--export-openapi", type=Path, metavar="PATH", help="write and exit")


def add_strategy_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("strategies run live on the tape (docs/strategies.md)")
    group.add_argument(
        "--strategy",
        action="append",
        help="package.module:Class or a shipped name (ma-cross, ...); repeat for several",
    )
    group.add_argument(
        "--strategy-param", action="append", default=[], help="strategy parameter key=value"
    )
    group.add_argument(
        "--strategy-account", default="operator", help="the account strategies trade for"
    )


def hold_closes(value: str) -> bool:
    """`--auto-hold close|keep` as the HOLD policy's flag."""
    if value not in ("close", "keep"):
        raise argparse.ArgumentTypeError(f"invalid choice {value!r}: use close or keep")
    return value == "close"


def config_from(args: argparse.Namespace) -> ApiConfig:
    """Build the host configuration from the command line; raise on bad values."""
    limits = RiskLimits.from_plain(getattr(args, "risk_limits", None) or {})  # [risk] of --config
    if args.risk_config is not None:
        try:
            plain = json.loads(args.risk_config.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ValueError(f"risk config {args.risk_config}: unreadable ({error})") from None
        if not isinstance(plain, dict):
            raise ValueError(f"risk config {args.risk_config}: expected a JSON object")
        limits = limits.updated(plain)
    fees = FeeSchedule.from_plain(getattr(args, "fees", None) or {})  # [fees] of --config
    return ApiConfig(
        store_url=args.store,
        broker=args.broker,
        limits=limits,
        calendar=SessionCalendar.parse(args.trading_hours, args.holiday),
        auto_execution=AutoExecution(
            enabled=args.auto_execute,
            quantity=args.auto_quantity,
            min_confidence=args.auto_min_confidence,
            scale_by_confidence=args.auto_scale,
            hold_closes=args.auto_hold_closes,
        ),
        fees=fees,
        clock=args.clock or ("feed" if args.broker == "paper" else "wall"),
        feed_hold=args.feed_hold,
        signal_wait=args.signal_wait,
        max_held_trades=args.max_held_trades,
        history=args.history,
        poll_interval=args.poll_interval,
        log_dir=args.log_dir,
        requests_per_second_per_client=args.rate_limit_client,
        requests_per_second_per_key=args.rate_limit_key,
        capture_health_url=args.capture_health_url,
        analytics_health_url=args.analytics_health_url,
        supervisor_state=args.supervisor_state,
        strategies=_strategies(args),
        strategy_account=args.strategy_account,
    )


def _strategies(args: argparse.Namespace) -> list[Strategy]:
    """`--strategy` (repeatable), else the config file's [strategy] import_path."""
    configured = getattr(args, "import_path", None)
    specs = list(args.strategy or ([configured] if configured else []))
    params = {**(getattr(args, "params", None) or {}), **parse_params(args.strategy_param)}
    return [load_strategy(spec, params) for spec in specs]


def run(args: argparse.Namespace) -> int:
    if args.create_key:
        try:
            key = create_key(args.keys_file, args.create_key, Role(args.role), args.account)
        except KeyFileError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(key)
        print(
            f"key {args.create_key!r} ({args.role}) added to {args.keys_file}; "
            "only its SHA-256 is stored: keep the key above, it is not shown again",
            file=sys.stderr,
        )
        return 0
    try:
        config = config_from(args)
        keys = KeyRing.load(args.keys_file)
    except (ValueError, DomainError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.export_openapi:
        return export_openapi(config, keys, args.export_openapi)
    if not keys.keys:
        print(
            f"error: no API keys in {args.keys_file} or TRADINGCORE_API_KEYS; create one with "
            "`tradingcore api --create-key NAME --role trader`",
            file=sys.stderr,
        )
        return 2
    return serve(
        config,
        keys,
        args.host,
        args.port,
        http=args.http,
        loop=args.loop,
        trusted_proxies=tuple(args.trusted_proxy),
    )


def serve(
    config: ApiConfig,
    keys: KeyRing,
    host: str,
    port: int,
    *,
    http: Literal["auto", "h11", "httptools"] = "auto",
    loop: Literal["auto", "asyncio", "uvloop"] = "auto",
    trusted_proxies: tuple[str, ...] = (),
) -> int:
    """Serve until interrupted; `--port 0` takes a free port, printed on the first line.

    uvicorn believes X-Forwarded-For from 127.0.0.1 unless told otherwise, so anyone on the
    machine could rotate the header past the per-address rate limit: forwarded headers are
    read only from `trusted_proxies`.
    """
    import uvicorn

    from hosts.api.app import create_app

    exit_cleanly_on_sigterm()  # before anything starts: a stop while starting exits 0 too
    try:
        api_host = ApiHost(config, keys)
    except (ValueError, DomainError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    serving = False
    try:
        listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit this: without it, Nagle + delayed ACKs add ~40 ms per response.
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            listener.bind((host, port))
        except OSError as error:
            print(f"error: cannot listen on {host}:{port}: {error}", file=sys.stderr)
            api_host.stop()
            return 2
        listener.listen(2048)  # connections wait in the backlog until the app has started
        bound_port = listener.getsockname()[1]
        print(f"tradingcore api listening on http://{host}:{bound_port}", flush=True)
        app = create_app(api_host)
        app.on_startup.append(settle_garbage_collector)
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                log_level="warning",
                access_log=False,
                http=http,
                loop=loop,
                proxy_headers=bool(trusted_proxies),
                forwarded_allow_ips=list(trusted_proxies) or None,
                # Open dashboard streams never end by themselves: do not wait on them forever.
                timeout_graceful_shutdown=STREAM_SHUTDOWN_SECONDS,
            )
        )
        serving = True  # from here uvicorn's shutdown stops the API host
        server.run(sockets=[listener])
    except SystemExit:
        if not serving:  # stopped while starting: nothing else will stop the API host
            api_host.stop()
        raise
    return 0


def _terminated(number: int, frame: object) -> None:
    raise SystemExit(0)


def exit_cleanly_on_sigterm() -> None:
    """Make a SIGTERM stop (CTRL_BREAK on Windows) end the process with 0, as capture and
    analytics do.

    uvicorn shuts down gracefully on these, then raises the signal again for the handler it
    found: with the default one the process died of it after its clean stop (exit -15, which
    `tradingcore up` and `down` reported as a host killed). SIGBREAK exists on Windows only
    (how the supervisor and the services stop a host there): type-checked, not run, here.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGTERM, _terminated)
    if sys.platform == "win32":
        signal.signal(signal.SIGBREAK, _terminated)


GC_YOUNG_THRESHOLD: Final = 20_000
"""Allocations between young-generation collections (CPython's default: 700)."""


def settle_garbage_collector() -> None:
    """Once started, keep the collector off what lives as long as the process.

    Everything allocated by then (modules, Litestar's routes and schemas, the rebuilt risk book)
    is frozen out of the collector's generations, so a full collection no longer walks it (tens
    of ms each, measured); young collections run every 20,000 allocations instead of 700 (a
    request allocates hundreds). Nothing is leaked: cycles are still collected, only less often.
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def export_openapi(config: ApiConfig, keys: KeyRing, path: Path) -> int:
    from adapters.broker.paper import PaperBroker
    from adapters.eventstore import open_store
    from hosts.api.app import create_app, openapi_document
    from tradingcore.ports.clock import ManualClock

    config.log_dir = None
    host = ApiHost(config, keys, app=open_store("memory://", ManualClock()), broker=PaperBroker())
    document = openapi_document(create_app(host))
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return 0
