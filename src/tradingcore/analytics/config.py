"""Analytics settings: windows, label horizon, batch size and decision thresholds."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields
from typing import Any, Final

from tradingcore.domain.errors import DomainError

PIPELINE_VERSION: Final = "features-v1"
MODEL_KIND: Final = "sgd-v1"


MAX_TICKS: Final = 100_000
"""Upper bound of every length in ticks (window, lag, horizon): a window is allocated and
scanned per symbol, so a model file saying 10**12 would exhaust memory; a B3 day is ~500k
trades of WIN, so 100,000 ticks is far beyond any useful window."""
MAX_COUNT: Final = 1_000_000
"""Upper bound of batch sizes and update counts."""


class InvalidAnalyticsConfig(DomainError):
    """An analytics setting is out of range or unknown."""


@dataclass(frozen=True, slots=True)
class AnalyticsConfig:
    """Everything that decides the features, the labels, the model and the signals."""

    window: int = 100
    """Ticks in the rolling window of aggressor_flow, volatility_roll and volume_anomaly."""
    momentum_lag: int = 10
    """price_momentum compares the last price with the price this many ticks before it."""
    horizon: int = 20
    """A tick's label is the price move over the next `horizon` ticks."""
    threshold_ticks: int = 2
    """A move counts as BUY/SELL when it reaches this many instrument ticks."""
    train_stride: int = 5
    """Train on every this-many-th labelled tick: neighbours share H-1 of their H future ticks,
    so their labels are nearly copies; striding keeps the information and cuts SGD cost."""
    batch_size: int = 250
    """Training rows per partial_fit update (fixed, the same live and in replay): with the
    default stride the model is updated every 1,250 ticks. (It was 1,000 rows every 10,000
    ticks: a system started at 200 ticks/s showed its first signal after ~106 s, the second
    update; now after ~14 s.)"""
    update_delay: int = 250
    """A model update made from the batch completed at tick t is used from tick t + this on,
    live and in replay alike: the live host trains in the background meanwhile."""
    warmup_updates: int = 1
    """No signals until the model has had this many updates."""
    buy_threshold: float = 0.65
    sell_threshold: float = 0.65
    eta0: float = 0.01
    alpha: float = 0.0001
    random_state: int = 7
    accuracy_batches: int = 10
    """Rolling accuracy is measured over the last this many batches (before training on them)."""

    def __post_init__(self) -> None:
        checks = (
            (2 <= self.window <= MAX_TICKS, f"window must be within [2, {MAX_TICKS}]"),
            (
                1 <= self.momentum_lag <= MAX_TICKS,
                f"momentum_lag must be within [1, {MAX_TICKS}]",
            ),
            (1 <= self.horizon <= MAX_TICKS, f"horizon must be within [1, {MAX_TICKS}]"),
            (
                1 <= self.threshold_ticks <= MAX_TICKS,
                f"threshold_ticks must be within [1, {MAX_TICKS}]",
            ),
            (
                1 <= self.train_stride <= MAX_TICKS,
                f"train_stride must be within [1, {MAX_TICKS}]",
            ),
            (2 <= self.batch_size <= MAX_COUNT, f"batch_size must be within [2, {MAX_COUNT}]"),
            (
                1 <= self.update_delay < self.batch_size * self.train_stride,
                "update_delay must be >= 1 and below batch_size * train_stride",
            ),
            (
                1 <= self.warmup_updates <= MAX_COUNT,
                f"warmup_updates must be within [1, {MAX_COUNT}]",
            ),
            (0.0 < self.buy_threshold < 1.0, "buy_threshold must be within (0, 1)"),
            (0.0 < self.sell_threshold < 1.0, "sell_threshold must be within (0, 1)"),
            (0.0 < self.eta0 <= 1e6, "eta0 must be within (0, 1e6]"),
            (0.0 <= self.alpha <= 1e6, "alpha must be within [0, 1e6]"),
            (0 <= self.random_state < 2**32, "random_state must be within [0, 2**32)"),
            (
                1 <= self.accuracy_batches <= MAX_COUNT,
                f"accuracy_batches must be within [1, {MAX_COUNT}]",
            ),
        )
        for ok, why in checks:
            if not ok:
                raise InvalidAnalyticsConfig(f"invalid analytics config: {why} ({self})")

    @property
    def ready_from(self) -> int:
        """Index of the first tick whose features are all known (no NaN)."""
        return max(self.window, self.momentum_lag + 1)

    @property
    def pipeline_version(self) -> str:
        return f"{PIPELINE_VERSION}-w{self.window}-m{self.momentum_lag}"

    def fingerprint(self) -> str:
        """Return 8 hex digits naming these settings (part of every model version)."""
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:8]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> AnalyticsConfig:
        """Build from a plain dict, refusing unknown keys with a clear error."""
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InvalidAnalyticsConfig(f"invalid analytics config: unknown settings {unknown}")
        return cls(**values)
