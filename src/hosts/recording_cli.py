"""`tradingcore recording export|import|verify`: move event streams between stores."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from adapters.eventstore import (
    DEFAULT_STORE_URL,
    StoreUrlError,
    new_store_file,
    open_store,
    redacted,
)
from adapters.recordings import (
    RecordingError,
    export_recording,
    import_recording,
    verify_recording,
)
from tradingcore.ports.clock import ManualClock


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("export", "import", "verify"))
    parser.add_argument("path", type=Path, help="the recording file")
    parser.add_argument("--store", default=DEFAULT_STORE_URL, help="event store URL")


def run(args: argparse.Namespace) -> int:
    new_file = new_store_file(args.store) if args.action == "import" else None
    try:
        if args.action == "verify":
            info = verify_recording(args.path)
            print(f"{info.path}: {info.events} events, sha256 {info.sha256}: OK")
            return 0
        if args.action == "import":
            verify_recording(args.path)  # a bad file is refused before a store file is made
        app = open_store(args.store, ManualClock(), existing=args.action == "export")
        if args.action == "export":
            info = export_recording(app, args.path)
            print(f"exported {info.events} events to {info.path} (sha256 {info.sha256})")
        else:
            try:
                count = import_recording(app, args.path)
            except BaseException:
                app.close()
                if new_file is not None:
                    new_file.remove()  # nothing was written: leave no empty store behind
                raise
            print(f"imported {count} events from {args.path} into {redacted(args.store)}")
    except (RecordingError, StoreUrlError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
