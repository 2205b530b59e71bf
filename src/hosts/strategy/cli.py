"""`tradingcore backtest --strategy ...`: replay trades through strategies into a store of its
own, then write the report (HTML, PNG, JSON)."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import InvalidOperation
from pathlib import Path
from typing import Any

from adapters.eventstore import open_store
from adapters.recordings import RecordingError
from adapters.report import write_report
from adapters.strategy_loader import StrategyLoadError, load_strategy, parse_params
from hosts.strategy.progress import progress_bar
from hosts.strategy.sources import (
    parse_moment,
    recording_events,
    split,
    store_events,
    synthetic_source,
)
from tradingcore.application.backtest import Backtest, BacktestConfig, copy_store
from tradingcore.application.backtest_report import build_report
from tradingcore.domain.errors import DomainError
from tradingcore.domain.fees import B3FeeModel, FeeSchedule, NoFees
from tradingcore.ports.clock import ManualClock
from tradingcore.risk.calendar import SessionCalendar
from tradingcore.risk.limits import RiskLimits
from tradingcore.simulation.venue import LIMIT_FILLS, VenueConfig
from tradingcore.strategy.api import Strategy


def add_strategy_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("strategy backtest (orders, fills, fees; docs/backtest.md)")
    group.add_argument(
        "--strategy",
        action="append",
        help="package.module:Class or a shipped name (ma-cross, volume-breakout, "
        "position-policy, signal-follower); repeat for several",
    )
    group.add_argument("--param", action="append", default=[], help="strategy parameter key=value")
    group.add_argument(
        "--synthetic", type=int, metavar="N", help="replay N seeded synthetic trades per symbol"
    )
    group.add_argument("--seed", type=int, default=7, help="seed of --synthetic (default 7)")
    group.add_argument("--symbols", help="only these symbols, comma-separated (WINZ25,WDOF26)")
    group.add_argument("--from", dest="start", help="from this session day or ISO time")
    group.add_argument("--to", dest="end", help="up to this session day (included) or ISO time")
    group.add_argument(
        "--output",
        type=Path,
        default=Path("data/backtest"),
        help="store and report directory (recreated)",
    )
    group.add_argument(
        "--latency-ms", type=int, default=0, help="order and cancel latency in feed ms"
    )
    group.add_argument(
        "--limit-fill", choices=LIMIT_FILLS, default="touch", help="limit order fill model"
    )
    group.add_argument(
        "--no-fees",
        action="store_true",
        help="charge no fees (default: the B3 fee model, with the config file's [fees])",
    )
    group.add_argument("--account", default="backtest")
    group.add_argument(
        "--event-path", action="store_true", help="never take the columnar fast path"
    )
    group.add_argument(
        "--no-png", action="store_true", help="skip the PNG (needs headless Chromium)"
    )
    group.add_argument("--quiet", action="store_true", help="no progress on stderr")


def _strategies(args: argparse.Namespace) -> list[Strategy]:
    """The strategies named by --strategy, else the config file's [strategy] import_path;
    parameters from [strategy] params, then --param."""
    configured = getattr(args, "import_path", None)
    specs = list(args.strategy or ([configured] if configured else []))
    params = dict(getattr(args, "params", None) or {})
    params.update(parse_params(args.param))
    return [load_strategy(spec, {**_execution_defaults(spec, args), **params}) for spec in specs]


def _execution_defaults(spec: str, args: argparse.Namespace) -> dict[str, Any]:
    """The position policy takes the API host's auto-execution settings ([execution] of the
    config file, the --auto-* flags) unless its parameters say otherwise."""
    if spec not in ("position-policy", "tradingcore.strategy.policy:PositionPolicy"):
        return {}
    names = {
        "quantity": "auto_quantity",
        "min_confidence": "auto_min_confidence",
        "scale_by_confidence": "auto_scale",
        "hold_closes": "auto_hold_closes",
    }
    return {key: getattr(args, name) for key, name in names.items() if hasattr(args, name)}


def _risk(args: argparse.Namespace) -> tuple[RiskLimits, SessionCalendar]:
    """With a config file: its [risk] limits and trading hours, as the API host runs them.
    Without: the defaults, minus the duplicate window and with a looser order rate (a
    strategy may rightly send the same market order twice within seconds), always open."""
    plain = getattr(args, "risk_limits", None)
    if plain is None:
        limits = RiskLimits(duplicate_window=timedelta(0), max_orders_per_window=1_000)
        return limits, SessionCalendar(always_open=True)
    calendar = SessionCalendar.parse(args.trading_hours, getattr(args, "holiday", []))
    return RiskLimits.from_plain(plain), calendar


def wants_strategy(args: argparse.Namespace) -> bool:
    """Whether to run the strategy backtest (else the model-only backtest of the analytics)."""
    configured = getattr(args, "import_path", None)
    return bool(args.strategy) or bool(configured) or args.synthetic is not None


def run_strategy_backtest(args: argparse.Namespace) -> int:
    """Run the strategy backtest; exit 2 with a one-line reason on bad input."""
    try:
        return _run(args)
    except (StrategyLoadError, RecordingError, DomainError, ValueError, InvalidOperation) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    strategies = _strategies(args)
    if not strategies:
        raise StrategyLoadError("no strategy: give --strategy or a [strategy] class in --config")
    sources = [args.recording is not None, args.store is not None, args.synthetic is not None]
    if sum(sources) != 1:
        raise ValueError("give exactly one source: RECORDING, --store URL or --synthetic N")
    symbols = None if not args.symbols else [item.strip() for item in args.symbols.split(",")]
    start_ms = parse_moment(args.start) if args.start else None
    end_ms = parse_moment(args.end, end=True) if args.end else None
    signals: list[Any] = []
    books: list[Any] = []
    if args.synthetic is not None:
        tapes, books = synthetic_source(
            symbols or ["WINZ25"], seed=args.seed, trades=args.synthetic
        )
    else:
        events = recording_events(args.recording) if args.recording else store_events(args.store)
        tapes, signals, books = split(events, symbols=symbols, start_ms=start_ms, end_ms=end_ms)
    if not tapes:
        raise ValueError("no trades to replay (no TradesRecorded events in the selection)")
    limits, calendar = _risk(args)
    fees = dict(getattr(args, "fees", None) or {})
    fee_model = NoFees() if args.no_fees else B3FeeModel(FeeSchedule.from_plain(fees))
    venue = VenueConfig(latency_ms=args.latency_ms, limit_fill=args.limit_fill)
    config = BacktestConfig(
        account=args.account,
        venue=venue,
        limits=limits,
        calendar=calendar,
        columnar=not args.event_path,
    )
    output: Path = args.output
    shutil.rmtree(output / "events.sqlite", ignore_errors=True)
    for stale in output.glob("events.sqlite*"):
        stale.unlink()
    output.mkdir(parents=True, exist_ok=True)
    store_url = f"sqlite:///{(output / 'events.sqlite').resolve()}?synchronous=normal"
    first = min(int(tape.timestamps_ms[0]) for tape in tapes.values())
    clock = ManualClock(datetime.fromtimestamp(first / 1000, UTC))
    app = open_store("memory://", clock)  # written to the file once, at the end
    total = sum(len(tape) for tape in tapes.values())
    started = time.perf_counter()
    with progress_bar(total, quiet=args.quiet) as progress:
        backtest = Backtest(
            app, clock, strategies, config=config, fee_model=fee_model, progress=progress
        )
        result = backtest.run(tapes, signals, books)
    store = open_store(store_url, clock)
    try:
        copy_store(app, store)
    finally:
        store.close()
        app.close()
    seconds = time.perf_counter() - started
    run = {
        "strategies": [strategy.strategy_id for strategy in strategies],
        "symbols": sorted(symbol.ticker for symbol in tapes),
        "venue": {"latency_ms": venue.latency_ms, "limit_fill": venue.limit_fill},
        "fees": "none" if args.no_fees else "B3",
        "columnar": result.columnar,
        "orders_denied": result.denied_by_reason,
    }
    report = build_report(result, run)
    paths = write_report(report, output, png=not args.no_png)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        summary = report["summary"]
        print(
            f"backtest: {result.trades:,} trades in {seconds:.2f} s "
            f"({result.trades / seconds if seconds else 0:,.0f} trades/s), "
            f"{result.orders} orders ({result.denied} denied{_reasons(result.denied_by_reason)}), "
            f"{len(result.fills)} fills"
        )
        print(
            f"net P&L R$ {summary['net_pnl']} (gross {summary['gross_pnl']}, fees "
            f"{summary['fees']}), max drawdown R$ {summary['max_drawdown']}, "
            f"hit rate {summary['hit_rate']}"
        )
        print(f"store {store_url}")
        for path in paths:
            print(f"report {path}")
        print(f"report sha256 {report['report_sha256']}")
    return 0


def _reasons(counts: dict[str, int]) -> str:
    """`: 40 MAX_POSITION, 11 ORDER_RATE` (most first), or nothing."""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return (": " + ", ".join(f"{count} {code}" for code, count in ranked)) if ranked else ""
