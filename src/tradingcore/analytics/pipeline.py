"""The live path: one symbol's features, decision, labelling and model update, per tick."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Protocol

import numpy as np
import numpy.typing as npt

from tradingcore.analytics.config import AnalyticsConfig
from tradingcore.analytics.decision import (
    DIRECTION_CODES,
    PipelineStats,
    SignalDecision,
    decide,
)
from tradingcore.analytics.features import FeatureRow, IncrementalFeatures
from tradingcore.analytics.labels import label_move
from tradingcore.analytics.model import FloatArray, OnlineModel
from tradingcore.domain.signal import Direction

TickOutcome = tuple[FeatureRow, SignalDecision | None, bool]
"""The tick's feature row, the signal it caused (if any), and whether a model update was
applied on this tick (before its decision)."""


class Trainer(Protocol):
    """Runs a model's training; the host runs it on another thread or in another process."""

    def train(
        self, model: OnlineModel, rows: FloatArray, labels: npt.NDArray[np.int64]
    ) -> Callable[[], None]:
        """Start `model.train(rows, labels)`; return a function that waits until it is done
        (the model then holds what `train` would have left in it; re-raising)."""
        ...


class TrainNow:
    """Train on the calling thread, at once (tests and tools)."""

    def train(
        self, model: OnlineModel, rows: FloatArray, labels: npt.NDArray[np.int64]
    ) -> Callable[[], None]:
        model.train(rows, labels)
        return _done


def _done() -> None:
    """Nothing to wait for."""


class SymbolPipeline:
    """Feeds one symbol's ticks through features and model; O(1) per tick between updates.

    Per tick i: (0) an update whose batch completed at tick i - update_delay is applied,
    (1) features from ticks before i, (2) a decision with the model in use, (3) tick i labels
    tick i-H (its future is now known), and a full batch starts training (on the trainer's
    thread) for use from tick i + update_delay. `replay.replay_symbol` does the same.
    """

    def __init__(
        self,
        config: AnalyticsConfig,
        model: OnlineModel,
        threshold: int,
        trainer: Trainer | None = None,
    ) -> None:
        self.config = config
        self.model = model
        self.threshold = threshold
        self.trainer = trainer or TrainNow()
        self._pending: Callable[[], None] | None = None
        self._pending_from = 0
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
        applied = self._pending is not None and index >= self._pending_from and self.finish()
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
        if len(history) > self.config.horizon:
            self._label(index, price_units)
        return row, signal, applied

    def finish(self) -> bool:
        """Wait for a pending update and apply it; return whether there was one."""
        pending, self._pending = self._pending, None
        if pending is None:
            return False
        pending()
        self.model.apply()
        return True

    def _label(self, index: int, exit_price: int) -> None:
        labelled_index = index - self.config.horizon
        row, entry_price, direction = self._history.popleft()
        label = label_move(entry_price, exit_price, self.threshold)
        if direction is not None and direction is not Direction.HOLD:
            self.stats.scored += 1
            self.stats.hits += label == DIRECTION_CODES[direction]
        if labelled_index < self._ready_from or (
            (labelled_index - self._ready_from) % self.config.train_stride
        ):
            return
        self._batch_rows.append(row)
        self._batch_labels.append(label)
        if len(self._batch_rows) < self.config.batch_size:
            return
        rows = np.array(self._batch_rows, dtype=np.float64)
        labels = np.array(self._batch_labels, dtype=np.int64)
        self._batch_rows, self._batch_labels = [], []
        self._pending = self.trainer.train(self.model, rows, labels)
        self._pending_from = index + self.config.update_delay
