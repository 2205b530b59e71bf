"""Feature rows as events: the values a model saw for each tick, recorded in batches."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from tradingcore.domain.aggregate import AggregateRoot, DomainEvent
from tradingcore.domain.errors import InvalidSignal
from tradingcore.domain.values import Symbol, deterministic_id

FEATURE_NAMES: Final = (
    "aggressor_flow",
    "volatility_roll",
    "volume_anomaly",
    "book_delta",
    "price_momentum",
)
"""The spec's five features (section 5.2), in the order rows hold them."""


def feature_series_id(symbol: Symbol, session: date, pipeline_version: str) -> uuid.UUID:
    return deterministic_id("features", symbol.full_symbol, session.isoformat(), pipeline_version)


@dataclass(frozen=True, kw_only=True)
class FeaturesComputed(DomainEvent):
    """Feature rows for a batch of ticks of one symbol; row i belongs to tick i."""

    symbol: Symbol
    session: date
    pipeline_version: str
    trade_ids: tuple[int, ...]
    timestamps_ms: tuple[int, ...]
    names: tuple[str, ...]
    rows: tuple[tuple[float, ...], ...]
    """One tuple per tick, values in the order of `names` (NaN while a window warms up)."""

    def apply(self, aggregate: FeatureSeries) -> None:
        aggregate.symbol = self.symbol
        aggregate.session = self.session
        aggregate.pipeline_version = self.pipeline_version
        aggregate.names = self.names
        aggregate.row_count += len(self.rows)
        if self.trade_ids:
            aggregate.last_trade_id = self.trade_ids[-1]


class FeatureSeries(AggregateRoot[FeaturesComputed]):
    """The feature rows of one symbol in one session, from one pipeline version."""

    def _reset(self) -> None:
        self.symbol = Symbol("WINZ25")
        self.session = date(1970, 1, 1)
        self.pipeline_version = ""
        self.names: tuple[str, ...] = ()
        self.row_count = 0
        self.last_trade_id: int | None = None

    @classmethod
    def start(cls, symbol: Symbol, session: date, pipeline_version: str) -> FeatureSeries:
        series = cls.__new__(cls)
        AggregateRoot.__init__(series, feature_series_id(symbol, session, pipeline_version))
        series._reset()
        series.symbol, series.session, series.pipeline_version = symbol, session, pipeline_version
        return series

    def record(
        self,
        trade_ids: tuple[int, ...],
        timestamps_ms: tuple[int, ...],
        names: tuple[str, ...],
        rows: tuple[tuple[float, ...], ...],
        at: datetime,
    ) -> FeaturesComputed:
        """Record one batch of feature rows; every row must have one value per name."""
        if not (len(trade_ids) == len(timestamps_ms) == len(rows)) or not rows:
            raise InvalidSignal(
                "feature batch: ids, timestamps and rows must be non-empty and of equal length"
            )
        if any(len(row) != len(names) for row in rows):
            raise InvalidSignal(f"feature batch: every row needs {len(names)} values ({names})")
        if self.names and names != self.names:
            raise InvalidSignal(
                f"feature batch: names {names} differ from the series' {self.names}"
            )
        return self._trigger(
            FeaturesComputed,
            at,
            symbol=self.symbol,
            session=self.session,
            pipeline_version=self.pipeline_version,
            trade_ids=trade_ids,
            timestamps_ms=timestamps_ms,
            names=names,
            rows=rows,
        )
