"""The model: exact inference, decisions on thresholds, deterministic versions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradingcore.analytics.config import AnalyticsConfig, InvalidAnalyticsConfig
from tradingcore.analytics.decision import decide
from tradingcore.analytics.model import OnlineModel
from tradingcore.domain.signal import Direction


def trained_model(seed: int = 3, updates: int = 3) -> OnlineModel:
    generator = np.random.default_rng(seed)
    model = OnlineModel(AnalyticsConfig(batch_size=60))
    for _ in range(updates):
        features = generator.normal(size=(60, 5)) * [50, 3, 1, 20, 0.001]
        labels = generator.integers(0, 3, 60)
        model.update(features, labels)
    return model


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=5, max_size=5), st.integers(0, 5))
def test_probabilities_with_any_row_equal_sklearn_predict_proba(
    row: list[float], seed: int
) -> None:
    model = trained_model(seed)
    expected = model.classifier.predict_proba(model.scaler.transform(np.array([row])))[0]
    assert np.allclose(model.probabilities(tuple(row)), expected, rtol=0, atol=1e-12)
    assert np.allclose(model.probability_matrix(np.array([row]))[0], expected, rtol=0, atol=1e-12)


def test_decide_with_probabilities_on_the_thresholds_gives_the_spec_directions() -> None:
    config = AnalyticsConfig()
    assert decide((0.1, 0.66, 0.24), config) == (Direction.BUY, 0.66)
    assert decide((0.7, 0.2, 0.1), config) == (Direction.SELL, 0.7)
    assert decide((0.2, 0.65, 0.15), config) == (Direction.HOLD, 0.65)
    assert decide((0.3, 0.3, 0.4), config) == (Direction.HOLD, 0.4)


def test_decide_with_configured_thresholds_uses_them() -> None:
    config = AnalyticsConfig(buy_threshold=0.5, sell_threshold=0.9)
    assert decide((0.2, 0.55, 0.25), config)[0] is Direction.BUY
    assert decide((0.85, 0.1, 0.05), config)[0] is Direction.HOLD


def test_update_with_the_same_batches_gives_the_same_version_and_parameters() -> None:
    first, second = trained_model(updates=2), trained_model(updates=2)
    assert first.version == second.version
    assert first.version.endswith("+2")
    assert first.classifier.coef_.tobytes() == second.classifier.coef_.tobytes()


def test_version_with_other_settings_differs() -> None:
    default, other = AnalyticsConfig(), AnalyticsConfig(horizon=30)
    assert OnlineModel(default).version != OnlineModel(other).version


def test_config_with_out_of_range_value_is_refused_naming_it() -> None:
    with pytest.raises(InvalidAnalyticsConfig, match="buy_threshold"):
        AnalyticsConfig(buy_threshold=1.5)
    with pytest.raises(InvalidAnalyticsConfig, match="unknown settings"):
        AnalyticsConfig.from_dict({"windw": 3})
