"""Live pipeline and replay: labels only once known, warm-up, identical signals both ways."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.analytics.factories import WIN_THRESHOLD, fast_config, series_of, session
from tradingcore.analytics.config import AnalyticsConfig
from tradingcore.analytics.decision import SignalDecision
from tradingcore.analytics.labels import BUY, HOLD, SELL, label_move, label_series
from tradingcore.analytics.model import OnlineModel
from tradingcore.analytics.pipeline import SymbolPipeline
from tradingcore.analytics.replay import TickSeries, replay_symbol
from tradingcore.analytics.state import model_state


def run_live(
    series: TickSeries, config: AnalyticsConfig, model: OnlineModel | None = None
) -> tuple[list[SignalDecision], SymbolPipeline, list[int]]:
    pipeline = SymbolPipeline(config, model or OnlineModel(config), WIN_THRESHOLD)
    signals, update_ticks = [], []
    for index in range(len(series)):
        _, signal, updated = pipeline.on_tick(
            int(series.trade_ids[index]),
            int(series.timestamps_ms[index]),
            int(series.prices[index]),
            int(series.volumes[index]),
            int(series.aggressor_signs[index]),
            float(series.book_deltas[index]),
        )
        if signal is not None:
            signals.append(signal)
        if updated:
            update_ticks.append(index)
    pipeline.finish()
    return signals, pipeline, update_ticks


def test_label_with_moves_around_the_threshold_gives_buy_sell_hold() -> None:
    assert label_move(100, 110, 10) == BUY
    assert label_move(100, 109, 10) == HOLD
    assert label_move(100, 90, 10) == SELL
    labels = label_series(np.array([100, 110, 95, 100, 80]), 1, 10)
    assert labels.tolist() == [BUY, SELL, HOLD, SELL]


@pytest.mark.parametrize("delay", [1, 7, 79])
def test_update_with_a_full_batch_applies_update_delay_ticks_after_its_last_label(
    delay: int,
) -> None:
    config = fast_config(update_delay=delay)
    _, pipeline, update_ticks = run_live(series_of(session(600)), config)
    last_row_of_first_batch = config.ready_from + (config.batch_size - 1) * config.train_stride
    # The last label is known at tick last_row + H; the update counts from `delay` ticks later.
    assert update_ticks[0] == last_row_of_first_batch + config.horizon + delay
    assert pipeline.model.updates >= len(update_ticks)


def test_pipeline_during_warm_up_emits_no_signal() -> None:
    config = fast_config(warmup_updates=3)
    signals, _, update_ticks = run_live(series_of(session(1_500)), config)
    assert signals, "the fast config should signal after the warm-up"
    assert min(signal.index for signal in signals) > update_ticks[2]


@settings(max_examples=8, deadline=None)
@given(
    seed=st.integers(0, 1_000),
    threshold=st.sampled_from((0.4, 0.5, 0.6)),
    with_book=st.booleans(),
    delay=st.sampled_from((1, 7, 79)),
)
def test_replay_with_any_session_gives_the_live_signals_bit_for_bit(
    seed: int, threshold: float, with_book: bool, delay: int
) -> None:
    config = fast_config(buy_threshold=threshold, sell_threshold=threshold, update_delay=delay)
    series = series_of(session(1_200, seed=seed), with_book=with_book)
    live_signals, pipeline, _ = run_live(series, config)
    replay_model = OnlineModel(config)
    result = replay_symbol(series, config, replay_model, WIN_THRESHOLD)
    assert [signal.key() for signal in result.signals] == [s.key() for s in live_signals]
    assert model_state(replay_model) == model_state(pipeline.model)
    assert result.stats == pipeline.stats


def test_replay_twice_with_the_same_ticks_gives_the_same_signals() -> None:
    config = fast_config()
    series = series_of(session(2_000, seed=5))
    first = replay_symbol(series, config, OnlineModel(config), WIN_THRESHOLD)
    second = replay_symbol(series, config, OnlineModel(config), WIN_THRESHOLD)
    assert first.signals and [s.key() for s in first.signals] == [s.key() for s in second.signals]
    assert first.features.tobytes() == second.features.tobytes()


def test_signals_with_a_trained_model_record_features_and_version() -> None:
    config = fast_config()
    signals, pipeline, _ = run_live(series_of(session(1_500)), config)
    first = signals[0]
    assert first.direction.value in ("BUY", "SELL")
    assert set(first.feature_map()) == {
        "aggressor_flow",
        "volatility_roll",
        "volume_anomaly",
        "book_delta",
        "price_momentum",
    }
    assert first.model_version.startswith("sgd-v1-")
    assert 0.5 < first.confidence <= 1.0
    stats = pipeline.stats
    assert stats.signals["BUY"] + stats.signals["SELL"] >= stats.scored


@pytest.mark.parametrize("stride", [1, 3])
def test_replay_with_a_loaded_model_continues_like_live(stride: int) -> None:
    config = fast_config(train_stride=stride)
    warm = series_of(session(800, seed=2))
    live_model, replay_model = OnlineModel(config), OnlineModel(config)
    run_live(warm, config, live_model)
    replay_symbol(warm, config, replay_model, WIN_THRESHOLD)
    later = series_of(session(800, seed=3))
    live_signals, _, _ = run_live(later, config, live_model)
    result = replay_symbol(later, config, replay_model, WIN_THRESHOLD)
    assert [s.key() for s in result.signals] == [s.key() for s in live_signals]
