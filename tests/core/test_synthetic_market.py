"""The seeded synthetic market: reproducible, and with no built-in direction."""

from __future__ import annotations

from decimal import Decimal

from tradingcore.simulation.market import (
    MAX_DRIFT,
    PULL_TICKS,
    WIN,
    regime_drift,
    synthetic_session,
)

TICK = Decimal(5)  # WIN's tick
OPEN = Decimal(127_850)


def closes(seed: int, trades: int) -> list[Decimal]:
    return [event.trade.price for event in synthetic_session(WIN, seed=seed, trades=trades)]


def test_same_seed_same_session() -> None:
    assert list(synthetic_session(seed=3, trades=2_000)) == list(
        synthetic_session(seed=3, trades=2_000)
    )


def test_regime_drift_pulls_towards_the_open_and_never_leaves_a_probability() -> None:
    assert regime_drift(0.05, Decimal(0)) == 0.05
    assert regime_drift(0.05, Decimal(PULL_TICKS)) < 0 < regime_drift(-0.05, Decimal(-PULL_TICKS))
    for draw in (-MAX_DRIFT, 0.0, MAX_DRIFT):
        for displacement in (-10 * PULL_TICKS, -PULL_TICKS // 2, PULL_TICKS // 2, 10**6):
            assert -2 * MAX_DRIFT <= regime_drift(draw, Decimal(displacement)) <= 2 * MAX_DRIFT
    # symmetric: a move down is pulled up exactly as much as the same move up is pulled down
    assert regime_drift(0.0, Decimal(-70)) == -regime_drift(0.0, Decimal(70))


def test_sessions_go_both_ways_and_do_not_trend_away() -> None:
    """Over seeds, sessions end above and below their open, each session visits both sides
    of it, and none wanders further than a few pull distances (independent regimes drifted
    by ~450 ticks (1 sigma) over 30,000 trades)."""
    trades = 30_000
    ends = []
    for seed in range(8):
        prices = closes(seed, trades)
        moves = [(price - OPEN) / TICK for price in prices]
        ends.append(moves[-1])
        assert max(moves) > 0 > min(moves), f"seed {seed} stayed on one side of its open"
        assert max(abs(move) for move in moves) < 3 * PULL_TICKS, f"seed {seed} ran away"
    assert max(ends) > 0 > min(ends)
