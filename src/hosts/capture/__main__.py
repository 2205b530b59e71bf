"""`python -m hosts.capture`: the capture host on its own."""

import argparse
import faulthandler
import sys

from hosts.capture.cli import add_arguments, run

parser = argparse.ArgumentParser(
    prog="python -m hosts.capture",
    description="capture market data: ProfitDLL, a recording or synthetic",
)
add_arguments(parser)
faulthandler.enable()  # a native crash prints every thread's stack to stderr
sys.exit(run(parser.parse_args()))
