"""`tradingcore demo`: the main job on the embedded default store, no services needed.

Records a seeded synthetic session into a fresh SQLite event store, trades a few orders
against it, and prints positions and P&L. Time comes from the tape, so every run with the
same seed prints the same result.
"""

from __future__ import annotations

import argparse
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from adapters.eventstore import open_store
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.commands import SubmitOrder
from tradingcore.domain.position import Position
from tradingcore.domain.tape import TradeColumns
from tradingcore.domain.values import Price, Quantity, Side, Symbol
from tradingcore.ports.clock import ManualClock
from tradingcore.simulation.market import MarketEvent, synthetic_session

BATCH = 1_000
ACCOUNT = "demo"


@dataclass(frozen=True)
class DemoSymbol:
    symbol: Symbol
    start_price: Decimal


SYMBOLS = (
    DemoSymbol(Symbol("WINZ25"), Decimal(127_850)),
    DemoSymbol(Symbol("WDOF26"), Decimal("5412.5")),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path("data/demo"),
        help="where the demo's store lives (recreated on each run)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--trades", type=int, default=20_000, help="trades per symbol")
    parser.add_argument(
        "--every", type=int, default=2_500, help="send an order every this many trades"
    )


def run(args: argparse.Namespace) -> int:
    shutil.rmtree(args.data_dir, ignore_errors=True)
    args.data_dir.mkdir(parents=True)
    clock = ManualClock(datetime(2025, 12, 1, tzinfo=UTC))
    app = open_store(f"sqlite:///{args.data_dir / 'events.sqlite'}", clock)
    started = time.perf_counter()
    marks: dict[Symbol, Decimal] = {}
    orders = 0
    total = 0
    for spec in SYMBOLS:
        events = list(
            synthetic_session(
                spec.symbol, seed=args.seed, trades=args.trades, start_price=spec.start_price
            )
        )
        _record(app, clock, events)
        orders += _trade(app, clock, events, args.every)
        marks[spec.symbol] = events[-1].trade.price
        total += len(events)
    elapsed = time.perf_counter() - started
    print(
        f"recorded {total:,} trades and {orders} orders into "
        f"{args.data_dir / 'events.sqlite'} in {elapsed:.2f} s"
    )
    _print_positions(app, marks)
    return 0


def _record(app: TradingApplication, clock: ManualClock, events: list[MarketEvent]) -> None:
    session = datetime.fromtimestamp(events[0].trade.timestamp_ms / 1000, UTC).date()
    for start in range(0, len(events), BATCH):
        columns = TradeColumns()
        for event in events[start : start + BATCH]:
            columns.append(event.trade)
        clock.set_epoch_ms(columns.timestamps_ms[-1])
        app.record_trades(events[0].trade.symbol, session, columns)


def _trade(
    app: TradingApplication, clock: ManualClock, events: list[MarketEvent], every: int
) -> int:
    """Alternate market orders; each fills at the next trade's price (a paper fill)."""
    sent = 0
    for index in range(every, len(events) - 1, every):
        trade = events[index].trade
        side = Side.BUY if (index // every) % 3 else Side.SELL
        clock.set_epoch_ms(trade.timestamp_ms)
        order = app.submit_order(
            SubmitOrder(
                client_order_id=f"demo-{trade.symbol.ticker}-{index}",
                account=ACCOUNT,
                symbol=trade.symbol,
                side=side,
                quantity=Quantity(1 + sent % 3),
                price=Price.market(),
            )
        )
        app.accept_order(order.id, f"paper-{index}")
        fill = events[index + 1].trade
        clock.set_epoch_ms(fill.timestamp_ms)
        app.fill_order(order.id, fill.trade_id, fill.price, order.quantity)
        sent += 1
    return sent


def _print_positions(app: TradingApplication, marks: dict[Symbol, Decimal]) -> None:
    print(
        f"\n{'symbol':<8} {'net':>5} {'avg price':>12} {'mark':>10} "
        f"{'realized R$':>12} {'unrealized R$':>14}"
    )
    total = Decimal(0)
    for symbol, mark in marks.items():
        position: Position = app.position(ACCOUNT, symbol)
        unrealized = position.unrealized_pnl(mark)
        total += position.realized_pnl + unrealized
        print(
            f"{symbol.ticker:<8} {position.net_quantity:>5} "
            f"{position.average_price.quantize(Decimal('0.01')):>12} {mark:>10} "
            f"{position.realized_pnl.quantize(Decimal('0.01')):>12} "
            f"{unrealized.quantize(Decimal('0.01')):>14}"
        )
    print(f"{'total P&L R$':<38} {total.quantize(Decimal('0.01')):>27}")
