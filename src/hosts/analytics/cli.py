"""`tradingcore analytics`: ticks in over WebSocket, features and signals into the store."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Final

from adapters.eventstore import DEFAULT_STORE_URL, StoreUrlError, check_store_file
from adapters.jsonlog import DEFAULT_LOG_DIR
from adapters.models import ModelFileError
from hosts.analytics.engine import DEFAULT_MAX_SYMBOLS
from hosts.analytics.options import add_config_arguments, config_from, host_port
from hosts.analytics.service import (
    DEFAULT_TRAINER,
    DEFAULT_WRITER,
    AnalyticsService,
    AnalyticsSettings,
    api_key_from,
)

DEFAULT_METRICS_PORT: Final = 9102
"""Next to the capture host's 9101; deploy/prometheus/prometheus.yml scrapes both."""
SWITCH_INTERVAL_S: Final = 0.0005
"""The GIL hand-over interval for this host. At the default 5 ms, a feature batch being
encoded on the writer thread, or a model training, holds the tick thread back for up to 5 ms."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", default=DEFAULT_STORE_URL, help="event store URL")
    parser.add_argument(
        "--listen",
        type=host_port,
        default=("127.0.0.1", 9001),
        help="WebSocket HOST:PORT the capture host sends ticks to (default 127.0.0.1:9001)",
    )
    parser.add_argument("--api-url", help="API host base URL; BUY/SELL signals are POSTed there")
    parser.add_argument(
        "--api-key-env",
        default="TRADINGCORE_API_KEY",
        help="environment variable holding the API key (default TRADINGCORE_API_KEY)",
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=DEFAULT_METRICS_PORT,
        help=f"port of Prometheus /metrics (default {DEFAULT_METRICS_PORT}; 0: any free port, "
        "-1: off)",
    )
    parser.add_argument("--metrics-host", default="127.0.0.1")
    parser.add_argument(
        "--model", type=Path, help="model file: loaded at start if present, saved on updates"
    )
    parser.add_argument("--log-dir", type=Path, default=DEFAULT_LOG_DIR)
    parser.add_argument(
        "--feature-batch", type=int, default=1_000, help="feature rows per stored event"
    )
    parser.add_argument(
        "--max-symbols",
        type=int,
        default=DEFAULT_MAX_SYMBOLS,
        help="symbols followed at once; one more takes the place of a symbol idle for 7 days, "
        "or is refused (too_many_symbols)",
    )
    parser.add_argument(
        "--trainer",
        choices=("process", "thread"),
        default=DEFAULT_TRAINER,
        help="where model updates train: a trainer process (default; a thread on Windows) or "
        "a thread of the host",
    )
    parser.add_argument(
        "--writer",
        choices=("split", "process", "thread"),
        default=DEFAULT_WRITER,
        help="where store writes run: signals on a thread of this host and feature rows in a "
        "writer process (split, the default; thread on Windows), all in the writer process, "
        "or all on a thread",
    )
    add_config_arguments(parser)


def run(args: argparse.Namespace) -> int:
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    api_key = api_key_from(args.api_key_env) if args.api_url else ""
    if args.api_url and not api_key:
        print(f"error: --api-url needs an API key in ${args.api_key_env}", file=sys.stderr)
        return 2
    host, port = args.listen
    settings = AnalyticsSettings(
        store_url=args.store,
        host=host,
        port=port,
        api_url=args.api_url,
        api_key=api_key,
        metrics_host=args.metrics_host,
        metrics_port=args.metrics_port if args.metrics_port >= 0 else None,
        model_path=args.model,
        log_dir=args.log_dir,
        config=config_from(args),
        feature_batch=args.feature_batch,
        max_symbols=args.max_symbols,
        writer=args.writer,
        trainer=args.trainer,
    )
    # Before the service starts (helpers, threads): a stop while starting is kept and
    # honoured once it has started, so it stops them and exits 0.
    stopping = threading.Event()
    numbers = [signal.SIGINT, signal.SIGTERM]
    if sys.platform == "win32":
        numbers.append(signal.SIGBREAK)  # how the supervisor asks a Windows host to stop
    for number in numbers:
        signal.signal(number, lambda *_: stopping.set())
    try:
        check_store_file(args.store)  # the writer opens it later and retries: refuse a bad file now
        service = AnalyticsService(settings)
        service.start()
    except (ModelFileError, StoreUrlError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    metrics = f", metrics on :{service.metrics_port}" if service.metrics_port else ""
    print(f"analytics listening on {service.server.url}{metrics}", flush=True)
    stopping.wait()
    service.stop()
    print("analytics stopped", flush=True)
    return 0
