"""The live path: one symbol's features, decision, labelling and model update, per tick."""

from __future__ import annotations

from collections import deque

import numpy as np

from tradingcore.analytics.config import AnalyticsConfig
from tradingcore.analytics.decision import (
    DIRECTION_CODES,
    PipelineStats,
    SignalDecision,
    decide,
)
from tradingcore.analytics.features import FeatureRow, IncrementalFeatures
from tradingcore.analytics.labels import label_move
from tradingcore.analytics.model import OnlineModel
from tradingcore.domain.signal import Direction

TickOutcome = tuple[FeatureRow, SignalDecision | None, bool]
"""The tick's feature row, the signal it caused (if any), and whether the model was updated."""


class SymbolPipeline:
    """Feeds one symbol's ticks through features and model; O(1) per tick between updates.

    Per tick i: (1) features from ticks before i, (2) a decision with the model as trained on
    batches completed before i, (3) tick i labels tick i-H (its future is now known) and a
    full batch of labelled ticks updates the model. `replay.replay_symbol` does the same.
    """

    def __init__(self, config: AnalyticsConfig, model: OnlineModel, threshold: int) -> None:
        self.config = config
        self.model = model
        self.threshold = threshold
        self.features = IncrementalFeatures(config.window, config.momentum_lag)
        self.direction = Direction.HOLD
        self.stats = PipelineStats()
        self._history: deque[tuple[FeatureRow, int, Direction | None]] = deque()
        self._batch_rows: list[FeatureRow] = []
        self._batch_labels: list[int] = []
        self._ready_from = config.ready_from

    def on_tick(
        self,
        trade_id: int,
        timestamp_ms: int,
        price_units: int,
        volume: int,
        aggressor_sign: int,
        book_delta: float,
    ) -> TickOutcome:
        index = self.stats.ticks
        row = self.features.row(book_delta)
        signal = None
        if index >= self._ready_from and self.model.trained:
            direction, confidence = decide(self.model.probabilities(row), self.config)
            if direction is not self.direction:
                self.direction = direction
                self.stats.signals[direction.value] += 1
                signal = SignalDecision(
                    index,
                    trade_id,
                    timestamp_ms,
                    price_units,
                    direction,
                    confidence,
                    row,
                    self.model.version,
                )
        self.features.push(price_units, volume, aggressor_sign)
        self.stats.ticks = index + 1
        history = self._history
        history.append((row, price_units, signal.direction if signal else None))
        updated = False
        if len(history) > self.config.horizon:
            updated = self._label(index - self.config.horizon, price_units)
        return row, signal, updated

    def _label(self, labelled_index: int, exit_price: int) -> bool:
        row, entry_price, direction = self._history.popleft()
        label = label_move(entry_price, exit_price, self.threshold)
        if direction is not None and direction is not Direction.HOLD:
            self.stats.scored += 1
            self.stats.hits += label == DIRECTION_CODES[direction]
        if labelled_index < self._ready_from or (
            (labelled_index - self._ready_from) % self.config.train_stride
        ):
            return False
        self._batch_rows.append(row)
        self._batch_labels.append(label)
        if len(self._batch_rows) < self.config.batch_size:
            return False
        rows = np.array(self._batch_rows, dtype=np.float64)
        labels = np.array(self._batch_labels, dtype=np.int64)
        self._batch_rows, self._batch_labels = [], []
        self.model.update(rows, labels)
        return True
