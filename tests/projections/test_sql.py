"""DuckDB views and named queries, checked against independent computations in Python."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import pytest

from adapters.eventstore import open_store
from adapters.parquet.duck import ProjectionSql
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.position import Position, position_id_for
from tradingcore.domain.signal import Signal, SignalGenerated
from tradingcore.domain.tape import Trade
from tradingcore.ports.clock import ManualClock
from tradingcore.projections.tables import TABLES

from .helpers import ACCOUNT, SYMBOLS, Populated, populate, project


class Projected(NamedTuple):
    root: Path
    populated: Populated
    app: TradingApplication


@pytest.fixture(scope="module")
def projected(tmp_path_factory: pytest.TempPathFactory) -> Projected:
    root = tmp_path_factory.mktemp("parquet")
    clock = ManualClock(datetime(2025, 11, 30, tzinfo=UTC))
    app = open_store("memory://", clock)
    populated = populate(app, clock, trades=1_200, signal_every=60)
    project(app, root, flush_rows=2_000)
    return Projected(root, populated, app)


def session_of(timestamp_ms: int) -> str:
    return datetime.fromtimestamp(timestamp_ms / 1000, UTC).date().isoformat()


def test_vwap_with_projected_trades_equals_the_exact_python_vwap(projected: Projected) -> None:
    root, populated, _ = projected
    notional: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    volume: dict[tuple[str, str], int] = defaultdict(int)
    for trade in populated.trades:
        key = (trade.symbol.ticker, session_of(trade.timestamp_ms))
        notional[key] += trade.price * trade.volume
        volume[key] += trade.volume

    with ProjectionSql(root) as sql:
        rows = sql.named("vwap").to_pylist()

    assert len(rows) == len(volume) == 4
    for row in rows:
        key = (row["symbol"], row["date"].isoformat())
        assert row["volume"] == volume[key]
        assert row["vwap"] == pytest.approx(float(notional[key] / volume[key]), rel=1e-12)


def test_bars_1m_with_projected_trades_equal_python_bars(projected: Projected) -> None:
    root, populated, _ = projected
    bars: dict[tuple[str, int], list[Trade]] = defaultdict(list)
    for trade in populated.trades:
        bars[(trade.symbol.ticker, trade.timestamp_ms // 60_000)].append(trade)

    with ProjectionSql(root) as sql:
        rows = sql.named("bars_1m").to_pylist()

    assert len(rows) == len(bars)
    for row in rows:
        minute = int(row["minute"].replace(tzinfo=UTC).timestamp()) // 60
        trades = bars[(row["symbol"], minute)]  # tape order is the recorded order
        assert (row["open"], row["close"]) == (float(trades[0].price), float(trades[-1].price))
        assert row["high"] == float(max(trade.price for trade in trades))
        assert row["low"] == float(min(trade.price for trade in trades))
        assert row["volume"] == sum(trade.volume for trade in trades)
        assert row["trades"] == len(trades)


def test_daily_pnl_with_fills_equals_the_position_aggregates(projected: Projected) -> None:
    root, _, app = projected

    with ProjectionSql(root) as sql:
        rows = sql.named("daily_pnl").to_pylist()

    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in rows:
        for key in ("gross_realized_pnl", "fees", "realized_pnl"):
            sums[(row["symbol"], key)] += row[key]  # decimal(18, 2): exact cents
    last_day = {row["symbol"]: row for row in rows}
    for symbol, _ in SYMBOLS:
        position = app.load(Position, position_id_for(ACCOUNT, symbol))
        ticker = symbol.ticker
        assert sums[(ticker, "gross_realized_pnl")] == position.gross_realized_pnl.amount
        assert sums[(ticker, "fees")] == position.fees.amount > 0
        assert sums[(ticker, "realized_pnl")] == position.realized_pnl.amount
        assert last_day[ticker]["net_quantity"] == position.net_quantity


def test_every_amount_of_money_in_the_projections_is_decimal_cents(projected: Projected) -> None:
    root, _, _ = projected
    money = {
        "fills": ["fees"],
        "positions": ["realized_pnl", "gross_realized_pnl", "fees", "net_realized_pnl"],
    }

    with ProjectionSql(root) as sql:
        types = {
            (table, column): str(sql.query(f"SELECT {column} FROM {table}").schema[0].type)
            for table, columns in money.items()
            for column in columns
        }
        rows = sql.query("SELECT realized_pnl, gross_realized_pnl FROM positions").to_pylist()

    assert set(types.values()) == {"decimal128(18, 2)"}, types
    assert all(row["realized_pnl"] == row["gross_realized_pnl"] for row in rows)


def test_signal_hit_rate_with_a_horizon_equals_the_python_count(projected: Projected) -> None:
    root, populated, app = projected
    horizon = 15
    tapes: dict[tuple[str, str], list[Trade]] = defaultdict(list)
    for trade in populated.trades:
        tapes[(trade.symbol.ticker, session_of(trade.timestamp_ms))].append(trade)
    hits: dict[str, int] = defaultdict(int)
    misses: dict[str, int] = defaultdict(int)
    for notification in app.recorder.select_notifications(start=1, limit=100_000):
        event = app.mapper.to_domain_event(notification)
        if not isinstance(event, SignalGenerated) or event.direction == "HOLD":
            continue
        tape = tapes[(event.symbol.ticker, session_of(event.tick_timestamp_ms))]
        index = next(i for i, trade in enumerate(tape) if trade.trade_id == event.tick_trade_id)
        if index + horizon >= len(tape) or tape[index + horizon].price == tape[index].price:
            continue
        up = tape[index + horizon].price > tape[index].price
        if up == (event.direction == "BUY"):
            hits[event.symbol.ticker] += 1
        else:
            misses[event.symbol.ticker] += 1

    with ProjectionSql(root) as sql:
        rows = sql.named("signal_hit_rate", horizon=horizon).to_pylist()

    assert {row["symbol"] for row in rows} == {"WINZ25", "WDOF26"}
    for row in rows:
        assert (row["hits"], row["misses"]) == (hits[row["symbol"]], misses[row["symbol"]])
        decided = hits[row["symbol"]] + misses[row["symbol"]]
        assert row["hit_rate"] == pytest.approx(hits[row["symbol"]] / decided)


def test_trace_with_signalled_orders_links_each_fill_to_its_signal_features_and_tick(
    projected: Projected,
) -> None:
    root, populated, app = projected
    ticks = {
        (trade.symbol.ticker, trade.trade_id, trade.timestamp_ms): trade
        for trade in populated.trades
    }

    with ProjectionSql(root) as sql:
        rows = sql.named("trace").to_pylist()

    assert rows and len(rows) == sql_count(root, "fills")
    for row in rows:
        signal = app.load(Signal, uuid.UUID(row["signal_id"]))
        tick_ms = int(row["tick_time"].replace(tzinfo=UTC).timestamp() * 1000)
        tick = ticks[(row["symbol"], row["tick_trade_id"], tick_ms)]
        assert row["direction"] == signal.direction and row["model_version"] == signal.model_version
        assert row["side"] == ("BUY" if signal.direction == "BUY" else "SELL")
        assert row["tick_price"] == float(tick.price)
        assert row["pipeline_version"] == "features-1"
        assert row["book_delta"] == signal.features["book_delta"]


def sql_count(root: Path, view: str) -> int:
    with ProjectionSql(root) as sql:
        return int(sql.query(f"SELECT count(*) AS n FROM {view}").column("n")[0].as_py())


def test_views_without_any_files_are_empty_with_their_columns(tmp_path: Path) -> None:
    with ProjectionSql(tmp_path) as sql:
        for name, table in TABLES.items():
            view = "order_events" if name == "orders" else name
            result = sql.query(f"SELECT * FROM {view}")
            assert result.num_rows == 0
            assert tuple(result.column_names) == table.column_names
        assert sql.named("vwap").num_rows == 0


def test_orders_view_with_several_events_per_order_shows_the_latest_state(
    projected: Projected,
) -> None:
    root, populated, _ = projected

    with ProjectionSql(root) as sql:
        statuses = sql.query("SELECT status, count(*) AS n FROM orders GROUP BY status").to_pylist()

    counts = {row["status"]: row["n"] for row in statuses}
    assert sum(counts.values()) == populated.orders
    assert set(counts) <= {"FILLED", "DENIED"}
    assert counts["FILLED"] > 0 and counts["DENIED"] > 0


def test_query_after_every_file_of_a_table_is_deleted_returns_an_empty_table(
    projected: Projected, tmp_path: Path
) -> None:
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(projected.root, root)
    with ProjectionSql(root) as sql:
        assert sql.query("SELECT count(*) AS n FROM fills").column("n")[0].as_py() > 0
        for path in root.rglob("fills*.parquet"):
            path.unlink()

        assert sql.query("SELECT count(*) AS n FROM fills").column("n")[0].as_py() == 0
