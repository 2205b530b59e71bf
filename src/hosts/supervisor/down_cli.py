"""`tradingcore down`: stop the system `tradingcore up` started here, in reverse order."""

from __future__ import annotations

from hosts.supervisor.cli import add_config_argument as add_arguments
from hosts.supervisor.cli import down as run

__all__ = ["add_arguments", "run"]
