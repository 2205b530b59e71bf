"""Load a strategy class by import path (`package.module:Class`) with its parameters."""

from __future__ import annotations

import importlib
import inspect
import tomllib
from collections.abc import Mapping
from typing import Any, Final

from tradingcore.strategy.api import Strategy

SHORT_NAMES: Final = {
    "ma-cross": "tradingcore.strategy.examples:MovingAverageCross",
    "volume-breakout": "tradingcore.strategy.examples:VolumeBreakout",
    "position-policy": "tradingcore.strategy.policy:PositionPolicy",
    "signal-follower": "tradingcore.strategy.policy:SignalFollower",
}
"""The strategies that ship, by short name."""


class StrategyLoadError(ValueError):
    """A strategy could not be imported, built or is not a Strategy: the message says which."""


def load_strategy(spec: str, params: Mapping[str, Any] | None = None) -> Strategy:
    """Import `package.module:Class` (or a short name) and build it with `params`."""
    path = SHORT_NAMES.get(spec, spec)
    module_name, _, class_name = path.partition(":")
    if not module_name or not class_name:
        raise StrategyLoadError(
            f"invalid strategy {spec!r}: use package.module:Class or one of "
            f"{', '.join(SHORT_NAMES)}"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise StrategyLoadError(f"cannot import strategy module {module_name!r}: {error}") from None
    cls = getattr(module, class_name, None)
    if not inspect.isclass(cls):
        raise StrategyLoadError(f"no class {class_name!r} in module {module_name!r}")
    try:
        strategy = cls(**dict(params or {}))
    except (TypeError, ValueError) as error:
        raise StrategyLoadError(
            f"cannot build strategy {path} with {dict(params or {})}: {error}"
        ) from None
    if not isinstance(strategy, Strategy):
        raise StrategyLoadError(
            f"{path} is not a Strategy: it needs strategy_id, timer_interval and the on_* "
            "handlers (subclass tradingcore.strategy.api.BaseStrategy)"
        )
    return strategy


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """Turn `key=value` pairs into parameters; values are read as TOML (numbers, strings)."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise StrategyLoadError(f"invalid parameter {pair!r}: use key=value")
        try:
            params[key.strip()] = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            params[key.strip()] = text.strip()
    return params
