"""`python -m hosts.projector`: the same as `tradingcore project`."""

from __future__ import annotations

import sys

from hosts.projector.cli import main

if __name__ == "__main__":
    sys.exit(main())
