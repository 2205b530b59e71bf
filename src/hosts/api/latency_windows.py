"""Latency percentiles from Prometheus histograms, window by window, as a chart series.

The stored events carry the feed's time when a host runs on the feed clock, so their gaps say
nothing of wall-clock latency. The hosts' histograms do: every poll takes the bucket counts,
subtracts the previous poll's and estimates p50/p95/p99 of that window as PromQL's
`histogram_quantile` does (linear inside the bucket).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Final

from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

SERIES_POINTS: Final = 2_000
Buckets = list[tuple[float, float]]
"""(upper bound in seconds, cumulative count), by upper bound."""


def parse_families(text: str) -> list[Metric]:
    """Metric families of a Prometheus text exposition ([] when it is not one)."""
    try:
        return list(text_string_to_metric_families(text))
    except (ValueError, TypeError):
        return []


def bucket_counts(families: Iterable[Metric], name: str, match: Mapping[str, str]) -> Buckets:
    """The histogram's cumulative counts per bound, summed over the series matching `match`."""
    totals: dict[float, float] = {}
    for family in families:
        if family.name != name:
            continue
        for sample in family.samples:
            if not sample.name.endswith("_bucket"):
                continue
            if any(sample.labels.get(key) != value for key, value in match.items()):
                continue
            bound = float(sample.labels["le"])
            totals[bound] = totals.get(bound, 0.0) + sample.value
    return sorted(totals.items())


def quantile(rank: float, buckets: Buckets) -> float | None:
    """Estimate a quantile (0..1) from cumulative buckets, as histogram_quantile does."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    total = buckets[-1][1]
    wanted = rank * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= wanted:
            if math.isinf(bound):
                return lower_bound  # past the last finite bucket: its bound is all we know
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (wanted - lower_count) / (
                count - lower_count
            )
        lower_bound, lower_count = bound, count
    return lower_bound


class HistogramWindows:
    """p50/p95/p99 (ms) of each window between two polls of one histogram."""

    def __init__(self, name: str, match: Mapping[str, str] | None = None) -> None:
        self.name = name
        self.match = dict(match or {})
        self.previous: Buckets | None = None
        self.polled = False
        self.points: deque[tuple[int, float, float, float]] = deque(maxlen=SERIES_POINTS)

    def observe(self, families: Iterable[Metric], at_ms: int) -> None:
        counts = bucket_counts(families, self.name, self.match)
        polled, self.polled = self.polled, True
        if not counts:
            return
        previous, self.previous = self.previous, counts
        if previous is None and polled:  # the series appeared since the last poll: from zero
            previous = [(bound, 0.0) for bound, _ in counts]
        if previous is None or [b for b, _ in previous] != [b for b, _ in counts]:
            return
        pairs = zip(counts, previous, strict=True)
        window = [(bound, now - before) for (bound, now), (_, before) in pairs]
        if window[-1][1] < 0:  # the host restarted: its counters began again
            return
        p50, p95, p99 = (quantile(rank, window) for rank in (0.5, 0.95, 0.99))
        if p50 is None or p95 is None or p99 is None:
            return  # nothing was observed in this window
        self.points.append((at_ms, p50 * 1000, p95 * 1000, p99 * 1000))
