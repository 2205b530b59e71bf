"""`tradingcore config check|show|init`: validate, print or create the tradingcore.toml file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hosts.config import DEFAULT_CONFIG_FILE, ConfigError, TradingConfig, load_config
from hosts.config_toml import commented_default, effective_toml, markdown_reference


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = actions.add_parser("check", help="validate a config file; name every bad key")
    show = actions.add_parser("show", help="print the effective config, defaults included")
    for sub in (check, show):
        sub.add_argument(
            "--config",
            type=Path,
            help=f"the file (default: {DEFAULT_CONFIG_FILE} if present, else built-in defaults)",
        )
    actions.add_parser("reference", help="print every key as docs/config.md's tables")
    init = actions.add_parser("init", help="write a commented file with every default")
    init.add_argument("--config", type=Path, default=DEFAULT_CONFIG_FILE, help="where to write")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")


def run(args: argparse.Namespace) -> int:
    if args.action == "init":
        return _init(args.config, force=args.force)
    if args.action == "reference":
        sys.stdout.write(markdown_reference())
        return 0
    path = args.config
    if path is None and DEFAULT_CONFIG_FILE.exists():
        path = DEFAULT_CONFIG_FILE
    try:
        config = load_config(path)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.action == "check":
        print(f"{path or 'built-in defaults'}: ok")
        return 0
    sys.stdout.write(effective_toml(config))
    return 0


def _init(path: Path, *, force: bool) -> int:
    if path.exists() and not force:
        print(f"error: {path} exists; use --force to overwrite it", file=sys.stderr)
        return 2
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(commented_default(TradingConfig()), encoding="utf-8")
    print(f"wrote {path}: every key with its default; edit what you need")
    return 0
