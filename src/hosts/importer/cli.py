"""`tradingcore import FILE...`: B3 NEG trade files and Profit CSV exports into the store."""

from __future__ import annotations

import argparse
import logging
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

from adapters.b3.errors import B3FileError
from adapters.b3.importer import FileFormat, FileImport, import_file
from adapters.b3.instruments import parse_tick_option
from adapters.eventstore import (
    DEFAULT_STORE_URL,
    StoreUrlError,
    new_store_file,
    open_store,
    redacted,
)
from adapters.jsonlog import DEFAULT_LOG_DIR, configure_logging
from tradingcore.application.trading import TradingApplication
from tradingcore.ports.clock import ManualClock


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="files to import")
    parser.add_argument("--store", default=DEFAULT_STORE_URL, help="event store URL")
    parser.add_argument(
        "--format",
        dest="file_format",
        type=FileFormat,
        choices=list(FileFormat),
        default=FileFormat.AUTO,
        help="file layout (auto: a zip or a file starting 'RH ' is NEG, anything else CSV)",
    )
    parser.add_argument(
        "--band",
        type=_band,
        default=None,
        metavar="FRACTION|none",
        help="circuit-breaker band of new tapes as a fraction of the first price (default none)",
    )
    parser.add_argument(
        "--tick",
        type=_tick,
        action="append",
        default=[],
        metavar="SYMBOL=SIZE",
        help="tick size of a ticker or futures root the ticker alone does not tell (repeatable)",
    )
    parser.add_argument("--symbol", help="symbol of a Profit CSV without a symbol column")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="TICKER_OR_PREFIX",
        help="import only these tickers or prefixes, e.g. --only WIN --only WDO (repeatable; "
        "comma-separated lists too); other symbols are read and left out",
    )
    parser.add_argument(
        "--batch-size", type=_positive, default=10_000, help="trades per TradesRecorded event"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="check the files against the store, write nothing"
    )
    parser.add_argument(
        "--log-dir", type=Path, default=DEFAULT_LOG_DIR, help="JSONL logs go to LOG_DIR/importer/"
    )


def run(args: argparse.Namespace) -> int:
    """Import each file atomically; return 0 when every file was imported or already there."""
    new_file = new_store_file(args.store)
    try:
        # Imported events take their times from the files, never from this clock.
        app = open_store(args.store, ManualClock())
    except StoreUrlError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # any backend failure: say which store, not a traceback
        print(f"error: cannot open the store {redacted(args.store)}: {error}", file=sys.stderr)
        return 2
    log = configure_logging("importer", args.log_dir)
    succeeded = 0
    try:
        succeeded = sum(_import_one(app, path, args, log) for path in args.files)
    finally:
        app.close()
        if new_file is not None and (args.dry_run or succeeded == 0):
            new_file.remove()  # nothing was written: leave no empty store behind
    total = len(args.files)
    verb = "checked against" if args.dry_run else "imported into"
    print(f"{succeeded} of {total} files {verb} {redacted(args.store)}")
    return 0 if succeeded == total else 1


def _import_one(
    app: TradingApplication, path: Path, args: argparse.Namespace, log: logging.Logger
) -> bool:
    try:
        outcome = import_file(
            app,
            path,
            file_format=args.file_format,
            band_fraction=args.band,
            ticks=dict(args.tick),
            symbol=args.symbol,
            only=[name for option in args.only for name in option.split(",") if name.strip()],
            batch_size=args.batch_size,
            dry_run=args.dry_run,
        )
    except B3FileError as error:
        print(f"FAILED {error}", file=sys.stderr)
        context = {"file": str(path), "line": error.line, "field": error.field}
        log.error("Import failed", extra={"context": {**context, "reason": error.reason}})
        return False
    except Exception as error:  # e.g. the store went away: this file failed, try the next
        print(f"FAILED {path}: {type(error).__name__}: {error}", file=sys.stderr)
        log.exception("Import failed", extra={"context": {"file": str(path)}})
        return False
    print(_report(outcome, dry_run=args.dry_run))
    if outcome.already_imported:
        message = "File already imported"
    else:
        message = "File checked" if args.dry_run else "File imported"
    context = {"file": str(path), "trades": outcome.trades, "tapes": len(outcome.tapes)}
    log.info(
        message,
        extra={"context": {**context, "events": outcome.events, "store": redacted(args.store)}},
    )
    return True


def _report(outcome: FileImport, *, dry_run: bool) -> str:
    if outcome.already_imported:
        return (
            f"SKIPPED {outcome.path}: already imported ({outcome.trades} trades in "
            f"{len(outcome.tapes)} tapes are in the store); nothing written"
        )
    summary = (
        f"{outcome.path} ({outcome.file_format}): {outcome.trades} trades, "
        f"{len(outcome.tapes)} tapes, {outcome.cancelled} cancelled, {outcome.cross} cross, "
        f"{outcome.events} events"
    )
    return f"CHECKED {summary}; dry run, nothing written" if dry_run else f"OK {summary}"


def _band(text: str) -> Decimal | None:
    if text.strip().lower() == "none":
        return None
    try:
        band = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a fraction or 'none'") from None
    if not band.is_finite() or band <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: the band must be a positive fraction")
    return band


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be at least 1")
    return value


def _tick(text: str) -> tuple[str, Decimal]:
    try:
        return parse_tick_option(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
