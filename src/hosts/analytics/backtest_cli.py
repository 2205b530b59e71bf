"""`tradingcore backtest`: a recording (or a store) through the same features and model."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from adapters.eventstore import StoreUrlError
from adapters.models import ModelFileError, load_models, save_models
from adapters.recordings import RecordingError
from hosts.analytics.backtest import (
    BacktestReport,
    recording_trades,
    report_lines,
    run_backtest,
    store_trades,
    ticks_by_symbol,
)
from hosts.analytics.options import add_config_arguments, config_from
from hosts.strategy.cli import add_strategy_arguments, run_strategy_backtest, wants_strategy
from tradingcore.domain.errors import DomainError
from tradingcore.domain.fees import B3FeeModel, FeeSchedule


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recording", nargs="?", type=Path, help="a tradingcore recording file")
    parser.add_argument("--store", help="read TradesRecorded from this store URL instead")
    parser.add_argument("--model", type=Path, help="start from this model file (else fresh)")
    parser.add_argument("--save-model", type=Path, help="write the trained models here")
    parser.add_argument("--signals-out", type=Path, help="write every signal here as JSONL")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    add_config_arguments(parser)
    add_strategy_arguments(parser)


def run(args: argparse.Namespace) -> int:
    if wants_strategy(args):
        return run_strategy_backtest(args)
    if (args.recording is None) == (args.store is None):
        print("error: give a RECORDING file or --store URL (one of them)", file=sys.stderr)
        return 2
    config = config_from(args)
    try:
        models = load_models(args.model) if args.model else None
        events = recording_trades(args.recording) if args.recording else store_trades(args.store)
        series = ticks_by_symbol(events)
    except (RecordingError, ModelFileError, StoreUrlError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not series:
        print("error: no trades found (no TradesRecorded events)", file=sys.stderr)
        return 2
    try:
        fees = B3FeeModel(FeeSchedule.from_plain(getattr(args, "fees", None) or {}))
        report = run_backtest(series, config, models, fees)
    except DomainError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.signals_out:
        write_signals(report, args.signals_out)
    if args.save_model:
        save_models(args.save_model, {item.symbol: item.model for item in report.symbols})
    if args.json:
        print(json.dumps(report_json(report), indent=2))
    else:
        print("\n".join(report_lines(report)))
    return 0


def write_signals(report: BacktestReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as file:
        for symbol, signal in report.signals():
            entry = {
                "symbol": symbol,
                "direction": signal.direction.value,
                "confidence": signal.confidence,
                "features": signal.feature_map(),
                "model_version": signal.model_version,
                "tick_trade_id": signal.trade_id,
                "tick_timestamp_ms": signal.timestamp_ms,
                "price": signal.price,
            }
            file.write(json.dumps(entry) + "\n")


def report_json(report: BacktestReport) -> dict[str, object]:
    return {
        "ticks": report.ticks,
        "seconds": report.seconds,
        "signals_sha256": report.signals_sha256(),
        "symbols": {
            item.symbol: {
                "ticks": item.replay.stats.ticks,
                "signals": item.replay.stats.signals,
                "hit_rate": item.replay.stats.hit_rate,
                "model_accuracy": item.model.accuracy,
                "updates": item.replay.updates,
                "model_version": item.model.version,
                "pnl": None if item.follow is None else item.follow.pnl.text,
                "fees": None if item.follow is None else item.follow.fees.text,
                "net_pnl": None if item.follow is None else item.follow.net_pnl.text,
                "max_drawdown": None if item.follow is None else item.follow.max_drawdown.text,
                "contracts_traded": None if item.follow is None else item.follow.contracts_traded,
            }
            for item in report.symbols
        },
    }
