"""`tradingcore sql`: DuckDB SQL (or a named query) over the Parquet projections."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb
import pyarrow as pa

from adapters.parquet.duck import ProjectionSql
from adapters.parquet.output import OutputMismatch
from adapters.parquet.queries import DEFAULT_HORIZON, NAMED_QUERIES, named_sql
from hosts.projector.formats import FORMATS, write_result

DEFAULT_ROOT = Path("data/parquet")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "sql",
        nargs="?",
        help="SQL over the views trades, features, signals, orders, order_events, fills, positions",
    )
    parser.add_argument(
        "--query",
        choices=sorted(NAMED_QUERIES),
        help="run a named query instead: "
        + "; ".join(f"{query.name}: {query.description}" for query in NAMED_QUERIES.values()),
    )
    parser.add_argument(
        "--horizon",
        type=int,
        default=DEFAULT_HORIZON,
        help="ticks ahead for signal_hit_rate (default %(default)s)",
    )
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="Parquet projection root")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format")
    parser.add_argument("--output", type=Path, help="write to this file instead of stdout")
    parser.add_argument("--show-sql", action="store_true", help="print the SQL that runs")


def run(args: argparse.Namespace) -> int:
    if (args.sql is None) == (args.query is None):
        print("error: give either a SQL query or --query NAME", file=sys.stderr)
        return 2
    if args.format == "parquet" and args.output is None:
        print("error: --format parquet needs --output PATH", file=sys.stderr)
        return 2
    try:
        sql = args.sql if args.query is None else named_sql(args.query, horizon=args.horizon)
    except (KeyError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.show_sql:
        print(sql.strip(), file=sys.stderr)
    if not args.root.is_dir():
        print(
            f"error: no Parquet projections at {args.root} (not a folder): run "
            "`tradingcore project` first, or give --root",
            file=sys.stderr,
        )
        return 2
    try:
        with ProjectionSql(args.root) as engine:
            result: pa.Table = engine.query(sql)
    except duckdb.Error as error:
        print(f"error: the query failed: {error}", file=sys.stderr)
        return 2
    except OutputMismatch as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    write_result(result, args.format, args.output)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run without the `tradingcore` front end (faster start: no other host is imported)."""
    parser = argparse.ArgumentParser(prog="tradingcore sql", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
