"""Feature rows as events: the values a model saw for each tick, recorded in batches.

A tick's row is recorded once. A symbol's tape is in time order (timestamps never go back,
several trades may share a millisecond), so a series keeps a high-water mark, the last
timestamp recorded and the trade ids recorded at that timestamp, and `record` leaves out rows
at or below it: ticks re-sent after a restart are not recorded a second time.
"""

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
            last = self.timestamps_ms[-1]
            at_last = {
                trade_id
                for trade_id, stamp in zip(self.trade_ids, self.timestamps_ms, strict=True)
                if stamp == last
            }
            if last == aggregate.last_timestamp_ms:
                at_last |= aggregate.trade_ids_at_last
            aggregate.last_timestamp_ms = last
            aggregate.trade_ids_at_last = frozenset(at_last)


class FeatureSeries(AggregateRoot[FeaturesComputed]):
    """The feature rows of one symbol in one session, from one pipeline version."""

    def _reset(self) -> None:
        self.symbol = Symbol("WINZ25")
        self.session = date(1970, 1, 1)
        self.pipeline_version = ""
        self.names: tuple[str, ...] = ()
        self.row_count = 0
        self.last_trade_id: int | None = None
        self.last_timestamp_ms = -1
        """The high-water mark: the latest tick timestamp recorded..."""
        self.trade_ids_at_last: frozenset[int] = frozenset()
        """...and the trade ids recorded at exactly that timestamp."""

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
    ) -> FeaturesComputed | None:
        """Record the rows of ticks not recorded yet; return None if every row already was.

        Every row must have one value per name. A row is left out when its tick is at or below
        the high-water mark: an earlier timestamp than the last recorded, or the same timestamp
        and a trade id already recorded at it (the tape's order makes both re-sent ticks).
        """
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
        keep = self._new_rows(trade_ids, timestamps_ms)
        if not keep:
            return None
        if len(keep) < len(rows):
            trade_ids = tuple(trade_ids[index] for index in keep)
            timestamps_ms = tuple(timestamps_ms[index] for index in keep)
            rows = tuple(rows[index] for index in keep)
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

    def _new_rows(self, trade_ids: tuple[int, ...], timestamps_ms: tuple[int, ...]) -> list[int]:
        """Return the positions of the rows above the high-water mark (and not repeated)."""
        last = self.last_timestamp_ms
        seen = set(self.trade_ids_at_last)
        keep: list[int] = []
        for index, (trade_id, stamp) in enumerate(zip(trade_ids, timestamps_ms, strict=True)):
            if stamp > last:
                last, seen = stamp, set()
            elif stamp < last or trade_id in seen:
                continue
            seen.add(trade_id)
            keep.append(index)
        return keep
