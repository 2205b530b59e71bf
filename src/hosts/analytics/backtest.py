"""Backtests: TradesRecorded from a recording or a store, through the replay path, to a report."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np

from adapters.eventstore import open_store
from adapters.recordings import read_recording
from tradingcore.analytics.config import AnalyticsConfig
from tradingcore.analytics.decision import SignalDecision
from tradingcore.analytics.labels import threshold_units
from tradingcore.analytics.model import OnlineModel
from tradingcore.analytics.performance import FollowResult, follow_signals
from tradingcore.analytics.replay import ReplayResult, TickSeries, replay_symbol
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.fees import B3FeeModel
from tradingcore.domain.instruments import infer_instrument
from tradingcore.domain.money import Money
from tradingcore.domain.tape import CANCELLED, TradesRecorded
from tradingcore.domain.values import Symbol
from tradingcore.ports.clock import ManualClock
from tradingcore.ports.fees import FeeModel

TRADES_TOPIC: Final = f"{TradesRecorded.__module__}:{TradesRecorded.__qualname__}"
PAGE: Final = 2_000
SIGNS: Final = np.zeros(256, dtype=np.int64)
SIGNS[ord("B")], SIGNS[ord("S")] = 1, -1


@dataclass(slots=True)
class _Columns:
    parts: list[tuple[np.ndarray[Any, Any], ...]] = field(default_factory=list)

    def add(self, event: TradesRecorded) -> None:
        flags = np.array(event.flags, dtype=np.int64)
        keep = (flags & CANCELLED) == 0
        aggressors = np.frombuffer(event.aggressors.encode("ascii"), dtype=np.uint8)
        self.parts.append(
            tuple(
                column[keep]
                for column in (
                    np.array(event.trade_ids, dtype=np.int64),
                    np.array(event.timestamps_ms, dtype=np.int64),
                    np.array(event.prices, dtype=np.int64),
                    np.array(event.volumes, dtype=np.int64),
                    SIGNS[aggressors],
                )
            )
        )

    def series(self) -> TickSeries:
        ids, stamps, prices, volumes, signs = (
            np.concatenate(column) for column in zip(*self.parts, strict=True)
        )
        return TickSeries(ids, stamps, prices, volumes, signs, np.zeros(len(prices)))


def ticks_by_symbol(events: Iterable[TradesRecorded]) -> dict[str, TickSeries]:
    """Group trade batches by symbol, in stored order; cancelled trades are left out."""
    columns: dict[str, _Columns] = {}
    for event in events:
        columns.setdefault(event.symbol.ticker, _Columns()).add(event)
    return {symbol: columns[symbol].series() for symbol in sorted(columns)}


def recording_trades(path: Path) -> Iterator[TradesRecorded]:
    """Yield the TradesRecorded events of a recording file (checksum verified first)."""
    mapper = _decoder().mapper
    for _, stored in read_recording(path):
        if stored.topic == TRADES_TOPIC:
            event = mapper.to_domain_event(stored)
            if isinstance(event, TradesRecorded):
                yield event


def store_trades(url: str) -> Iterator[TradesRecorded]:
    """Yield the TradesRecorded events of a store, in notification order."""
    app = open_store(url, ManualClock(), existing=True)
    try:
        position = 1
        while True:
            page = app.recorder.select_notifications(
                start=position, limit=PAGE, topics=[TRADES_TOPIC], inclusive_of_start=True
            )
            if not page:
                return
            for notification in page:
                event = app.mapper.to_domain_event(notification)
                if isinstance(event, TradesRecorded):
                    yield event
            position = page[-1].id + 1
    finally:
        app.close()


def _decoder() -> TradingApplication:
    return open_store("memory://", ManualClock())


@dataclass(frozen=True, slots=True)
class SymbolReport:
    symbol: str
    replay: ReplayResult
    model: OnlineModel
    follow: FollowResult | None


@dataclass(frozen=True, slots=True)
class BacktestReport:
    symbols: list[SymbolReport]
    seconds: float

    @property
    def ticks(self) -> int:
        return sum(item.replay.stats.ticks for item in self.symbols)

    def signals(self) -> Iterator[tuple[str, SignalDecision]]:
        for item in self.symbols:
            for signal in item.replay.signals:
                yield item.symbol, signal

    def signals_sha256(self) -> str:
        """Return a hash of every signal field: equal hashes, bit-identical signals."""
        digest = hashlib.sha256()
        for symbol, signal in self.signals():
            digest.update(repr((symbol, signal.key())).encode())
        return digest.hexdigest()


def run_backtest(
    series: dict[str, TickSeries],
    config: AnalyticsConfig,
    models: dict[str, OnlineModel] | None = None,
    fee_model: FeeModel | None = None,
) -> BacktestReport:
    """Replay each symbol with its own model (from `models`, or a fresh one); the followed
    signals' fills are charged by `fee_model` (default: the B3 tables).

    Raises UnknownInstrument for a symbol without an instrument spec (no threshold, no P&L).
    """
    started = time.perf_counter()
    fee_model = fee_model or B3FeeModel()
    reports = []
    for symbol, ticks in series.items():
        model = (models or {}).get(symbol) or OnlineModel(config)
        instrument = infer_instrument(Symbol(symbol))  # a DomainError names the symbol
        threshold = threshold_units(instrument, model.config.threshold_ticks)
        replay = replay_symbol(ticks, model.config, model, threshold)
        follow = follow_signals(ticks.prices, replay.signals, instrument, fee_model)
        reports.append(SymbolReport(symbol, replay, model, follow))
    return BacktestReport(reports, time.perf_counter() - started)


def _money(value: Money) -> str:
    return f"R$ {value.text}"


def report_lines(report: BacktestReport) -> list[str]:
    rate = report.ticks / report.seconds if report.seconds else 0.0
    lines = [
        f"backtest: {len(report.symbols)} symbol(s), {report.ticks:,} ticks in "
        f"{report.seconds:.3f} s ({rate:,.0f} ticks/s)"
    ]
    for item in report.symbols:
        stats = item.replay.stats
        hit = f"{stats.hit_rate:.1%} ({stats.hits}/{stats.scored})" if stats.scored else "n/a"
        accuracy = item.model.accuracy
        lines.append(
            f"{item.symbol}: ticks {stats.ticks:,}; signals BUY {stats.signals['BUY']}, "
            f"SELL {stats.signals['SELL']}, HOLD {stats.signals['HOLD']}; hit rate {hit}; "
            f"model accuracy {'n/a' if accuracy is None else f'{accuracy:.1%}'}; "
            f"updates {item.replay.updates}; model {item.model.version}"
        )
        if item.follow is not None:
            lines.append(
                f"{item.symbol}: P&L {_money(item.follow.pnl)} gross, fees "
                f"{_money(item.follow.fees)}, net {_money(item.follow.net_pnl)}, max drawdown "
                f"{_money(item.follow.max_drawdown)}, contracts traded "
                f"{item.follow.contracts_traded} (simplified fill: each signal filled at its "
                "tick's price, 1 contract, B3 fees)"
            )
    lines.append(f"signals sha256 {report.signals_sha256()}")
    return lines
