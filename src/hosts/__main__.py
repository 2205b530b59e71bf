"""`python -m hosts` runs the tradingcore command."""

import sys

from hosts.cli import main

sys.exit(main())
