"""`python -m hosts.projector`: the same as `tradingcore project`."""

from __future__ import annotations

import argparse
import sys

from hosts.projector import cli


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m hosts.projector", description=cli.__doc__)
    cli.add_arguments(parser)
    return cli.run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
