"""The `tradingcore` command: one entry point, one subcommand per host or tool."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence
from typing import Final

COMMANDS: Final[dict[str, tuple[str, str]]] = {
    "demo": ("hosts.demo", "run the main job on a seeded synthetic session (embedded SQLite)"),
    "capture": ("hosts.capture.cli", "capture market data: ProfitDLL, a recording or synthetic"),
    "analytics": ("hosts.analytics.cli", "features, online model and signals from the tick stream"),
    "backtest": ("hosts.analytics.backtest_cli", "run a recording through features and model"),
    "api": ("hosts.api.cli", "serve the REST API: signals, orders, positions, kill switch"),
    "project": ("hosts.projector.cli", "project the event store into Parquet files"),
    "sql": ("hosts.projector.sql_cli", "run DuckDB SQL over the Parquet projections"),
    "verify": ("hosts.projector.verify_cli", "check store invariants and projections"),
    "import": ("hosts.importer.cli", "import B3 NEG trade files or Profit CSV exports"),
    "recording": ("hosts.recording_cli", "export, import and verify event recordings"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Build the parser; only the named command's module is imported (hosts load slowly)."""
    parser = argparse.ArgumentParser(
        prog="tradingcore", description="Event-sourced trading core for B3 and ProfitDLL."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        if importlib.util.find_spec(module_name) is None:
            continue
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if name == command:
            module = importlib.import_module(module_name)
            module.add_arguments(sub)
            sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand and return its exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = next((word for word in arguments if not word.startswith("-")), None)
    parser = build_parser(command if command in COMMANDS else None)
    args = parser.parse_args(arguments)
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
