"""The backtest: trades replayed through strategies, pre-trade risk, the order manager, a
simulated venue and a fee model, every event stored in the backtest's own store.

Two paths give the same orders and fills (property-tested): the event path shows every trade
to every strategy; the columnar path, taken when every strategy is a `ColumnarTargets`
target strategy, computes the targets at once and runs the order pipeline only where a target
changes or an order is in flight. Trades are stored in fixed batches (per symbol, session and
`batch` rows) at the same points of the replay in both paths, so their stores are equal too.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
from eventsourcing.persistence import StoredEvent

from tradingcore.application.backtest_tape import (
    Int64s,
    PriceCache,
    SymbolTrades,
    merged_order,
    trade_at,
)
from tradingcore.application.order_manager import OrderManager
from tradingcore.application.strategy_runner import ReportingBroker, StrategyRunner
from tradingcore.application.timers import TimerSchedule
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.book import BookTop
from tradingcore.domain.book_tape import BookColumns
from tradingcore.domain.order import Order
from tradingcore.domain.position import Position
from tradingcore.domain.tape import Trade, session_of
from tradingcore.domain.values import Side, Symbol
from tradingcore.ports.clock import ManualClock
from tradingcore.ports.fees import FeeModel
from tradingcore.ports.order_observer import NullObserver
from tradingcore.risk.calendar import SessionCalendar
from tradingcore.risk.limits import RiskLimits
from tradingcore.simulation.venue import SimulatedVenue, VenueConfig
from tradingcore.strategy.api import BaseStrategy, SignalSeen, Strategy
from tradingcore.strategy.columnar import ColumnarTargets, decision_points
from tradingcore.strategy.policy import TargetStrategy

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class BacktestConfig:
    account: str = "backtest"
    venue: VenueConfig = field(default_factory=VenueConfig)
    limits: RiskLimits = field(default_factory=RiskLimits)
    calendar: SessionCalendar = field(default_factory=lambda: SessionCalendar(always_open=True))
    batch: int = 1_000
    """Trades per stored TradesRecorded batch."""
    columnar: bool = True
    """Take the columnar path when every strategy allows it."""
    band_fraction: Decimal | None = None
    """The circuit-breaker band of the backtest's own tapes: none by default, since the
    source's trades were admitted where they were recorded (imported history has no band)."""


@dataclass(frozen=True, slots=True)
class Fill:
    """One fill as the report sees it."""

    timestamp_ms: int
    strategy_id: str
    symbol: Symbol
    side: Side
    quantity: int
    price: Decimal
    trade_id: int
    fee: Decimal
    point_value: Decimal


@dataclass(slots=True)
class BacktestResult:
    trades: int
    fills: list[Fill]
    orders: int
    denied: int
    closes: dict[tuple[Symbol, date], Decimal]
    """Last price of each symbol on each session day (marks the open position)."""
    columnar: bool
    first_ms: int = 0
    last_ms: int = 0
    day_ends: dict[date, int] = field(default_factory=dict)
    """Time of the last trade of each session day."""
    denied_by_reason: dict[str, int] = field(default_factory=dict)
    """Orders the pre-trade risk checks denied, by reason code."""


class _FillLedger(NullObserver):
    """Every fill with its strategy and the fees the store booked on it.

    As the order manager's observer it sees the filled order (its fees so far); as a
    subscriber of the reports, right after, the fill itself (trade, price, quantity).
    """

    def __init__(self, app: TradingApplication) -> None:
        self.app = app
        self.runners: list[StrategyRunner] = []
        self.fills: list[Fill] = []
        self.now_ms = 0
        self._fees_paid: dict[uuid.UUID, Decimal] = {}
        self._last_fee = Decimal(0)

    def order_filled(self, order: Order, position: Position) -> None:
        before = self._fees_paid.get(order.id, Decimal(0))
        self._fees_paid[order.id] = order.fees_paid
        self._last_fee = order.fees_paid - before

    def on_order_filled(
        self, order_id: uuid.UUID, trade_id: int, price: Decimal, quantity: int
    ) -> None:
        for runner in self.runners:
            owner = runner.owner_of(order_id)
            if owner is not None:
                self._add(runner.strategy.strategy_id, *owner, trade_id, price, quantity)
                return

    def _add(
        self,
        strategy_id: str,
        symbol: Symbol,
        side: Side,
        trade_id: int,
        price: Decimal,
        quantity: int,
    ) -> None:
        self.fills.append(
            Fill(
                self.now_ms,
                strategy_id,
                symbol,
                side,
                quantity,
                price,
                trade_id,
                self._last_fee,
                self.app.instruments(symbol).point_value,
            )
        )

    def on_order_accepted(self, order_id: uuid.UUID, venue_order_id: str) -> None:
        pass

    def on_order_rejected(self, order_id: uuid.UUID, reason_code: str, reason: str) -> None:
        pass

    def on_order_canceled(self, order_id: uuid.UUID, reason: str) -> None:
        pass


class Backtest:
    """One replay of tapes through strategies into `app`'s store."""

    def __init__(
        self,
        app: TradingApplication,
        clock: ManualClock,
        strategies: Sequence[Strategy],
        *,
        config: BacktestConfig | None = None,
        fee_model: FeeModel | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.app = app
        self.clock = clock
        self.config = config or BacktestConfig()
        self.venue = SimulatedVenue(clock, self.config.venue)
        self.reports = ReportingBroker(self.venue)
        if fee_model is not None:
            app.fee_model = fee_model  # fills are booked with the fees it prices
        self.ledger = _FillLedger(app)
        self.orders = OrderManager(
            app,
            self.reports,
            limits=self.config.limits,
            calendar=self.config.calendar,
            observer=self.ledger,
        )
        self.orders.start()
        self.reports.subscribers.append(self.ledger)
        self.runners = [
            StrategyRunner(strategy, self.orders, self.reports, account=self.config.account)
            for strategy in strategies
        ]
        self.ledger.runners = self.runners
        self.progress = progress

    def columnar_possible(self, books: Sequence[BookTop] = ()) -> bool:
        if books and (
            self.config.venue.limit_fill == "queue"
            or any(listens_to_books(runner.strategy) for runner in self.runners)
        ):
            return False  # the tops must be shown in time order: the event path
        return self.config.columnar and all(
            isinstance(runner.strategy, TargetStrategy)
            and isinstance(runner.strategy, ColumnarTargets)
            and runner.strategy.timer_interval is None
            for runner in self.runners
        )

    def run(
        self,
        tapes: Mapping[Symbol, SymbolTrades],
        signals: Sequence[SignalSeen] = (),
        books: Sequence[BookTop] = (),
    ) -> BacktestResult:
        """Replay every trade in time order; return the fills and the daily closes.

        `books`: the symbols' book tops in time order; each is shown to the venue and the
        strategies before the first trade at or after its time, and stored in this run's store.
        """
        tapes = {symbol: tapes[symbol] for symbol in sorted(tapes, key=lambda s: s.full_symbol)}
        owners, rows = merged_order(tapes)
        replay = _Replay(self, list(tapes.values()), owners, rows, signals)
        columnar = not signals and self.columnar_possible(books)
        if columnar:
            replay.run_columnar()
        else:
            replay.run_events(books)
        replay.flush_all()
        _store_books(self.app, books, self.config.batch)
        self.venue.expire_all_cancels()
        for runner in self.runners:
            runner.drain()
        self.orders.writes.flush()
        return BacktestResult(
            trades=len(owners),
            fills=self.ledger.fills,
            orders=sum(len(runner.sent) for runner in self.runners),
            denied=sum(runner.denied for runner in self.runners),
            closes=_closes(tapes),
            columnar=columnar,
            first_ms=min((int(tape.timestamps_ms[0]) for tape in tapes.values()), default=0),
            last_ms=max((int(tape.timestamps_ms[-1]) for tape in tapes.values()), default=0),
            day_ends=_day_ends(tapes),
            denied_by_reason=dict(
                sorted(sum((runner.denied_by_reason for runner in self.runners), Counter()).items())
            ),
        )


class _Replay:
    """The loop of one run (split from Backtest to keep each part small)."""

    def __init__(
        self,
        backtest: Backtest,
        tapes: list[SymbolTrades],
        owners: Int64s,
        rows: Int64s,
        signals: Sequence[SignalSeen],
    ) -> None:
        self.backtest = backtest
        self.tapes = tapes
        self.owners = owners
        self.rows = rows
        self.prices = PriceCache()
        self.flushes = _flush_points(tapes, owners, rows, backtest.config.batch)
        self.next_flush = 0
        self.stored = [0] * len(tapes)
        self.signals: dict[tuple[Symbol, int], list[SignalSeen]] = {}
        for signal in signals:
            self.signals.setdefault((signal.symbol, signal.tick_trade_id), []).append(signal)

    def _store_through(self, position: int) -> None:
        """Store every batch that ends at or before this replay position."""
        flushes = self.flushes
        while self.next_flush < len(flushes) and flushes[self.next_flush][0] <= position:
            _, owner, stop = flushes[self.next_flush]
            self.next_flush += 1
            tape = self.tapes[owner]
            start = self.stored[owner]
            self.backtest.clock.set_epoch_ms(int(tape.timestamps_ms[stop - 1]))
            session = session_of(int(tape.timestamps_ms[start]))
            app = self.backtest.app
            app.tape(tape.symbol, session, band_fraction=self.backtest.config.band_fraction)
            app.record_trades(tape.symbol, session, tape.columns(start, stop))
            self.stored[owner] = stop

    def flush_all(self) -> None:
        self._store_through(len(self.owners))

    def _show(self, position: int) -> Trade:
        """Everything but the strategies' own view of the trade at a replay position."""
        backtest = self.backtest
        tape = self.tapes[self.owners[position]]
        trade = trade_at(tape, int(self.rows[position]), self.prices)
        backtest.clock.set_epoch_ms(trade.timestamp_ms)
        backtest.ledger.now_ms = trade.timestamp_ms
        backtest.orders.on_trade(trade)
        if backtest.venue.on_trade(trade):
            for runner in backtest.runners:
                runner.drain()
        return trade

    def run_events(self, books: Sequence[BookTop] = ()) -> None:
        backtest = self.backtest
        total = len(self.owners)
        signals = self.signals
        next_book = 0
        timers = [
            (TimerSchedule(runner.strategy.timer_interval), runner)
            for runner in backtest.runners
            if runner.strategy.timer_interval is not None
        ]
        for position in range(total):
            if next_book < len(books):
                next_book = self._show_books(books, next_book, position)
            if timers:
                self._fire_timers(timers, position)
            trade = self._show(position)
            for runner in backtest.runners:
                runner.trade(trade)
            if signals:
                for signal in signals.pop((trade.symbol, trade.trade_id), ()):
                    self._record(signal)
                    for runner in backtest.runners:
                        runner.signal(signal)
            self._store_through(position)
            if backtest.progress is not None and position & 0xFFFF == 0:
                backtest.progress(position, total)

    def _show_books(self, books: Sequence[BookTop], start: int, position: int) -> int:
        """Show the venue and the strategies every book top up to this trade's time; return
        the index of the first one left."""
        stamp = int(self.tapes[self.owners[position]].timestamps_ms[self.rows[position]])
        backtest = self.backtest
        index = start
        while index < len(books) and books[index].timestamp_ms <= stamp:
            book = books[index]
            backtest.clock.set_epoch_ms(book.timestamp_ms)
            backtest.venue.on_book(book)
            for runner in backtest.runners:
                runner.book_top(book)
            index += 1
        return index

    def _fire_timers(
        self, timers: list[tuple[TimerSchedule, StrategyRunner]], position: int
    ) -> None:
        """Call each strategy's on_timer for every interval that ends before this trade."""
        stamp = int(self.tapes[self.owners[position]].timestamps_ms[self.rows[position]])
        for schedule, runner in timers:
            for due in schedule.due_through(stamp):
                self.backtest.clock.set_epoch_ms(due)
                runner.timer()

    def _record(self, signal: SignalSeen) -> None:
        """Store the signal in the backtest's store (its id is the original's), so the
        orders it causes trace back to it."""
        if not signal.model_version:
            return
        self.backtest.app.record_signal(
            symbol=signal.symbol,
            direction=signal.direction,
            confidence=signal.confidence,
            features=signal.features,
            model_version=signal.model_version,
            tick_trade_id=signal.tick_trade_id,
            tick_timestamp_ms=signal.tick_timestamp_ms,
            price=signal.price,
        )

    def run_columnar(self) -> None:
        backtest = self.backtest
        total = len(self.owners)
        positions = _global_positions(self.tapes, self.owners, self.rows)
        plans: list[tuple[int, int, int, int]] = []  # (position, runner, tape, target)
        for runner_index, runner in enumerate(backtest.runners):
            strategy: Any = runner.strategy
            for owner, tape in enumerate(self.tapes):
                targets = strategy.targets(tape.price_units)
                for row in decision_points(targets):
                    plans.append(
                        (int(positions[owner][row]), runner_index, owner, int(targets[row]))
                    )
        plans.sort()
        next_plan = 0
        position = 0
        reported = 0
        while position < total:
            if not backtest.venue.has_working_orders:
                if next_plan >= len(plans):
                    break
                position = max(position, plans[next_plan][0])
            self._store_through(position - 1)
            self._show(position)
            while next_plan < len(plans) and plans[next_plan][0] == position:
                _, runner_index, owner, target = plans[next_plan]
                runner = backtest.runners[runner_index]
                chooser: Any = runner.strategy
                runner.apply(chooser.want(self.tapes[owner].symbol, target, runner.book))
                next_plan += 1
            self._store_through(position)
            position += 1
            if backtest.progress is not None and position - reported > 0xFFFF:
                reported = position
                backtest.progress(position, total)


def _flush_points(
    tapes: list[SymbolTrades], owners: Int64s, rows: Int64s, batch: int
) -> list[tuple[int, int, int]]:
    """Return (replay position of the batch's last trade, tape, stop row), in replay order.

    A batch ends every `batch` rows of a symbol, at the end of each session, and at the end.
    """
    positions = _global_positions(tapes, owners, rows)
    points: list[tuple[int, int, int]] = []
    for owner, tape in enumerate(tapes):
        sessions = tape.sessions()
        ends = set(np.flatnonzero(sessions[1:] != sessions[:-1]).tolist())
        ends.add(len(tape) - 1)
        start = 0
        for end in sorted(ends):
            for stop in range(start + batch, end + 1, batch):
                points.append((int(positions[owner][stop - 1]), owner, stop))
            points.append((int(positions[owner][end]), owner, end + 1))
            start = end + 1
    points.sort()
    return points


def _global_positions(
    tapes: list[SymbolTrades], owners: Int64s, rows: Int64s
) -> list[np.ndarray[Any, Any]]:
    """Return, per tape, the replay position of each of its rows."""
    positions = [np.zeros(len(tape), dtype=np.int64) for tape in tapes]
    for owner in range(len(tapes)):
        mine = np.flatnonzero(owners == owner)
        positions[owner][rows[mine]] = mine
    return positions


def _closes(tapes: Mapping[Symbol, SymbolTrades]) -> dict[tuple[Symbol, date], Decimal]:
    closes: dict[tuple[Symbol, date], Decimal] = {}
    prices = PriceCache()
    for symbol, tape in tapes.items():
        sessions = tape.sessions()
        lasts = np.flatnonzero(np.concatenate((sessions[1:] != sessions[:-1], [True])))
        for row in lasts:
            day = session_of(int(tape.timestamps_ms[row]))
            closes[symbol, day] = prices(int(tape.price_units[row]))
    return closes


def _day_ends(tapes: Mapping[Symbol, SymbolTrades]) -> dict[date, int]:
    ends: dict[date, int] = {}
    for tape in tapes.values():
        sessions = tape.sessions()
        lasts = np.flatnonzero(np.concatenate((sessions[1:] != sessions[:-1], [True])))
        for row in lasts:
            stamp = int(tape.timestamps_ms[row])
            day = session_of(stamp)
            ends[day] = max(ends.get(day, 0), stamp)
    return ends


def _store_books(app: TradingApplication, books: Sequence[BookTop], batch: int) -> None:
    """Record the run's book tops in its store, per symbol and session, in batches."""
    pending: dict[tuple[Symbol, date], BookColumns] = {}
    for book in books:
        key = (book.symbol, session_of(book.timestamp_ms))
        columns = pending.setdefault(key, BookColumns())
        columns.append(book)
        if len(columns) >= batch:
            app.record_books(key[0], key[1], columns)
            del pending[key]
    for (symbol, session), columns in sorted(
        pending.items(), key=lambda item: (item[0][1], item[0][0].full_symbol)
    ):
        app.record_books(symbol, session, columns)


def listens_to_books(strategy: object) -> bool:
    """True unless the strategy keeps BaseStrategy's `on_book`, which does nothing."""
    return getattr(type(strategy), "on_book", None) is not BaseStrategy.on_book


def copy_store(source: TradingApplication, target: TradingApplication) -> int:
    """Append every event of `source` to `target` in one transaction; return how many.

    A backtest runs on an in-memory store (no commit per order or fill) and is written to
    its file once at the end: the same events, in the same order, a third less CPU.
    """
    events: list[StoredEvent] = []
    start = 1
    while True:
        page = source.recorder.select_notifications(start=start, limit=10_000)
        if not page:
            break
        events.extend(
            StoredEvent(item.originator_id, item.originator_version, item.topic, item.state)
            for item in page
        )
        start = page[-1].id + 1
    if events:
        target.recorder.insert_events(events)
    return len(events)
