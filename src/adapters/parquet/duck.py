"""DuckDB over the Parquet projections: views, SQL to Arrow, named queries."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Final

import duckdb
import pyarrow as pa

from adapters.parquet.arrow import schema_of
from adapters.parquet.days import DAY_TABLES, day_files
from adapters.parquet.output import ParquetOutput
from adapters.parquet.queries import DEFAULT_HORIZON, named_sql
from tradingcore.projections.tables import TABLES

DERIVED_VIEWS: Final[dict[str, str]] = {
    "order_events": "SELECT * FROM orders_files",
    "orders": (
        "SELECT * FROM orders_files "
        "QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY version DESC) = 1"
    ),
}
"""`orders` is one row per order (its latest state); `order_events` every order event."""
RECHECK_SECONDS: Final = 1.0


class ProjectionSql:
    """Views `trades`, `features`, `signals`, `orders`, `order_events`, `fills`, `positions`.

    DuckDB runs in memory and only reads the files: there is no shared writable `.duckdb`
    file. One `ProjectionSql` (one connection) per thread; every result is fully consumed.
    """

    def __init__(self, root: Path, *, threads: int | None = None) -> None:
        self.root = Path(root)
        # Files of another table layout would be read with columns silently missing.
        ParquetOutput(self.root).read_checkpoint()  # raises OutputMismatch
        self.connection = duckdb.connect(":memory:")
        # Footers of the many per-day files are parsed once; DuckDB re-validates a cached
        # entry when its file changes (compaction replaces files by rename).
        self.connection.execute("SET parquet_metadata_cache = true")
        if threads is not None:
            self.connection.execute(f"SET threads = {int(threads)}")
        for name, table in TABLES.items():
            self.connection.register(f"empty_{name}", schema_of(table).empty_table())
        self._shapes: dict[str, bool] = {}
        self._days: dict[str, dict[str, Path]] = {}
        self._checked = -RECHECK_SECONDS
        self.refresh(recheck=True)
        for view, sql in DERIVED_VIEWS.items():
            # Views bind when queried: these follow `orders_files` when it is replaced.
            self.connection.execute(f"CREATE VIEW {view} AS {sql}")

    def refresh(self, *, recheck: bool = False) -> None:
        """(Re)define the views; a table with no files yet is an empty view of its schema.

        A table once seen with files keeps its file view (DuckDB re-globs it on every query);
        empty tables are looked at again at most once a second, unless `recheck`. The day
        files of a table are listed on every call (one directory read).
        """
        for name in DAY_TABLES:
            if self._shapes.get(name) and day_files(self.root, name) != self._days.get(name):
                self._define(name, has_files=True)
        now = time.monotonic()
        if not recheck and now - self._checked < RECHECK_SECONDS:
            return
        self._checked = now
        for name in TABLES:
            if self._shapes.get(name) and not recheck:
                continue
            has_files = any(self.root.glob(f"*/*/{name}*.parquet"))
            if self._shapes.get(name) == has_files and not (has_files and name in DAY_TABLES):
                continue
            self._define(name, has_files=has_files)

    def _define(self, name: str, *, has_files: bool) -> None:
        """Point a table's view at its files (day files for closed days), or at nothing."""
        view = f"{name}_files" if name == "orders" else name
        if has_files:
            closed = day_files(self.root, name) if name in DAY_TABLES else {}
            source = _files_sql(self.root, name, closed)
            self._days[name] = closed
        else:
            source = f"SELECT * FROM empty_{name}"
            self._days.pop(name, None)
        self.connection.execute(f"CREATE OR REPLACE VIEW {view} AS {source}")
        self._shapes[name] = has_files

    def query(self, sql: str) -> pa.Table:
        """Run SQL over the views and return the whole result as an Arrow table."""
        self.refresh()
        try:
            return self.connection.sql(sql).to_arrow_table()
        except duckdb.IOException as error:
            if "No files found" not in str(error) and not self._day_files_changed():
                raise
            # Every file of a table went away (a rebuild): fall back to its empty view; or a
            # day file went away (new rows for its day): read that day's spec files instead.
            self.refresh(recheck=True)
            return self.connection.sql(sql).to_arrow_table()

    def _day_files_changed(self) -> bool:
        return any(
            day_files(self.root, name) != self._days.get(name)
            for name in DAY_TABLES
            if self._shapes.get(name)
        )

    def named(self, name: str, *, horizon: int = DEFAULT_HORIZON) -> pa.Table:
        """Run a named query (`vwap`, `bars_1m`, `daily_pnl`, `signal_hit_rate`, `trace`)."""
        return self.query(named_sql(name, horizon=horizon))

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> ProjectionSql:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _files_sql(root: Path, name: str, closed: dict[str, Path]) -> str:
    """SQL over a table's files: each day file on its own, the spec files of the other days.

    A day file is scanned by its own `read_parquet`, so DuckDB plans with that file's
    statistics (one multi-file scan keeps only the first file's); the spec files of the days
    that have one are pruned by directory name before they are opened, so no row is read twice.
    """
    spec = f"'{_quote(root)}/*/*/{name}*.parquet'"
    if not closed:
        return f"SELECT * FROM read_parquet({spec}, hive_partitioning = false)"
    scans = [f"SELECT * FROM read_parquet('{_quote(path)}')" for _, path in sorted(closed.items())]
    dates = ", ".join(f"'{day}'" for day in sorted(closed))
    scans.append(
        f"SELECT * EXCLUDE (filename) FROM read_parquet({spec}, hive_partitioning = false, "
        "filename = true) WHERE parse_filename(parse_dirpath(filename, 'both_slash'), false, "
        f"'both_slash') NOT IN ({dates})"
    )
    return " UNION ALL ".join(scans)


def _quote(path: Path) -> str:
    return str(path.resolve()).replace("'", "''")
