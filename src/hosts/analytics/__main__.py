"""`python -m hosts.analytics`: the same as `tradingcore analytics`."""

import argparse
import faulthandler
import sys

from hosts.analytics.cli import add_arguments, run

parser = argparse.ArgumentParser(prog="python -m hosts.analytics", description=__doc__)
add_arguments(parser)
faulthandler.enable()  # a native crash prints every thread's stack to stderr
sys.exit(run(parser.parse_args()))
