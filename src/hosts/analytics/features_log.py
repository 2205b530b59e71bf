"""Feature rows buffered per symbol and session, handed to the store writer in batches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from hosts.analytics.writer import FeatureBatch
from tradingcore.analytics.features import FeatureRow
from tradingcore.domain.values import Symbol


@dataclass(slots=True)
class _Buffer:
    session: date
    trade_ids: list[int] = field(default_factory=list)
    timestamps_ms: list[int] = field(default_factory=list)
    rows: list[FeatureRow] = field(default_factory=list)


class FeatureBuffer:
    """Collects each symbol's rows; a full batch, a new session or `flush_all` sends them."""

    def __init__(self, batch: int, send: Callable[[FeatureBatch], None]) -> None:
        self.batch = batch
        self.send = send
        self._buffers: dict[Symbol, _Buffer] = {}

    def add(
        self,
        symbol: Symbol,
        session: date,
        trade_id: int,
        timestamp_ms: int,
        row: FeatureRow,
        at: datetime,
    ) -> None:
        buffer = self._buffers.get(symbol)
        if buffer is None or buffer.session != session:
            if buffer is not None:
                self._send(symbol, buffer, at)
            buffer = self._buffers[symbol] = _Buffer(session)
        buffer.trade_ids.append(trade_id)
        buffer.timestamps_ms.append(timestamp_ms)
        buffer.rows.append(row)
        if len(buffer.rows) >= self.batch:
            self._send(symbol, buffer, at)

    def release(self, symbol: Symbol, at: datetime) -> None:
        """Send a symbol's rows and forget its buffer (the host no longer follows it)."""
        buffer = self._buffers.pop(symbol, None)
        if buffer is not None:
            self._send(symbol, buffer, at)

    def flush_all(self, at: datetime) -> None:
        for symbol, buffer in self._buffers.items():
            self._send(symbol, buffer, at)

    def _send(self, symbol: Symbol, buffer: _Buffer, at: datetime) -> None:
        if buffer.rows:
            self.send(
                FeatureBatch(
                    symbol,
                    buffer.session,
                    tuple(buffer.trade_ids),
                    tuple(buffer.timestamps_ms),
                    tuple(buffer.rows),
                    at,
                )
            )
            buffer.trade_ids, buffer.timestamps_ms, buffer.rows = [], [], []
