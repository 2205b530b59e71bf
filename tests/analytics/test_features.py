"""Features: the incremental path equals the vectorized one, and never looks ahead."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tradingcore.analytics.features import IncrementalFeatures
from tradingcore.analytics.vectorized import compute_features

Ticks = tuple[list[int], list[int], list[int], list[int]]


@st.composite
def tick_sequences(draw: st.DrawFn, max_price: int = 2**40) -> Ticks:
    count = draw(st.integers(0, 160))
    start = draw(st.integers(1, max_price))
    steps = draw(st.lists(st.integers(-(10**9), 10**9), min_size=count, max_size=count))
    prices, price = [], start
    for step in steps:
        price = min(max(1, price + step), max_price)
        prices.append(price)
    volumes = draw(st.lists(st.integers(1, 10_000), min_size=count, max_size=count))
    signs = draw(st.lists(st.sampled_from((1, -1, 0)), min_size=count, max_size=count))
    books = draw(st.lists(st.integers(-500, 500), min_size=count, max_size=count))
    return prices, volumes, signs, books


def incremental_rows(ticks: Ticks, window: int, lag: int) -> np.ndarray:
    prices, volumes, signs, books = ticks
    features = IncrementalFeatures(window, lag)
    rows = []
    for price, volume, sign, book in zip(prices, volumes, signs, books, strict=True):
        rows.append(features.row(book))
        features.push(price, volume, sign)
    return np.array(rows, dtype=np.float64).reshape(len(prices), 5)


def vectorized_rows(ticks: Ticks, window: int, lag: int) -> np.ndarray:
    prices, volumes, signs, books = ticks
    return compute_features(
        np.array(prices, dtype=np.int64),
        np.array(volumes, dtype=np.int64),
        np.array(signs, dtype=np.int64),
        np.array(books, dtype=np.float64),
        window=window,
        momentum_lag=lag,
    )


def same_bits(left: np.ndarray, right: np.ndarray) -> bool:
    return left.shape == right.shape and left.tobytes() == right.tobytes()


@settings(max_examples=150, deadline=None)
@given(tick_sequences(), st.integers(2, 40), st.integers(1, 15))
def test_compute_with_any_ticks_gives_bit_identical_rows_on_both_paths(
    ticks: Ticks, window: int, lag: int
) -> None:
    assert same_bits(incremental_rows(ticks, window, lag), vectorized_rows(ticks, window, lag))


@settings(max_examples=40, deadline=None)
@given(tick_sequences(max_price=2**61), st.integers(2, 10))
def test_compute_with_prices_far_apart_falls_back_to_exact_sums_and_still_agrees(
    ticks: Ticks, window: int
) -> None:
    assert same_bits(incremental_rows(ticks, window, 3), vectorized_rows(ticks, window, 3))


@settings(max_examples=60, deadline=None)
@given(tick_sequences(), st.data())
def test_change_tick_t_with_any_value_leaves_rows_up_to_t_unchanged(
    ticks: Ticks, data: st.DataObject
) -> None:
    prices, volumes, signs, books = ticks
    if not prices:
        return
    t = data.draw(st.integers(0, len(prices) - 1))
    changed = (
        [*prices[:t], data.draw(st.integers(1, 2**40)), *prices[t + 1 :]],
        [*volumes[:t], data.draw(st.integers(1, 10_000)), *volumes[t + 1 :]],
        [*signs[:t], -signs[t] or 1, *signs[t + 1 :]],
        books,
    )
    before = incremental_rows(ticks, 10, 3)
    after = incremental_rows(changed, 10, 3)
    assert same_bits(before[: t + 1], after[: t + 1])


def test_compute_with_known_ticks_gives_the_documented_values() -> None:
    prices = [100_0000, 102_0000, 101_0000, 105_0000]
    ticks = (prices, [1, 3, 2, 4], [1, -1, 1, 0], [7, 8, 9, 10])
    rows = incremental_rows(ticks, window=3, lag=2)
    flow, volatility, anomaly, book, momentum = rows[3]
    assert flow == 1 - 3 + 2
    window_prices = np.array([100.0, 102.0, 101.0])
    assert math.isclose(volatility, float(np.std(window_prices)), rel_tol=1e-12)
    assert anomaly == 2 / ((1 + 3 + 2) / 3)
    assert book == 10.0
    assert momentum == (101 - 100) / 100


def test_compute_during_warm_up_gives_nan_until_the_windows_are_full() -> None:
    ticks = ([100_0000 + i for i in range(8)], [1] * 8, [1] * 8, [0] * 8)
    rows = incremental_rows(ticks, window=5, lag=2)
    assert np.isnan(rows[:5, 0]).all() and not np.isnan(rows[5:, 0]).any()
    assert np.isnan(rows[:3, 4]).all() and not np.isnan(rows[3:, 4]).any()
    assert not np.isnan(rows[:, 3]).any()
