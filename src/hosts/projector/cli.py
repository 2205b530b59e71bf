"""`tradingcore project`: project the event store into Parquet, catching up or following."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from pathlib import Path
from types import FrameType

from adapters.eventstore import DEFAULT_STORE_URL, StoreUrlError, open_store, redacted
from adapters.jsonlog import DEFAULT_LOG_DIR, configure_logging
from adapters.parquet.lock import OutputBusy
from adapters.parquet.output import OutputMismatch, ParquetOutput
from adapters.parquet.runner import FLUSH_ROWS, PAGE_SIZE, ProjectionHalted, ProjectionRunner
from tradingcore.ports.clock import ManualClock

DEFAULT_OUTPUT = Path("data/parquet")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", default=DEFAULT_STORE_URL, help="event store URL")
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="Parquet root (SYMBOL/DATE/...)"
    )
    parser.add_argument("--rebuild", action="store_true", help="delete the output, start over")
    parser.add_argument("--follow", action="store_true", help="keep following new events")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="stop at an event that cannot be projected instead of quarantining it",
    )
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between polls (follow)")
    parser.add_argument(
        "--compact", action="store_true", help="after catching up, compact open days too"
    )
    parser.add_argument(
        "--flush-rows", type=int, default=FLUSH_ROWS, help="commit a batch after this many rows"
    )
    parser.add_argument(
        "--page-size", type=int, default=PAGE_SIZE, help="notifications read per query"
    )
    parser.add_argument("--log-dir", type=Path, default=DEFAULT_LOG_DIR, help="JSONL log root")


def run(args: argparse.Namespace) -> int:
    logger = configure_logging("projector", args.log_dir)
    try:
        app = open_store(args.store, ManualClock(), existing=True)
    except StoreUrlError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        output = ParquetOutput(args.output, logger=logger)
        runner = ProjectionRunner(
            app,
            output,
            page_size=args.page_size,
            flush_rows=args.flush_rows,
            logger=logger,
            rebuild=args.rebuild,
            strict=args.strict,
        )
        store = redacted(args.store)
        print(f"projecting {store} into {args.output} after notification {runner.position}")
        sys.stdout.flush()
        logger.info(
            "Projector started", extra={"context": {**_where(args), "position": runner.position}}
        )
        with runner:
            if args.follow:
                return _follow(runner, args.poll)
            report = runner.catch_up()
            if args.compact:
                output.compact_all()
    except (ProjectionHalted, OutputMismatch, OutputBusy, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        logger.error("Projection output failed", extra={"context": {"error": str(error)}})
        print(f"error: cannot write the projection output: {error}", file=sys.stderr)
        return 1
    finally:
        app.close()
    rows = report.rows_text()
    print(
        f"projected notifications {report.start_position + 1}..{report.position} "
        f"({report.notifications:,} events; {rows or 'no rows'}) in {report.commits} commit(s)"
    )
    for event in report.quarantined:
        print(
            f"quarantined notification {event.notification_id} ({event.topic}): {event.cause}; "
            f"inspect: {event.inspect_command(store)}",
            file=sys.stderr,
        )
    return 0


def _follow(runner: ProjectionRunner, poll: float) -> int:
    stopping = False

    def stop(signal_number: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    with contextlib.suppress(KeyboardInterrupt):
        runner.follow(poll, lambda: stopping)
    print(f"stopped at notification {runner.position}")
    return 0


def _where(args: argparse.Namespace) -> dict[str, str]:
    return {"store": redacted(args.store), "output": str(args.output)}


def main(argv: list[str] | None = None) -> int:
    """Run without the `tradingcore` front end (faster start: no other host is imported)."""
    parser = argparse.ArgumentParser(prog="tradingcore project", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
