"""Feature rows to the store: one FeatureSeries per symbol and session, stored in batches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Final

from tradingcore.analytics.features import FEATURE_NAMES, FeatureRow
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.features import FeatureSeries, feature_series_id
from tradingcore.domain.values import Symbol

MAX_BUFFERED: Final = 200_000
"""Rows kept per symbol while the store refuses writes; beyond this the oldest are dropped."""

FailureHandler = Callable[[str, BaseException, dict[str, object]], None]


@dataclass(slots=True)
class _Buffer:
    session: date
    trade_ids: list[int] = field(default_factory=list)
    timestamps_ms: list[int] = field(default_factory=list)
    rows: list[FeatureRow] = field(default_factory=list)


class FeatureRecorder:
    """Buffers each symbol's rows and stores them as FeaturesComputed events."""

    def __init__(
        self,
        app: TradingApplication,
        pipeline_version: str,
        batch: int,
        on_failure: FailureHandler,
    ) -> None:
        self.app = app
        self.pipeline_version = pipeline_version
        self.batch = batch
        self.on_failure = on_failure
        self.stored_rows = 0
        self.dropped_rows = 0
        self._buffers: dict[Symbol, _Buffer] = {}
        self._series: dict[tuple[Symbol, date], FeatureSeries] = {}

    def add(
        self, symbol: Symbol, session: date, trade_id: int, timestamp_ms: int, row: FeatureRow
    ) -> None:
        buffer = self._buffers.get(symbol)
        if buffer is None or buffer.session != session:
            if buffer is not None:
                self._flush(symbol, buffer)
            buffer = self._buffers[symbol] = _Buffer(session)
        buffer.trade_ids.append(trade_id)
        buffer.timestamps_ms.append(timestamp_ms)
        buffer.rows.append(row)
        if len(buffer.rows) >= self.batch:
            self._flush(symbol, buffer)

    def flush_all(self) -> None:
        for symbol, buffer in list(self._buffers.items()):
            self._flush(symbol, buffer)

    def _flush(self, symbol: Symbol, buffer: _Buffer) -> None:
        if not buffer.rows:
            return
        key = (symbol, buffer.session)
        try:
            series = self._series.get(key) or self._open(symbol, buffer.session)
            series.record(
                tuple(buffer.trade_ids),
                tuple(buffer.timestamps_ms),
                FEATURE_NAMES,
                tuple(buffer.rows),
                self.app.clock.now(),
            )
            self.app.store(series)
        except Exception as error:
            # The in-memory series may be ahead of the store: reload it on the next flush and
            # keep the rows buffered, so a passing store outage loses nothing.
            self._series.pop(key, None)
            self.on_failure("features", error, {"symbol": symbol.ticker, "rows": len(buffer.rows)})
            self._trim(buffer)
            return
        self._series[key] = series
        self.stored_rows += len(buffer.rows)
        buffer.trade_ids, buffer.timestamps_ms, buffer.rows = [], [], []

    def _open(self, symbol: Symbol, session: date) -> FeatureSeries:
        series_id = feature_series_id(symbol, session, self.pipeline_version)
        if self.app.exists(series_id):
            return self.app.load_fresh(FeatureSeries, series_id)
        return FeatureSeries.start(symbol, session, self.pipeline_version)

    def _trim(self, buffer: _Buffer) -> None:
        excess = len(buffer.rows) - MAX_BUFFERED
        if excess > 0:
            del buffer.trade_ids[:excess], buffer.timestamps_ms[:excess], buffer.rows[:excess]
            self.dropped_rows += excess
