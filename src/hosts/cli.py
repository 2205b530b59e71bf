"""The `tradingcore` command: one entry point, one subcommand per host or tool."""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import importlib
import importlib.metadata
import importlib.util
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

COMMANDS: Final[dict[str, tuple[str, str]]] = {
    "demo": ("hosts.demo", "run the main job on a seeded synthetic session (embedded SQLite)"),
    "capture": ("hosts.capture.cli", "capture market data: ProfitDLL, a recording or synthetic"),
    "analytics": ("hosts.analytics.cli", "features, online model and signals from the tick stream"),
    "backtest": (
        "hosts.analytics.backtest_cli",
        "replay a recording or store: the model's signals, or strategies with orders and fees",
    ),
    "api": ("hosts.api.cli", "serve the REST API: signals, orders, positions, kill switch"),
    "project": ("hosts.projector.cli", "project the event store into Parquet files"),
    "sql": ("hosts.projector.sql_cli", "run DuckDB SQL over the Parquet projections"),
    "verify": ("hosts.projector.verify_cli", "check store invariants and projections"),
    "import": ("hosts.importer.cli", "import B3 NEG trade files or Profit CSV exports"),
    "recording": ("hosts.recording_cli", "export, import and verify event recordings"),
    "up": ("hosts.supervisor.up_cli", "run the whole system: analytics, capture, API, supervised"),
    "down": ("hosts.supervisor.down_cli", "stop the system `up` started, in reverse order"),
    "status": (
        "hosts.supervisor.status_cli",
        "each host of the running system and its health",
    ),
    "service": (
        "hosts.supervisor.service_cli",
        "the hosts as Windows services or systemd units",
    ),
    "config": ("hosts.config_cli", "check, show or create the tradingcore.toml config file"),
    "credentials": ("hosts.credentials_cli", "store ProfitDLL credentials encrypted at rest"),
}

CONFIGURED: Final = frozenset({"capture", "analytics", "api", "backtest"})
HOSTS: Final = frozenset({"capture", "analytics", "api"})
"""The long-running hosts `tradingcore up` starts and stops with SIGTERM (CTRL_BREAK on Windows)."""
"""Commands that take `--config FILE`: the file's values become their defaults."""


def build_parser(
    command: str | None = None, defaults: dict[str, Any] | None = None
) -> argparse.ArgumentParser:
    """Build the parser; only the named command's module is imported (hosts load slowly).

    `defaults` (from a config file) replace the command's own defaults; flags still win.
    """
    parser = argparse.ArgumentParser(
        prog="tradingcore", description="Event-sourced trading core for B3 and ProfitDLL."
    )
    parser.add_argument("--version", action="version", version=f"tradingcore {version()}")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an unexpected error"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        if importlib.util.find_spec(module_name) is None:
            continue
        sub = commands.add_parser(
            name, help=help_text, description=help_text, formatter_class=DefaultsHelpFormatter
        )
        if name == command:
            module = importlib.import_module(module_name)
            module.add_arguments(sub)
            show_defaults(sub)
            sub.set_defaults(run=module.run)
            if name in CONFIGURED:
                sub.add_argument(
                    "--config",
                    metavar="FILE",
                    help="take defaults from this tradingcore.toml (flags given here win)",
                )
                sub.set_defaults(**(defaults or {}))
    return parser


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """`--help` shows each option's default, unless its help already names it (or there is
    none worth showing: no value, a flag that is off)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "default" in text.lower() or not _worth_showing(action.default):
            return text
        return super()._get_help_string(action)


def show_defaults(parser: argparse.ArgumentParser) -> None:
    """Give a help text to options without one, so `--help` still shows their default
    (argparse prints nothing at all for an option whose help is None)."""
    for action in parser._actions:
        if action.help is None and action.option_strings and _worth_showing(action.default):
            action.help = "(default: %(default)s)"


def _worth_showing(default: object) -> bool:
    """Not for no value, a flag that is off, or an empty list (0 is worth showing)."""
    if default is None or default is False or default == argparse.SUPPRESS:
        return False
    return not (isinstance(default, list | tuple) and not default)


def version() -> str:
    """The installed package's version (the checkout's, when run from the source tree)."""
    try:
        return importlib.metadata.version("tradingcore")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def config_defaults(command: str, arguments: list[str]) -> dict[str, Any]:
    """Return the command's defaults from the `--config FILE` among the arguments, if any."""
    path = None
    for index, word in enumerate(arguments):
        if word == "--config" and index + 1 < len(arguments):
            path = arguments[index + 1]
        elif word.startswith("--config="):
            path = word.partition("=")[2]
    if command not in CONFIGURED or path is None:
        return {}
    from hosts.config import ConfigError, load_config
    from hosts.config_args import HOST_DEFAULTS

    try:
        return HOST_DEFAULTS[command](load_config(Path(path)))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def _stopped_while_starting(number: int, frame: object) -> None:
    raise SystemExit(0)


def exit_cleanly_while_starting() -> None:
    """A stop asked of a host before it installed its own handler ends it with 0, not -15.

    `tradingcore up` stopped while the API host was still importing its modules saw it die
    of the SIGTERM (`api: stopped (exit code -15)`): nothing was accepted yet, so there is
    nothing to flush, and each host replaces this handler with its own graceful stop as soon
    as it has something to stop. Before this runs (the interpreter starting) a stop waits:
    `up` starts hosts with SIGTERM blocked on POSIX, and on every platform asks no stop
    before this host created the file named in TRADINGCORE_STOP_HANDLER_FILE (the only guard
    on Windows, which has no signal masks: SIGBREAK, the CTRL_BREAK the supervisor sends there,
    ends an interpreter that has no handler yet).
    """
    signal.signal(signal.SIGTERM, _stopped_while_starting)
    if sys.platform == "win32":
        signal.signal(signal.SIGBREAK, _stopped_while_starting)
    else:
        # `tradingcore up` starts a host with SIGTERM blocked (`supervisor.process.spawn`):
        # now that the handler is in, take it (a stop that came meanwhile is delivered here).
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    from hosts.supervised import READY_FILE_ENV

    ready = os.environ.pop(READY_FILE_ENV, "")
    if ready:
        with contextlib.suppress(OSError):  # the supervisor then asks after its wait anyway
            Path(ready).touch()


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand and return its exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = next((word for word in arguments if not word.startswith("-")), None)
    known = command if command in COMMANDS else None
    if known in HOSTS:
        exit_cleanly_while_starting()
        # A crash in native code (a driver, a C extension) prints every thread's Python
        # stack to stderr, which `up` keeps in data/logs/supervisor/HOST.out.
        faulthandler.enable()
    parser = build_parser(known, config_defaults(known, arguments) if known else None)
    args = parser.parse_args(arguments)
    if os.environ.get("TRADINGCORE_SUPERVISOR_PID"):
        from hosts.supervised import stop_with_supervisor

        stop_with_supervisor()
    try:
        code = int(args.run(args))
        sys.stdout.flush()  # a closed pipe shows here, not at exit
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`tradingcore sql ... | head`): as the Python docs recommend,
        # point stdout at devnull so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
