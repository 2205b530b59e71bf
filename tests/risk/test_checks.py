"""Each pre-trade check alone: it passes a sound order and denies with its own reason code."""

from __future__ import annotations

import uuid
from datetime import time, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.risk.factories import NOW, WIN, context, intent
from tradingcore.domain.values import Side
from tradingcore.risk.calendar import InvalidCalendar, SessionCalendar
from tradingcore.risk.checks import (
    CHECKS,
    RecentOrder,
    check_daily_loss,
    check_duplicate,
    check_position,
    evaluate,
    is_risk_reducing,
)
from tradingcore.risk.limits import InvalidRiskLimits, RiskLimits

LIMITS = RiskLimits()
CALENDAR = SessionCalendar()


def code_of(**changes: object) -> str:
    return evaluate(context(**changes), LIMITS, CALENDAR).reason_code


def test_evaluate_with_sound_order_approves() -> None:
    decision = evaluate(context(), LIMITS, CALENDAR)

    assert decision.approved
    assert decision.reason_code == ""


def test_evaluate_with_engaged_kill_switch_denies() -> None:
    assert code_of(kill_switch_engaged=True) == "KILL_SWITCH_ENGAGED"


def test_evaluate_with_unreadable_kill_switch_fails_closed() -> None:
    assert code_of(kill_switch_engaged=None) == "RISK_STATE_UNREADABLE"


def test_evaluate_outside_session_hours_denies() -> None:
    assert code_of(now=NOW.replace(hour=23)) == "OUTSIDE_TRADING_HOURS"


def test_evaluate_on_a_holiday_denies() -> None:
    calendar = SessionCalendar(holidays=frozenset({NOW.date()}))

    decision = evaluate(context(), LIMITS, calendar)

    assert decision.reason_code == "OUTSIDE_TRADING_HOURS"


def test_calendar_parse_with_bad_hours_names_the_format() -> None:
    with pytest.raises(InvalidCalendar, match="HH:MM-HH:MM"):
        SessionCalendar.parse("9am-5pm")


def test_calendar_with_sao_paulo_hours_opens_at_nine_local() -> None:
    calendar = SessionCalendar.parse("09:00-18:25")

    assert calendar.opens == time(9, 0)
    assert not calendar.is_open(NOW.replace(hour=11, minute=59))  # 08:59 in São Paulo
    assert calendar.is_open(NOW.replace(hour=12, minute=0))


def test_evaluate_with_disconnected_broker_denies() -> None:
    assert code_of(broker_connected=False) == "BROKER_DISCONNECTED"
    assert code_of(broker_connected=None) == "BROKER_DISCONNECTED"


def test_evaluate_without_last_trade_fails_closed() -> None:
    assert code_of(last_price=None) == "MARKET_DATA_MISSING"
    assert code_of(last_trade_at=None) == "MARKET_DATA_MISSING"


def test_evaluate_with_non_finite_last_price_fails_closed() -> None:
    assert code_of(last_price=Decimal("NaN")) == "MARKET_DATA_MISSING"


def test_evaluate_with_stale_market_data_denies() -> None:
    assert code_of(last_trade_at=NOW - timedelta(minutes=5)) == "MARKET_DATA_STALE"


def test_evaluate_with_oversized_order_denies() -> None:
    assert code_of(intent=intent(quantity=11)) == "MAX_ORDER_QUANTITY"


def test_evaluate_with_large_notional_denies() -> None:
    limits = RiskLimits(max_order_notional=Decimal(100_000))

    decision = evaluate(context(intent=intent(quantity=5)), limits, CALENDAR)

    assert decision.reason_code == "MAX_ORDER_NOTIONAL"  # 5 × 127,850 × 0.20 = R$ 127,850


def test_evaluate_with_limit_far_from_last_trade_denies() -> None:
    assert code_of(intent=intent(price=Decimal(140_000))) == "PRICE_BAND"


def test_evaluate_market_order_skips_the_band_but_needs_a_price() -> None:
    market = intent(price=Decimal(-1))

    assert code_of(intent=market) == ""
    assert code_of(intent=market, last_price=None) == "MARKET_DATA_MISSING"


def test_evaluate_with_open_orders_counts_them_in_the_position() -> None:
    assert code_of(net_position=15, open_buy_quantity=5) == "MAX_POSITION"
    assert code_of(net_position=15, open_buy_quantity=4) == ""


def test_evaluate_with_unreadable_position_fails_closed() -> None:
    assert code_of(net_position=None) == "RISK_STATE_UNREADABLE"


def test_evaluate_after_daily_loss_breach_denies_risk_increasing_orders() -> None:
    assert code_of(daily_pnl=Decimal(-5_000)) == "DAILY_LOSS_LIMIT"
    assert code_of(daily_pnl=None) == "RISK_STATE_UNREADABLE"


def test_evaluate_after_daily_loss_breach_lets_risk_reducing_orders_pass() -> None:
    reducing = intent(side=Side.SELL, quantity=2)

    assert code_of(intent=reducing, net_position=3, daily_pnl=Decimal(-9_000)) == ""
    assert code_of(intent=reducing, net_position=1, daily_pnl=Decimal(-9_000)) == (
        "DAILY_LOSS_LIMIT"
    )


def test_evaluate_with_too_many_recent_orders_throttles() -> None:
    recent = tuple(
        RecentOrder(NOW - timedelta(milliseconds=10 * n), WIN, Side.SELL, 1, Decimal(n))
        for n in range(50)
    )

    assert code_of(recent_orders=recent) == "ORDER_RATE"
    assert code_of(recent_orders=recent[:49]) == ""


def test_evaluate_with_same_order_moments_ago_denies_a_duplicate() -> None:
    same = RecentOrder(NOW - timedelta(seconds=1), WIN, Side.BUY, 1, Decimal(127_850))
    older = RecentOrder(NOW - timedelta(seconds=3), WIN, Side.BUY, 1, Decimal(127_850))

    assert code_of(recent_orders=(same,)) == "DUPLICATE_ORDER"
    assert code_of(recent_orders=(older,)) == ""


@given(
    before=st.sampled_from([None, "a", "b"]),
    now=st.sampled_from([None, "a", "b"]),
)
def test_duplicate_is_the_same_decision_orders_acting_on_other_signals_are_not(
    before: str | None, now: str | None
) -> None:
    """A position policy's SELL 1 to go flat, then SELL 1 to go short on the next signal."""
    signals = {name: uuid.uuid5(uuid.NAMESPACE_URL, name) for name in ("a", "b")}
    earlier = RecentOrder(
        NOW - timedelta(seconds=1), WIN, Side.BUY, 1, Decimal(127_850), signals.get(before or "")
    )
    facts = context(intent=intent(signal_id=signals.get(now or "")), recent_orders=(earlier,))

    decision = check_duplicate(facts, LIMITS, CALENDAR)

    assert decision.approved == (before != now)


def test_evaluate_with_disallowed_root_denies() -> None:
    limits = RiskLimits(allowed_roots=frozenset({"WDO"}))

    assert evaluate(context(), limits, CALENDAR).reason_code == "SYMBOL_NOT_ALLOWED"


def test_risk_limits_with_negative_value_names_the_limit() -> None:
    with pytest.raises(InvalidRiskLimits, match="max_position"):
        RiskLimits(max_position=-1)


def test_risk_limits_update_with_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(InvalidRiskLimits, match="unknown risk limit 'max_fun'"):
        RiskLimits().updated({"max_fun": 1})


def test_risk_limits_round_trip_through_plain_values() -> None:
    limits = RiskLimits(max_position=7, duplicate_window=timedelta(seconds=5))

    assert RiskLimits.from_plain(limits.to_plain()) == limits


def test_every_check_returns_a_named_reason_when_it_denies() -> None:
    denied = context(
        kill_switch_engaged=None,
        broker_connected=False,
        last_price=None,
        net_position=None,
        daily_pnl=None,
    )

    for check in CHECKS:
        decision = check(denied, LIMITS, CALENDAR)
        assert decision.approved or (decision.reason_code and decision.reason)


@given(
    net=st.integers(-30, 30),
    open_buy=st.integers(0, 10),
    open_sell=st.integers(0, 10),
    side=st.sampled_from(Side),
    quantity=st.integers(1, 10),
)
def test_position_check_never_lets_exposure_grow_beyond_the_limit(
    net: int, open_buy: int, open_sell: int, side: Side, quantity: int
) -> None:
    facts = context(
        intent=intent(side=side, quantity=quantity),
        net_position=net,
        open_buy_quantity=open_buy,
        open_sell_quantity=open_sell,
    )

    decision = check_position(facts, LIMITS, CALENDAR)

    worst = net + open_buy + quantity if side is Side.BUY else net - open_sell - quantity
    if decision.approved:
        assert abs(worst) <= LIMITS.max_position or abs(worst) < abs(net)


@given(
    pnl=st.decimals(-20_000, 20_000, places=2),
    net=st.integers(-5, 5),
    side=st.sampled_from(Side),
    quantity=st.integers(1, 5),
)
def test_daily_loss_check_after_breach_passes_only_reducing_orders(
    pnl: Decimal, net: int, side: Side, quantity: int
) -> None:
    facts = context(intent=intent(side=side, quantity=quantity), net_position=net, daily_pnl=pnl)

    decision = check_daily_loss(facts, LIMITS, CALENDAR)

    if pnl <= -LIMITS.daily_loss_limit:
        assert decision.approved == is_risk_reducing(facts)
    else:
        assert decision.approved


@given(seconds=st.floats(0, 10, allow_nan=False))
def test_duplicate_check_denies_only_within_its_window(seconds: float) -> None:
    before = RecentOrder(NOW - timedelta(seconds=seconds), WIN, Side.BUY, 1, Decimal(127_850))

    decision = check_duplicate(context(recent_orders=(before,)), LIMITS, CALENDAR)

    assert decision.approved == (timedelta(seconds=seconds) >= LIMITS.duplicate_window)
