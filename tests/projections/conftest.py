"""Fixtures for projection tests: a populated store and a clock that starts before it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tradingcore.ports.clock import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    # The populated sessions start on 2025-12-01: the clock must not be ahead of the tape.
    return ManualClock(datetime(2025, 11, 30, tzinfo=UTC))
