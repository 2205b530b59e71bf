"""The signal body the analytics host posts is one the API host's schema accepts."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from hosts.analytics.engine import signal_body
from tradingcore.domain.signal import Direction, Signal
from tradingcore.domain.values import Symbol


def test_signal_body_with_every_field_is_accepted_by_the_api_schema() -> None:
    schemas = pytest.importorskip("hosts.api.schemas")
    signal = Signal.generate(
        symbol=Symbol("WINZ25"),
        direction=Direction.SELL,
        confidence=0.71,
        features={
            "aggressor_flow": -41.0,
            "volatility_roll": 12.5,
            "volume_anomaly": 0.8,
            "book_delta": -6.0,
            "price_momentum": -0.00031,
        },
        model_version="sgd-v1-1f3a9c2e+12",
        tick_trade_id=1510,
        tick_timestamp_ms=1_764_590_400_123,
        price=127855.0,
        at=datetime(2025, 12, 1, 12, tzinfo=UTC),
    )
    accepted = schemas.SignalIn.model_validate_json(json.dumps(signal_body(signal)))
    assert accepted.signal_id == str(signal.id)
    assert accepted.model_version == "sgd-v1-1f3a9c2e+12"
