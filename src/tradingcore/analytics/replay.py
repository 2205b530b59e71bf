"""The replay path: a whole symbol series at once, with the live path's exact decisions.

Features come from `vectorized.compute_features`; between two model updates the model is
fixed, so each segment's probabilities are computed with numpy. numpy's `exp` may differ
from `math.exp` by an ulp, so rows within CANDIDATE_MARGIN of a threshold, and every row
that emits a signal, are recomputed with the live path's exact `OnlineModel.probabilities`:
decisions and confidences are bit-identical to `SymbolPipeline`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from tradingcore.analytics.config import AnalyticsConfig
from tradingcore.analytics.decision import (
    DIRECTION_CODES,
    PipelineStats,
    SignalDecision,
    decide,
)
from tradingcore.analytics.labels import HOLD, label_series
from tradingcore.analytics.model import OnlineModel
from tradingcore.analytics.vectorized import FloatArray, IntArray, compute_features
from tradingcore.domain.signal import Direction

CANDIDATE_MARGIN: Final = 1e-9
CODES: Final = {**DIRECTION_CODES, Direction.HOLD: HOLD}
DIRECTIONS: Final = {code: direction for direction, code in CODES.items()}


@dataclass(frozen=True, slots=True)
class TickSeries:
    """One symbol's ticks in column form (prices in integer units)."""

    trade_ids: IntArray
    timestamps_ms: IntArray
    prices: IntArray
    volumes: IntArray
    aggressor_signs: IntArray
    book_deltas: FloatArray

    def __len__(self) -> int:
        return len(self.prices)


@dataclass(frozen=True, slots=True)
class ReplayResult:
    features: FloatArray
    signals: list[SignalDecision]
    stats: PipelineStats
    updates: int
    """Model updates made during this replay."""


def replay_symbol(
    ticks: TickSeries, config: AnalyticsConfig, model: OnlineModel, threshold: int
) -> ReplayResult:
    """Run a series through features, decisions and batch updates; `model` is trained in place.

    Like `SymbolPipeline` followed by `finish`: an update still pending at the end is applied.
    """
    count = len(ticks)
    features = compute_features(
        ticks.prices,
        ticks.volumes,
        ticks.aggressor_signs,
        ticks.book_deltas,
        window=config.window,
        momentum_lag=config.momentum_lag,
    )
    horizon, size, ready = config.horizon, config.batch_size, config.ready_from
    labels = label_series(ticks.prices, horizon, threshold)
    trainable = np.arange(ready, max(ready, count - horizon), config.train_stride, dtype=np.int64)
    batches = len(trainable) // size
    stats = PipelineStats(ticks=count)
    signals: list[SignalDecision] = []
    state = Direction.HOLD
    start = 0
    for batch in range(batches + 1):
        if batch < batches:
            rows = trainable[batch * size : (batch + 1) * size]
            # The batch completes at tick rows[-1] + horizon; its update counts from `end` on.
            end = min(int(rows[-1]) + horizon + config.update_delay, count)
        else:
            rows, end = trainable[:0], count
        if model.trained and end > max(start, ready):
            state = _decide_segment(
                ticks, features, model, config, max(start, ready), end, state, signals
            )
        if batch < batches:
            model.update(features[rows], labels[rows])
        start = end
    for signal in signals:
        stats.signals[signal.direction.value] += 1
        if signal.direction is not Direction.HOLD and signal.index < len(labels):
            stats.scored += 1
            stats.hits += int(labels[signal.index]) == DIRECTION_CODES[signal.direction]
    return ReplayResult(features, signals, stats, batches)


def _decide_segment(
    ticks: TickSeries,
    features: FloatArray,
    model: OnlineModel,
    config: AnalyticsConfig,
    start: int,
    end: int,
    state: Direction,
    signals: list[SignalDecision],
) -> Direction:
    """Append the signals of ticks start..end-1 (one model version); return the last state."""
    probabilities = model.probability_matrix(features[start:end])
    candidate = (probabilities[:, 1] > config.buy_threshold - CANDIDATE_MARGIN) | (
        probabilities[:, 0] > config.sell_threshold - CANDIDATE_MARGIN
    )
    directions = np.full(end - start, HOLD, dtype=np.int64)
    confidences: dict[int, float] = {}
    for offset in np.flatnonzero(candidate).tolist():
        row = tuple(features[start + offset].tolist())
        direction, confidences[offset] = decide(model.probabilities(row), config)
        directions[offset] = CODES[direction]
    previous = np.empty_like(directions)
    previous[0] = CODES[state]
    previous[1:] = directions[:-1]
    for offset in np.flatnonzero(directions != previous).tolist():
        index = start + offset
        row = tuple(features[index].tolist())
        confidence = confidences.get(offset)
        if confidence is None:
            _, confidence = decide(model.probabilities(row), config)
        signals.append(
            SignalDecision(
                index,
                int(ticks.trade_ids[index]),
                int(ticks.timestamps_ms[index]),
                int(ticks.prices[index]),
                DIRECTIONS[int(directions[offset])],
                confidence,
                row,
                model.version,
            )
        )
    return DIRECTIONS[int(directions[-1])]
