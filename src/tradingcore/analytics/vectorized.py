"""The same five features for a whole tick series at once (numpy), bit-identical to
`features.IncrementalFeatures`: exact integer window sums, then the same IEEE operations."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from tradingcore.domain.values import PRICE_SCALE

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

INT64_MAX = 2**63 - 1


def compute_features(
    prices: IntArray,
    volumes: IntArray,
    aggressor_signs: IntArray,
    book_deltas: FloatArray,
    *,
    window: int = 100,
    momentum_lag: int = 10,
) -> FloatArray:
    """Return an (n, 5) array: row i from ticks before i, NaN while a window warms up."""
    prices = np.asarray(prices, dtype=np.int64)
    volumes = np.asarray(volumes, dtype=np.int64)
    signs = np.asarray(aggressor_signs, dtype=np.int64)
    count = len(prices)
    rows = np.full((count, 5), np.nan, dtype=np.float64)
    if count == 0:
        return rows
    rows[:, 3] = np.asarray(book_deltas, dtype=np.float64)
    if count > window:
        _window_features(rows, prices, volumes, signs, window)
    if count > momentum_lag + 1:
        last = prices[momentum_lag : count - 1]
        old = prices[: count - 1 - momentum_lag]
        rows[momentum_lag + 1 :, 4] = (last - old).astype(np.float64) / old.astype(np.float64)
    return rows


def _window_features(
    rows: FloatArray, prices: IntArray, volumes: IntArray, signs: IntArray, window: int
) -> None:
    deviations = prices - prices[0]
    limit = math.isqrt(INT64_MAX // window)
    wide = int(np.max(np.abs(deviations))) > limit
    # A window's sum of squares must fit in int64 for the cumulative-sum trick (overflow
    # wraps, and wrapped differences stay exact while the true value fits); far-apart prices
    # fall back to exact Python integers.
    deviation_values: npt.NDArray[np.int64] | npt.NDArray[np.object_] = (
        deviations.astype(object) if wide else deviations
    )
    sum_deviation = _window_sums(deviation_values, window)
    sum_square = _window_sums(deviation_values * deviation_values, window)
    sum_volume = _window_sums(volumes, window)
    sum_flow = _window_sums(volumes * signs, window)
    mean = sum_deviation.astype(np.float64) / window
    variance = sum_square.astype(np.float64) / window - mean * mean
    rows[window:, 0] = sum_flow.astype(np.float64)
    rows[window:, 1] = np.sqrt(np.maximum(variance, 0.0)) / PRICE_SCALE
    last_volume = volumes[window - 1 : -1] * window
    rows[window:, 2] = last_volume.astype(np.float64) / sum_volume.astype(np.float64)


def _window_sums(values: npt.NDArray[np.generic], window: int) -> npt.NDArray[np.generic]:
    """Return the sums of the `window` values before each index from `window` on."""
    with np.errstate(over="ignore"):
        cumulative = np.concatenate((np.zeros(1, dtype=values.dtype), np.cumsum(values)))
        return cumulative[window:-1] - cumulative[: -1 - window]  # type: ignore[no-any-return]
