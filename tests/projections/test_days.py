"""Day files: the views read each closed day once, from its day file or its spec files."""

from __future__ import annotations

import json
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.parquet.arrow import schema_of
from adapters.parquet.days import (
    SOURCES_KEY,
    day_file_path,
    day_files,
    read_sources,
    row_group_size,
    synchronize,
)
from adapters.parquet.duck import ProjectionSql
from adapters.parquet.files import part_name, write_atomically
from adapters.parquet.output import ParquetOutput
from adapters.parquet.runner import ProjectionRunner
from adapters.parquet.verify import Report, verify_projections
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.tape import TradeColumns
from tradingcore.domain.values import Symbol
from tradingcore.ports.clock import ManualClock
from tradingcore.projections.tables import TRADES
from tradingcore.simulation.market import synthetic_session

from .helpers import populate, project
from .tables import all_rows

FIRST = date(2025, 12, 1)
DAY_ONE, DAY_TWO = "2025-12-01", "2025-12-02"


def _trades(symbol: str, day: date, rows: int, seed: int, notification: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    opening = int((day - date(1970, 1, 1)).total_seconds()) * 1000 + 12 * 3_600_000
    columns: dict[str, Any] = {
        "timestamp": pa.array(opening + np.cumsum(rng.integers(0, 5_000, rows))).cast(
            pa.timestamp("ms")
        ),
        "symbol": pa.array([symbol] * rows, pa.string()),
        "price": pa.array(100 + rng.integers(-50, 50, rows) * 0.5),
        "volume": pa.array(rng.integers(1, 20, rows, dtype=np.int32)),
        "aggressor": pa.array(rng.choice(["B", "S", "N"], rows).tolist(), pa.string()),
        "trade_id": pa.array(np.arange(rows, dtype=np.int64) + seed * 1_000),
        "date": pa.array([day] * rows, pa.date32()),
        "cancelled": pa.array(rng.random(rows) < 0.1),
        "cross": pa.array(rng.random(rows) < 0.1),
        "sequence": pa.array(np.arange(rows, dtype=np.int64)),
        "notification_id": pa.array(np.full(rows, notification, dtype=np.int64)),
    }
    return pa.table(columns, schema=schema_of(TRADES))


# Per symbol and day: None (no rows that day), or (rows, number of open part files: 0 = closed).
CELLS = st.one_of(st.none(), st.tuples(st.integers(1, 40), st.integers(0, 2)))


def _lay_out(root: Path, grid: list[list[tuple[int, int] | None]]) -> None:
    notification = 0
    for symbol_index, row in enumerate(grid):
        for day_index, cell in enumerate(row):
            if cell is None:
                continue
            rows, parts = cell
            day = FIRST + timedelta(days=day_index)
            directory = root / f"SYM{symbol_index}" / day.isoformat()
            directory.mkdir(parents=True, exist_ok=True)
            for _ in range(max(1, parts)):
                notification += 1
                table = _trades(f"SYM{symbol_index}", day, rows, notification, notification)
                name = (
                    part_name("trades", notification, notification) if parts else "trades.parquet"
                )
                write_atomically(table, directory / name, [(notification, notification)])


def _spec_rows(root: Path) -> list[tuple[Any, ...]]:
    files = sorted(str(path) for path in root.glob("*/*/trades*.parquet"))
    if not files:
        return []
    return duckdb.connect().sql(f"SELECT * FROM read_parquet({files}) ORDER BY ALL").fetchall()


def _view_rows(sql: ProjectionSql) -> list[tuple[Any, ...]]:
    return [
        tuple(row.values()) for row in sql.query("SELECT * FROM trades ORDER BY ALL").to_pylist()
    ]


@settings(max_examples=30, deadline=None)
@given(grid=st.lists(st.lists(CELLS, min_size=1, max_size=4), min_size=1, max_size=4))
def test_views_over_closed_and_open_days_equal_the_union_of_the_spec_files(
    grid: list[list[tuple[int, int] | None]],
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        _lay_out(root, grid)
        with ProjectionSql(root) as before:
            spec = _spec_rows(root)
            assert _view_rows(before) == spec

            synchronize(root, "trades")
            days = {
                (FIRST + timedelta(days=index)).isoformat()
                for index in range(max(len(row) for row in grid))
                if any(index < len(row) and row[index] for row in grid)
                and all(index >= len(row) or not row[index] or row[index][1] == 0 for row in grid)
            }

            assert set(day_files(root, "trades")) == days
            assert _view_rows(before) == spec  # a view made before the day files existed
        with ProjectionSql(root) as after:
            assert _view_rows(after) == spec


def test_a_closed_day_gets_a_day_file_equal_to_its_spec_files_and_the_open_day_none(
    memory_app: TradingApplication, clock: ManualClock, tmp_path: Path
) -> None:
    populate(memory_app, clock, trades=400)
    project(memory_app, tmp_path)

    assert set(day_files(tmp_path, "trades")) == {DAY_ONE}
    day_file = pq.read_table(day_file_path(tmp_path, "trades", DAY_ONE))
    spec = pa.concat_tables(
        pq.read_table(tmp_path / symbol / DAY_ONE / "trades.parquet").replace_schema_metadata(None)
        for symbol in ("WDOF26", "WINZ25")
    )
    assert day_file.replace_schema_metadata(None).equals(spec)
    assert read_sources(day_file_path(tmp_path, "trades", DAY_ONE)) == {
        "WDOF26": [(1, memory_app.recorder.max_notification_id() or 0)],
        "WINZ25": [(1, memory_app.recorder.max_notification_id() or 0)],
    }
    assert day_file.column("symbol").to_pylist() == sorted(day_file.column("symbol").to_pylist())

    ParquetOutput(tmp_path).compact_all()  # the session ended: the last day closes too

    assert set(day_files(tmp_path, "trades")) == {DAY_ONE, DAY_TWO}
    report = Report()
    verify_projections(memory_app, tmp_path, report)
    assert report.ok and report.facts["day files"] == 2, report.render()


def test_late_trades_for_a_closed_day_replace_its_day_file_and_count_once(
    memory_app: TradingApplication, clock: ManualClock, tmp_path: Path
) -> None:
    populate(memory_app, clock, trades=300)
    runner = project(memory_app, tmp_path / "live", flush_rows=200)
    with ProjectionSql(tmp_path / "live") as sql:
        before = sql.query("SELECT count(*) AS n FROM trades").column("n")[0].as_py()
        late = TradeColumns()
        # The same stream as populate's, 50 trades further: they continue the day-one tape.
        stream = synthetic_session(
            Symbol("WINZ25"), seed=3, session=FIRST, trades=350, start_price=Decimal(127_850)
        )
        for trade in [event.trade for event in stream][300:]:
            late.append(trade)
        memory_app.record_trades(Symbol("WINZ25"), FIRST, late)

        runner.catch_up()
        runner.close()

        assert sql.query("SELECT count(*) AS n FROM trades").column("n")[0].as_py() == before + 50
    project(memory_app, tmp_path / "fresh")
    assert all_rows(tmp_path / "live") == all_rows(tmp_path / "fresh")
    day_file = pq.read_table(day_file_path(tmp_path / "live", "trades", DAY_ONE))
    assert (
        day_file.num_rows
        == pq.read_table(day_file_path(tmp_path / "fresh", "trades", DAY_ONE)).num_rows
    )
    report = Report()
    verify_projections(memory_app, tmp_path / "live", report)
    assert report.ok, report.render()


def test_start_up_replaces_a_stale_day_file_and_writes_a_missing_one(
    memory_app: TradingApplication, clock: ManualClock, tmp_path: Path
) -> None:
    populate(
        memory_app,
        clock,
        trades=300,
        sessions=(FIRST, FIRST + timedelta(days=1), FIRST + timedelta(days=2)),
    )
    project(memory_app, tmp_path).close()
    expected = all_rows(tmp_path)
    stale = day_file_path(tmp_path, "trades", DAY_ONE)
    table = pq.read_table(stale)
    # A day file that claims other sources (as if made before rows it lacks), and a leftover.
    write_atomically(
        table.slice(0, 10),
        stale,
        [(1, 2)],
        {SOURCES_KEY: json.dumps({"WINZ25": [[1, 2]]}).encode()},
    )
    day_file_path(tmp_path, "trades", DAY_TWO).unlink()  # killed between invalidation and commit
    leftover = stale.with_name(".2025-12-01.parquet.123.tmp")
    leftover.write_bytes(b"half a file")

    ProjectionRunner(memory_app, ParquetOutput(tmp_path)).close()

    assert set(day_files(tmp_path, "trades")) == {DAY_ONE, DAY_TWO}
    assert pq.read_table(stale).num_rows == table.num_rows
    assert not leftover.exists()
    assert all_rows(tmp_path) == expected


def test_verify_reports_a_day_file_that_lost_rows(
    memory_app: TradingApplication, clock: ManualClock, tmp_path: Path
) -> None:
    populate(memory_app, clock, trades=300)
    project(memory_app, tmp_path).close()
    path = day_file_path(tmp_path, "trades", DAY_ONE)
    table = pq.read_table(path)
    sources = (table.schema.metadata or {})[SOURCES_KEY]
    write_atomically(table.slice(1), path, [(1, 2)], {SOURCES_KEY: sources})
    report = Report()

    verify_projections(memory_app, tmp_path, report)

    assert any(
        "trades day file 2025-12-01: row missing from the day file" in problem
        for problem in report.problems
    ), report.render()


def test_rebuild_removes_the_day_files_before_anything_else(
    memory_app: TradingApplication, clock: ManualClock, tmp_path: Path
) -> None:
    populate(memory_app, clock, trades=300)
    project(memory_app, tmp_path).close()

    ParquetOutput(tmp_path).reset()

    assert not (tmp_path / "_days").exists()
    assert all(not rows for rows in all_rows(tmp_path).values())


def test_day_file_row_groups_are_equal_and_even_in_number() -> None:
    assert row_group_size(1_666_660) == 416_665
    assert row_group_size(1_000_000) == 500_000
    assert row_group_size(10) == 5
    assert row_group_size(1) == 1
