"""`python -m hosts.analytics`: the same as `tradingcore analytics`."""

import argparse
import sys

from hosts.analytics.cli import add_arguments, run

parser = argparse.ArgumentParser(prog="python -m hosts.analytics", description=__doc__)
add_arguments(parser)
sys.exit(run(parser.parse_args()))
