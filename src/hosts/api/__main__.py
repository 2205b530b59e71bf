"""`python -m hosts.api`: the same as `tradingcore api`."""

import argparse
import faulthandler
import sys

from hosts.api.cli import add_arguments, run

parser = argparse.ArgumentParser(prog="python -m hosts.api", description="tradingcore REST API")
add_arguments(parser)
faulthandler.enable()  # a native crash prints every thread's stack to stderr
sys.exit(run(parser.parse_args()))
