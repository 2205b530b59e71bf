"""Build the market-data source the command line names: ProfitDLL, a recording or synthetic."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from adapters.clock import SystemClock
from adapters.credentials import (
    PASSPHRASE_VARIABLE,
    CredentialError,
    service_hint,
    with_stored_credentials,
)
from adapters.feeds import AsFastAsPossible, FixedRate, Pacer, RecordedPace
from adapters.feeds.recording import RecordingFeed
from adapters.feeds.synthetic import SyntheticFeed
from adapters.profitdll.binding import Credentials
from adapters.profitdll.feed import ProfitDLLFeed
from tradingcore.domain.values import Symbol
from tradingcore.ports.clock import Clock, ManualClock
from tradingcore.ports.market_data import MarketDataFeed

DEFAULT_SYNTHETIC_SYMBOLS = (Symbol("WINZ25"),)
CREDENTIAL_VARIABLES = ("PROFITDLL_KEY", "PROFITDLL_USER", "PROFITDLL_PASSWORD")


class SourceError(Exception):
    """The command line names a source that cannot be built: says which option and why."""


@dataclass
class Source:
    feed: MarketDataFeed
    clock: Clock
    symbols: list[Symbol]
    finite: bool
    done: Callable[[], bool] = field(default=lambda: False)


def parse_symbols(text: str) -> list[Symbol]:
    """Parse `WINZ25,WDOF26` (raises InvalidSymbol naming a bad ticker)."""
    return [Symbol.parse(part.strip()) for part in text.split(",") if part.strip()]


def pacer_for(args: argparse.Namespace, *, default_fast: bool) -> Pacer:
    if args.fast:
        return AsFastAsPossible()
    if args.rate is not None:
        return FixedRate(args.rate)
    if args.speed is not None:
        return RecordedPace(args.speed)
    return AsFastAsPossible() if default_fast else RecordedPace(1.0)


def is_paced(args: argparse.Namespace) -> bool:
    """Whether the source plays in (scaled) real time: its trades are flushed by age too."""
    if args.source == "profitdll":
        return True
    pacer = pacer_for(args, default_fast=args.source == "synthetic")
    return not isinstance(pacer, AsFastAsPossible)


def build_source(args: argparse.Namespace, symbols: list[Symbol]) -> Source:
    if args.source == "synthetic":
        chosen = symbols or list(DEFAULT_SYNTHETIC_SYMBOLS)
        synthetic = SyntheticFeed(
            chosen,
            seed=args.seed,
            trades=args.trades,
            pacer=pacer_for(args, default_fast=True),
        )
        return Source(synthetic, ManualClock(), [], True, synthetic.finished.is_set)
    if args.source == "recording":
        if args.path is None:
            raise SourceError(
                "--source recording needs the recording file: capture --source recording PATH"
            )
        recording = RecordingFeed(args.path, pacer=pacer_for(args, default_fast=False))
        for symbol in symbols:
            recording.subscribe(symbol)
        return Source(recording, ManualClock(), [], True, recording.finished.is_set)
    if args.source == "profitdll":
        return _profitdll(args, symbols)
    raise SourceError(f"unknown source {args.source!r}: use profitdll, recording or synthetic")


def _profitdll(args: argparse.Namespace, symbols: list[Symbol]) -> Source:
    if args.dll is None:
        raise SourceError("--source profitdll needs --dll PATH, the ProfitDLL library file")
    if not Path(args.dll).is_file():
        raise SourceError(f"ProfitDLL library not found at {args.dll}: check --dll")
    if not symbols:
        raise SourceError("--source profitdll needs --symbols, e.g. --symbols WINZ25,WDOF26")
    try:
        environment = with_stored_credentials(
            os.environ, ("activation_key", "user", "password"), prompt=sys.stdin.isatty()
        )
    except CredentialError as error:
        raise SourceError(f"ProfitDLL credentials: {error}") from None
    os.environ.pop(PASSPHRASE_VARIABLE, None)  # not inherited by anything this host starts
    missing = [name for name in CREDENTIAL_VARIABLES if not environment.get(name)]
    if missing:
        raise SourceError(
            f"ProfitDLL credentials missing: store them with `tradingcore credentials set` "
            f"or set {', '.join(missing)} in the environment "
            "(credentials are never taken from the command line)" + service_hint(os.environ)
        )
    key, user, password = (environment[name] for name in CREDENTIAL_VARIABLES)
    clock = SystemClock()
    feed = ProfitDLLFeed(
        args.dll, Credentials(key, user, password), routing=args.routing, clock=clock
    )
    return Source(feed, clock, symbols, False)
