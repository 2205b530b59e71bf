"""The connection-state machine folded from TStateCallback pairs."""

from __future__ import annotations

import pytest

from adapters.profitdll.connection import ConnectionTracker, describe_state

LOGIN, ROUTING, MARKET, ACTIVATION = 0, 1, 2, 3


def test_apply_with_documented_startup_sequence_is_healthy() -> None:
    tracker = ConnectionTracker()
    for pair in [(ACTIVATION, 0), (LOGIN, 0), (MARKET, 1), (MARKET, 4)]:
        state = tracker.apply(*pair)

    assert state.healthy and not state.routing
    assert tracker.failure is None


@pytest.mark.parametrize("routing_result", [2, 5])
def test_apply_with_routing_connected_or_broker_connected_sets_routing(
    routing_result: int,
) -> None:
    tracker = ConnectionTracker()

    assert tracker.apply(ROUTING, routing_result).routing


@pytest.mark.parametrize(
    ("pair", "cause"),
    [((LOGIN, 2), "LOGIN_INVALID_PASS"), ((LOGIN, 1), "LOGIN_INVALID"),
     ((ACTIVATION, 1), "CONNECTION_ACTIVATE_INVALID")],
)  # fmt: skip
def test_apply_with_refused_login_records_the_cause(pair: tuple[int, int], cause: str) -> None:
    tracker = ConnectionTracker()
    tracker.apply(MARKET, 4)

    state = tracker.apply(*pair)

    assert not state.healthy
    assert tracker.failure is not None and cause in tracker.failure


@pytest.mark.parametrize("result", [0, 3, 6])
def test_apply_with_market_lost_or_partial_is_unhealthy(result: int) -> None:
    tracker = ConnectionTracker()
    tracker.apply(LOGIN, 0)
    tracker.apply(MARKET, 4)

    state = tracker.apply(MARKET, result)

    assert not state.healthy and state.login


def test_describe_with_unknown_pair_still_names_it() -> None:
    assert describe_state(9, 77) == "state type 9: result 77"
    assert describe_state(MARKET, 6).startswith("market data: MARKET_PARTIAL_CONNECTED")
