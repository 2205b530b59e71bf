"""Poison and flood through the analytics host's real WebSocket: one bad message never blinds it.

Bounded: each test sends a few hundred messages and waits at most 30 s for them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from hosts.analytics.service import AnalyticsService, AnalyticsSettings
from tests.analytics.api_stub import ApiStub
from tests.analytics.factories import fast_config, session, tick_json
from tests.analytics.test_host import send_all

YEAR_2126_MS = 4_949_909_918_654


@pytest.fixture
def service(tmp_path: Path) -> Iterator[AnalyticsService]:
    api = ApiStub()
    settings = AnalyticsSettings(
        store_url=f"sqlite:///{tmp_path / 'events.sqlite'}",
        port=0,
        metrics_port=0,
        api_url=api.url,
        api_key="test-key",
        model_path=tmp_path / "model.json",
        log_dir=tmp_path / "logs",
        config=fast_config(),
        feature_batch=200,
    )
    host = AnalyticsService(settings)
    host.start()
    yield host
    host.stop()
    api.close()


def with_timestamp(tick: str, timestamp: int, trade_id: int) -> str:
    body = json.loads(tick)
    body.update(timestamp=timestamp, trade_id=trade_id)
    return json.dumps(body)


def test_tick_from_the_future_is_refused_and_the_ticks_after_it_still_flow(
    service: AnalyticsService,
) -> None:
    ticks = [tick_json(event) for event in session(250, seed=5)]
    poison = with_timestamp(ticks[149], YEAR_2126_MS, 999_999)

    send_all(service, [*ticks[:150], poison, *ticks[150:]])

    assert service.server.rejected["timestamp_implausible"] == 1
    assert service.server.rejected.get("timestamp_backwards", 0) == 0
    assert service.server.accepted == 250
