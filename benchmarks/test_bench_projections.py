"""Projection benchmarks: event store -> Parquet throughput, named queries vs one Parquet file."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from adapters.eventstore import open_store
from adapters.parquet.arrow import schema_of
from adapters.parquet.days import synchronize
from adapters.parquet.duck import ProjectionSql
from adapters.parquet.files import part_name, write_atomically
from adapters.parquet.output import ParquetOutput
from adapters.parquet.queries import named_sql
from adapters.parquet.runner import ProjectionRunner
from tradingcore.domain.tape import MarketTape, TradesRecorded
from tradingcore.domain.values import Symbol
from tradingcore.ports.clock import ManualClock
from tradingcore.projections.tables import TRADES

CACHE = Path(tempfile.gettempdir()) / "tradingcore-bench-projections"
STORE_TRADES = 2_000_000
BATCH = 1_000
QUERY_TRADES = 5_000_000
PAIRS = 11
LAYOUTS = {"20x3": (20, 3, False), "20x3-open": (20, 3, True), "5x2": (5, 2, False)}
"""Symbols x days holding the 5M trades: 60 files of ~83k rows, or 10 files of 500k rows;
every day closed (each has its day file), or the last day still open (20 part files)."""


def _store(trades: int) -> Path:
    """A SQLite store of `trades` trades in 1,000-trade events: 4 symbols x 2 sessions (cached)."""
    path = CACHE / f"store-{trades}.sqlite"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    temporary = CACHE / "store.tmp.sqlite"
    for leftover in CACHE.glob("store.tmp.sqlite*"):
        leftover.unlink()
    clock = ManualClock(datetime(2025, 11, 30, tzinfo=UTC))
    app = open_store(f"sqlite:///{temporary}", clock)
    rng = np.random.default_rng(7)
    per_tape = trades // 8
    for session in (date(2025, 12, 1), date(2025, 12, 2)):
        for ticker in ("WINZ25", "WDOF26", "PETR4", "VALE3"):
            tape = MarketTape.open(Symbol(ticker), session, clock.now(), band_fraction=None)
            app.store(tape)
            start_ms = int(datetime.combine(session, datetime.min.time(), UTC).timestamp()) * 1000
            timestamps = start_ms + 12 * 3_600_000 + np.cumsum(rng.integers(0, 3, per_tape))
            prices = 1_278_500_000 + np.cumsum(rng.integers(-1, 2, per_tape)) * 50_000
            volumes = rng.integers(1, 20, per_tape)
            sides = np.where(rng.random(per_tape) < 0.5, "B", "S")
            events = []
            for version, first in enumerate(range(0, per_tape, BATCH), start=2):
                stop = first + BATCH
                events.append(
                    TradesRecorded(
                        originator_id=tape.id,
                        originator_version=version,
                        timestamp=clock.now(),
                        symbol=tape.symbol,
                        first_sequence=first,
                        trade_ids=tuple(range(first + 1, stop + 1)),
                        timestamps_ms=tuple(timestamps[first:stop].tolist()),
                        prices=tuple(prices[first:stop].tolist()),
                        volumes=tuple(volumes[first:stop].tolist()),
                        aggressors="".join(sides[first:stop].tolist()),
                        flags=(0,) * BATCH,
                    )
                )
                if len(events) == 100:
                    app.append(events)
                    events = []
            app.append(events)
    app.close()
    temporary.rename(path)
    return path


def test_bench_store_to_parquet_projection(benchmark: Any, tmp_path: Path) -> None:
    """Catch up from an empty output over 2M trades (SQLite store); target >= 1M trades/s."""
    url = f"sqlite:///{_store(STORE_TRADES)}"
    app = open_store(url, ManualClock())

    def fresh() -> tuple[tuple[ProjectionRunner], dict[str, Any]]:
        shutil.rmtree(tmp_path / "out", ignore_errors=True)
        return (ProjectionRunner(app, ParquetOutput(tmp_path / "out")),), {}

    def catch_up(runner: ProjectionRunner) -> None:
        report = runner.catch_up()
        assert report.rows["trades"] == STORE_TRADES

    benchmark.pedantic(catch_up, setup=fresh, rounds=3, iterations=1)
    rate = STORE_TRADES / benchmark.stats.stats.median
    benchmark.extra_info["trades_per_second"] = round(rate)
    print(f"\nstore -> Parquet: {rate:,.0f} trades/s (median of 3)")
    app.close()


def _query_data(layout: str = "20x3") -> tuple[Path, Path]:
    """5M trades as the projection lays them out (SYMBOLS x DAYS files), and as one file.

    Closed days get their day files as the runner makes them (`synchronize`).
    """
    symbols, days, last_open = LAYOUTS[layout]
    root = CACHE / f"parquet-v3-{layout}-{QUERY_TRADES}"
    single = CACHE / f"single-v3-{layout}-{QUERY_TRADES}.parquet"
    if single.exists():
        return root, single
    shutil.rmtree(root, ignore_errors=True)
    rng = np.random.default_rng(11)
    per_file = QUERY_TRADES // (symbols * days)
    tables = []
    notification = 0
    for day_index in range(days):
        day = date(2025, 12, 1) + timedelta(days=day_index)
        opening = int(datetime.combine(day, datetime.min.time(), UTC).timestamp()) * 1000
        for symbol_index in range(symbols):
            symbol = f"SYM{symbol_index:02d}3"
            notification += 1
            # Spread over B3's 09:00-18:00 session (12:00-21:00 UTC): 540 one-minute bars.
            step = 2 * 540 * 60_000 // per_file
            timestamps = opening + 12 * 3_600_000 + np.cumsum(rng.integers(0, step, per_file))
            columns = {
                "timestamp": pa.array(timestamps).view(pa.timestamp("ms")),
                "symbol": pa.array([symbol] * per_file),
                "price": pa.array(100.0 + np.cumsum(rng.integers(-1, 2, per_file)) * 0.01),
                "volume": pa.array(rng.integers(1, 100, per_file, dtype=np.int32)),
                "aggressor": pa.array(np.where(rng.random(per_file) < 0.5, "B", "S")),
                "trade_id": pa.array(np.arange(per_file, dtype=np.int64)),
                "date": pa.array([day] * per_file, pa.date32()),
                "cancelled": pa.array(np.zeros(per_file, dtype=bool)),
                "cross": pa.array(np.zeros(per_file, dtype=bool)),
                "sequence": pa.array(np.arange(per_file, dtype=np.int64)),
                "notification_id": pa.array(np.full(per_file, notification, dtype=np.int64)),
            }
            table = pa.table(columns, schema=schema_of(TRADES))
            directory = root / symbol / day.isoformat()
            directory.mkdir(parents=True, exist_ok=True)
            open_day = last_open and day_index == days - 1
            name = part_name("trades", notification, notification) if open_day else "trades.parquet"
            write_atomically(table, directory / name, [(notification, notification)])
            tables.append(table)
    synchronize(root, "trades")
    pq.write_table(pa.concat_tables(tables), single, compression="zstd")
    return root, single


def _timed(run: Any) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_bench_vwap_and_bars_over_projection_vs_one_file(benchmark: Any, layout: str) -> None:
    """VWAP + 1-minute bars over 5M trades via the views, and the same SQL on one file."""
    threads = 2
    root, single = _query_data(layout)
    engine = ProjectionSql(root, threads=threads)
    by_hand = duckdb.connect(":memory:")
    by_hand.execute(f"SET threads = {threads}")
    by_hand.execute(f"CREATE VIEW trades AS SELECT * FROM read_parquet('{single}')")
    vwap, bars = named_sql("vwap"), named_sql("bars_1m")

    def views() -> None:
        engine.query(vwap)
        engine.query(bars)

    def one_file() -> None:
        by_hand.sql(vwap).to_arrow_table()
        by_hand.sql(bars).to_arrow_table()

    views()
    one_file()  # warm the file cache for both
    # Each pair runs back to back, so a pair's ratio sees the same machine load.
    pairs = [(_timed(views), _timed(one_file)) for _ in range(PAIRS)]
    benchmark.pedantic(views, rounds=3, iterations=1)
    view_median = statistics.median(pair[0] for pair in pairs)
    file_median = statistics.median(pair[1] for pair in pairs)
    ratios = sorted(view / file for view, file in pairs)
    ratio = statistics.median(ratios)
    quartiles = statistics.quantiles(ratios, n=4)
    benchmark.extra_info.update(
        views_seconds=round(view_median, 3), one_file_seconds=round(file_median, 3), ratio=ratio
    )
    print(
        f"\n[{layout}] vwap + bars_1m over 5M trades: views {view_median:.3f} s, one file "
        f"{file_median:.3f} s, ratio {ratio:.2f} (medians over {PAIRS} back-to-back pairs; "
        f"pair ratios p25-p75 {quartiles[0]:.2f}-{quartiles[2]:.2f})"
    )
    engine.close()
    by_hand.close()
