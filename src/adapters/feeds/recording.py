"""Replay the trades of a tradingcore recording (its `TradesRecorded` events) as a feed."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from pathlib import Path

from adapters.feeds.pacing import Pacer
from adapters.feeds.replay import Record, ReplayFeed
from adapters.recordings import read_recording, verify_recording
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.tape import CANCELLED, CROSS, Trade, TradesRecorded
from tradingcore.domain.values import Aggressor, Symbol, units_to_price
from tradingcore.ports.clock import ManualClock

TRADES_TOPIC_SUFFIX = ":TradesRecorded"


class RecordingFeed(ReplayFeed):
    """Each symbol's trades in recorded order; symbols interleaved by timestamp.

    A row that cannot be a trade (unknown aggressor, columns of different lengths, a bad
    symbol) is reported through `on_invalid` with the reason; the rest of its batch still plays.
    """

    name = "recording"

    def __init__(self, path: Path, *, pacer: Pacer | None = None) -> None:
        super().__init__(pacer)
        self.path = Path(path)
        self.info = verify_recording(self.path)  # fail early, with the reason, on a bad file
        # Only the mapper is used (to decode stored events); no store is opened.
        self._mapper = TradingApplication(clock=ManualClock()).mapper

    def records(self) -> Iterator[Record]:
        batches: dict[Symbol, list[TradesRecorded]] = {}
        for notification_id, stored in read_recording(self.path):
            if not stored.topic.endswith(TRADES_TOPIC_SUFFIX):
                continue
            try:
                event = self._mapper.to_domain_event(stored)
            except Exception as error:
                yield (f"malformed event: cannot decode ({error})", _where(notification_id))
                continue
            if not isinstance(event, TradesRecorded):
                yield (f"malformed event: {type(event).__name__}", _where(notification_id))
                continue
            if self.symbols and event.symbol not in self.symbols:
                continue
            batches.setdefault(event.symbol, []).append(event)
        streams = [_rows(events) for events in batches.values()]
        yield from heapq.merge(*streams, key=_timestamp)

    def __repr__(self) -> str:
        return f"RecordingFeed({self.path})"


def _timestamp(record: Record) -> int:
    # Invalid rows sort with timestamp 0 within their stream's order; merge keeps stream order.
    return record.timestamp_ms if isinstance(record, Trade) else 0


def _where(notification_id: int) -> dict[str, object]:
    return {"notification_id": notification_id}


def _rows(events: list[TradesRecorded]) -> Iterator[Record]:
    for event in events:
        columns = (
            event.trade_ids,
            event.timestamps_ms,
            event.prices,
            event.volumes,
            event.aggressors,
            event.flags,
        )
        lengths = {len(column) for column in columns}
        if len(lengths) != 1:
            yield (
                f"malformed batch: columns differ in length {sorted(lengths)}",
                {"symbol": event.symbol.ticker, "first_sequence": event.first_sequence},
            )
            continue
        for row in zip(*columns, strict=True):
            trade_id, timestamp_ms, price, volume, aggressor, flags = row
            try:
                yield Trade(
                    event.symbol,
                    int(trade_id),
                    int(timestamp_ms),
                    units_to_price(int(price)),
                    int(volume),
                    Aggressor(aggressor),
                    bool(flags & CANCELLED),
                    bool(flags & CROSS),
                )
            except (ValueError, TypeError) as error:
                yield (f"malformed trade: {error}", {"symbol": event.symbol.ticker, "row": row})
