"""`tradingcore verify`: check the store's invariants and the projections against a rebuild."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from adapters.eventstore import DEFAULT_STORE_URL, StoreUrlError, open_store, redacted
from adapters.jsonlog import DEFAULT_LOG_DIR, configure_logging
from adapters.parquet.output import OutputMismatch
from adapters.parquet.quarantine import read_quarantined
from adapters.parquet.verify import Report, verify_projections, verify_store
from tradingcore.application.trading import TradingApplication
from tradingcore.ports.clock import ManualClock


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", default=DEFAULT_STORE_URL, help="event store URL")
    parser.add_argument(
        "--root", type=Path, default=Path("data/parquet"), help="Parquet projection root"
    )
    parser.add_argument(
        "--skip-projections", action="store_true", help="check only the store's invariants"
    )
    parser.add_argument("--log-dir", type=Path, default=DEFAULT_LOG_DIR, help="JSONL log root")
    parser.add_argument(
        "--show",
        type=int,
        metavar="NOTIFICATION_ID",
        help="print one stored event as stored (e.g. a quarantined one) and exit",
    )


def run(args: argparse.Namespace) -> int:
    logger = configure_logging("projector", args.log_dir)
    try:
        app = open_store(args.store, ManualClock(), existing=True)
    except StoreUrlError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.show is not None:
        try:
            print(show_event(app, args.show))
        finally:
            app.close()
        return 0
    report = Report()
    try:
        verify_store(app, report)
        if not args.skip_projections:
            verify_projections(app, args.root, report)
    except OutputMismatch as error:
        report.problems.append(str(error))
    finally:
        app.close()
    print(report.render())
    quarantined = [] if args.skip_projections else read_quarantined(args.root)
    if quarantined:
        report.facts["quarantined events"] = len(quarantined)
        print(f"quarantined (stored but not projected): {len(quarantined)}")
        for event in quarantined:
            print(
                f"  - notification {event.notification_id} ({event.topic}): {event.cause}; "
                f"inspect: {event.inspect_command(redacted(args.store))}"
            )
    logger.log(
        20 if report.ok else 40,
        "Verification passed" if report.ok else "Verification failed",
        extra={"context": {"problems": report.problems[:20], **_facts(report)}},
    )
    return 0 if report.ok else 1


def show_event(app: TradingApplication, notification_id: int) -> str:
    """Return one stored notification as text: where it is, its topic, its stored state."""
    found = app.recorder.select_notifications(start=notification_id, limit=1)
    if not found or found[0].id != notification_id:
        return f"no notification {notification_id} in the store"
    notification = found[0]
    state = bytes(notification.state)
    lines = [
        f"notification {notification.id}: aggregate {notification.originator_id} "
        f"version {notification.originator_version}",
        f"topic: {notification.topic}",
        f"stored state ({len(state):,} bytes): {state[:4_000].decode('utf-8', 'replace')}",
    ]
    try:
        lines.append(f"decodes as: {app.mapper.to_domain_event(notification)!r}"[:4_000])
    except Exception as error:
        lines.append(f"does not decode: {type(error).__name__}: {error}")
    return "\n".join(lines)


def _facts(report: Report) -> dict[str, object]:
    return {name.replace(" ", "_"): value for name, value in report.facts.items()}


def main(argv: list[str] | None = None) -> int:
    """Run without the `tradingcore` front end (faster start: no other host is imported)."""
    parser = argparse.ArgumentParser(prog="tradingcore verify", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
