"""`tradingcore capture`: record a market-data source in the store and stream it over WebSocket."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from adapters.eventstore import DEFAULT_STORE_URL, StoreUrlError, open_store, redacted
from adapters.jsonlog import DEFAULT_LOG_DIR, configure_logging
from adapters.recordings import RecordingError
from adapters.websocket.publisher import (
    DEFAULT_CAPACITY,
    DEFAULT_RETRY_INTERVAL,
    DEFAULT_URL,
    WebSocketPublisher,
)
from hosts.capture.metrics import CaptureMetrics
from hosts.capture.progress import Progress, summary_lines
from hosts.capture.recorder import DEFAULT_BATCH_SIZE, DEFAULT_MAX_AGE, TapeRecorder
from hosts.capture.service import CaptureService, Supervision
from hosts.capture.sources import Source, SourceError, build_source, is_paced, parse_symbols
from hosts.capture.status import StatusServer
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.errors import DomainError

DEFAULT_METRICS_PORT = 9101
SWITCH_INTERVAL_S = 0.0005
"""The GIL hand-over interval for this host. The default 5 ms lets a store write hold the
publisher back for up to 5 ms; at 0.5 ms the tick p99 at 10k ticks/s fell from ~8 to ~1.3 ms."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_argument_group("source")
    source.add_argument(
        "--source",
        choices=("profitdll", "recording", "synthetic"),
        default="synthetic",
        help="where market data comes from (default: synthetic)",
    )
    source.add_argument(
        "path", nargs="?", type=Path, help="the recording file (--source recording)"
    )
    source.add_argument(
        "--symbols",
        default="",
        help="comma-separated tickers, e.g. WINZ25,WDOF26 (synthetic default WINZ25; "
        "recording default: all; required for profitdll)",
    )
    source.add_argument("--seed", type=int, default=7, help="synthetic market seed")
    source.add_argument("--trades", type=int, default=20_000, help="synthetic trades per symbol")
    pace = source.add_mutually_exclusive_group()
    pace.add_argument("--fast", action="store_true", help="replay as fast as possible")
    pace.add_argument(
        "--speed", type=float, help="replay at the recorded pace times SPEED (recording: 1.0)"
    )
    pace.add_argument("--rate", type=float, help="replay at RATE ticks per second")
    source.add_argument("--dll", type=Path, help="ProfitDLL library path (--source profitdll)")
    source.add_argument(
        "--routing", action="store_true", help="ProfitDLL: initialise market data and routing"
    )
    out = parser.add_argument_group("outputs")
    out.add_argument("--store", default=DEFAULT_STORE_URL, help="event store URL")
    out.add_argument("--ws-url", default=DEFAULT_URL, help="analytics host's WebSocket server")
    out.add_argument("--buffer", type=int, default=DEFAULT_CAPACITY, help="WebSocket FIFO cap")
    out.add_argument(
        "--retry-interval",
        type=float,
        default=DEFAULT_RETRY_INTERVAL,
        help="seconds between WebSocket reconnection attempts",
    )
    out.add_argument(
        "--no-books",
        action="store_true",
        help="publish trades only on the WebSocket: the analytics host computes no book delta, "
        "so a backtest of the stored trades then gives its signals bit for bit",
    )
    out.add_argument(
        "--no-record-books",
        action="store_true",
        help="store trades only, not the changes of each symbol's book top",
    )
    out.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    out.add_argument(
        "--batch-age-ms",
        type=float,
        default=DEFAULT_MAX_AGE * 1000,
        help="store a partial batch after this age (live and paced sources; a replay as fast as "
        "possible stores by --batch-size only, so reruns give the same events)",
    )
    out.add_argument(
        "--metrics-port",
        type=int,
        default=DEFAULT_METRICS_PORT,
        help="port of /metrics and /health (0: any free port, -1: off)",
    )
    out.add_argument("--metrics-host", default="127.0.0.1")
    out.add_argument("--log-dir", type=Path, default=DEFAULT_LOG_DIR)
    out.add_argument(
        "--drain-timeout",
        type=float,
        default=10.0,
        help="seconds to wait for the WebSocket peer to take the buffer when a source ends",
    )
    out.add_argument(
        "--reconnect-after",
        type=float,
        default=30.0,
        help="restart a live feed that stayed disconnected this many seconds",
    )


def run(args: argparse.Namespace) -> int:
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    stop = _stop_on_signals()  # first: a stop while starting ends the run cleanly after start
    logger = configure_logging("datacapture", args.log_dir)
    try:
        symbols = parse_symbols(args.symbols)
        source = build_source(args, symbols)
        publisher = _publisher(args, logger)
        app = _open_store(args.store, source)
        recorder = TapeRecorder(
            app,
            batch_size=args.batch_size,
            max_age=args.batch_age_ms / 1000,
            logger=logger,
            flush_by_age=is_paced(args),
        )
    except (SourceError, RecordingError, StoreUrlError, DomainError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        logger.error("capture not started: %s", error, extra={"context": {"error": str(error)}})
        return 2
    metrics = CaptureMetrics()
    publisher.observer = metrics
    service = CaptureService(
        source.feed,
        recorder,
        publisher,
        metrics,
        symbols=source.symbols,
        supervision=None if source.finite else Supervision(after=args.reconnect_after),
        logger=logger,
        publish_books=not args.no_books,
        record_books=not args.no_record_books,
    )
    status = None
    if args.metrics_port >= 0:
        try:
            status = StatusServer(
                metrics.registry, service.health, host=args.metrics_host, port=args.metrics_port
            )
        except OSError as error:
            print(f"error: metrics port {args.metrics_port}: {error.strerror}", file=sys.stderr)
            return 2
        status.start()
        print(f"metrics on http://{args.metrics_host}:{status.port}/metrics", flush=True)
    logger.info(
        "capture started",
        extra={
            "context": {"source": args.source, "store": redacted(args.store), "ws": args.ws_url}
        },
    )
    service.start()
    progress = Progress(service) if source.finite else None
    try:
        while not stop.wait(0.2):
            if progress is not None:
                progress.update()
            if source.finite and source.done():
                break
    finally:
        if source.finite:
            _say_the_drain_wait(service, args.ws_url, args.drain_timeout)
        all_recorded = service.close(args.drain_timeout)
        if status is not None:
            status.stop()
        app.close()
    counts = service.counts()
    print(
        "captured {ticks_received} ticks: {trades_recorded} recorded in {batches_recorded} "
        "batches, {rejected} rejected, {published} published, {dropped} dropped; "
        "{book_tops_recorded} book top changes recorded".format(**counts),
        *summary_lines(service),
        sep="\n",
        flush=True,
    )
    if not all_recorded:
        print("error: some admitted trades could not be recorded (see the log)", file=sys.stderr)
        return 1
    return 0


def _open_store(url: str, source: Source) -> TradingApplication:
    try:
        return open_store(url, source.clock)
    except StoreUrlError:
        raise
    except Exception as error:  # the driver's own errors: unreachable server, bad file...
        raise SourceError(
            f"cannot open the event store {redacted(url)}: {type(error).__name__}: {error}"
        ) from error


def _publisher(args: argparse.Namespace, logger: logging.Logger) -> WebSocketPublisher:
    return WebSocketPublisher(
        args.ws_url, capacity=args.buffer, retry_interval=args.retry_interval, logger=logger
    )


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        numbers = [signal.SIGINT, signal.SIGTERM]
        if sys.platform == "win32":
            numbers.append(signal.SIGBREAK)  # how the supervisor asks a Windows host to stop
        for number in numbers:
            signal.signal(number, lambda *_: stop.set())
    return stop


def _say_the_drain_wait(service: CaptureService, url: str, timeout: float) -> None:
    """A finite run that ends with ticks buffered and no peer says why it waits: it looked
    hung for the 10 s of --drain-timeout when no analytics host was running."""
    waiting = service.publisher.status()
    if waiting.buffered and not waiting.connected and timeout > 0:
        print(
            f"capture: source done; {waiting.buffered:,} messages wait for an analytics host at "
            f"{url}, up to {timeout:g} s (--drain-timeout)",
            file=sys.stderr,
            flush=True,
        )
