"""Command-line options for the analytics settings, shared by `analytics` and `backtest`."""

from __future__ import annotations

import argparse
from dataclasses import fields

from tradingcore.analytics.config import AnalyticsConfig, InvalidAnalyticsConfig

HELP = {
    "window": "ticks in the rolling feature window",
    "momentum_lag": "ticks back for price_momentum",
    "horizon": "label horizon H: ticks ahead whose move is the label",
    "threshold_ticks": "label threshold in instrument ticks",
    "train_stride": "train on every N-th labelled tick",
    "batch_size": "training rows per model update",
    "update_delay": "ticks between a batch completing and its update being used",
    "warmup_updates": "model updates before the first signal",
    "buy_threshold": "P(BUY) above which a BUY is signalled",
    "sell_threshold": "P(SELL) above which a SELL is signalled",
    "eta0": "SGD initial learning rate",
    "alpha": "SGD regularisation",
    "random_state": "SGD seed",
    "accuracy_batches": "batches in the rolling accuracy",
}


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model and features")
    defaults = AnalyticsConfig()
    for item in fields(AnalyticsConfig):
        default = getattr(defaults, item.name)
        group.add_argument(
            "--" + item.name.replace("_", "-"),
            type=type(default),
            default=default,
            help=f"{HELP[item.name]} (default {default})",
        )


def config_from(args: argparse.Namespace) -> AnalyticsConfig:
    """Build the settings from parsed options; exit with a clear message if one is invalid."""
    values = {item.name: getattr(args, item.name) for item in fields(AnalyticsConfig)}
    try:
        return AnalyticsConfig(**values)
    except InvalidAnalyticsConfig as error:
        raise SystemExit(f"error: {error}") from None


def host_port(text: str) -> tuple[str, int]:
    """Parse `HOST:PORT` (or `:PORT`, or `PORT`) for argparse."""
    host, _, port = text.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected HOST:PORT, e.g. 127.0.0.1:9001"
        ) from None
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r}: port must be within 0..65535")
    return host or "127.0.0.1", number
