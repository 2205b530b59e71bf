"""The columnar fast path's contract: a strategy whose targets are a function of the prices."""

from __future__ import annotations

from typing import Any, Final, Protocol, runtime_checkable

import numpy as np

NO_OPINION: Final = np.iinfo(np.int64).min
"""A target array's value where the strategy has no opinion yet (before warm-up)."""


@runtime_checkable
class ColumnarTargets(Protocol):
    """A `TargetStrategy` that can compute every target of a symbol's trades at once.

    `targets(price_units)` must return, for each trade, exactly what `target_after` would
    return after that trade (NO_OPINION for None); the backtest then runs the order pipeline
    only where the target changes or orders are in flight, with the same orders and fills.
    """

    strategy_id: str

    def targets(self, price_units: np.ndarray[Any, np.dtype[np.int64]]) -> np.ndarray[Any, Any]: ...


def decision_points(targets: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Return the indices where the target is known and differs from the last known one."""
    known = targets != NO_OPINION
    indices = np.flatnonzero(known)
    if len(indices) == 0:
        return indices
    values = targets[indices]
    changed = np.concatenate(([True], values[1:] != values[:-1]))
    return indices[changed]
