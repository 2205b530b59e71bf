"""`tradingcore status`: each host's process and `/health`, from the state file."""

from __future__ import annotations

import argparse

from hosts.supervisor.cli import add_config_argument
from hosts.supervisor.cli import status as run

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
