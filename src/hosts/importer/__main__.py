"""`python -m hosts.importer FILE...`: the same as `tradingcore import FILE...`."""

from __future__ import annotations

import argparse
import sys

from hosts.importer.cli import add_arguments, run


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hosts.importer", description="import B3 NEG files or Profit CSV exports"
    )
    add_arguments(parser)
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
