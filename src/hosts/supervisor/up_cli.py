"""`tradingcore up`: start the system in the spec's order and keep it running."""

from __future__ import annotations

from hosts.supervisor.cli import add_up_arguments as add_arguments
from hosts.supervisor.cli import up as run

__all__ = ["add_arguments", "run"]
