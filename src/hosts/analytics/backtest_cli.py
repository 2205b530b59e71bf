"""`tradingcore backtest`: a recording (or a store) through the same features and model."""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

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
from hosts.analytics.backtest_trading import (
    TradingConfig,
    TradingRecord,
    feed_order,
    run_pipeline,
    trading_record,
)
from hosts.analytics.options import add_config_arguments, config_from
from hosts.strategy.cli import add_strategy_arguments, run_strategy_backtest, wants_strategy
from tradingcore.application.signal_desk import AutoExecution
from tradingcore.domain.errors import DomainError
from tradingcore.domain.fees import B3FeeModel, FeeSchedule
from tradingcore.risk.calendar import SessionCalendar
from tradingcore.risk.limits import RiskLimits


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recording", nargs="?", type=Path, help="a tradingcore recording file")
    parser.add_argument("--store", help="read TradesRecorded from this store URL instead")
    parser.add_argument("--model", type=Path, help="start from this model file (else fresh)")
    parser.add_argument("--save-model", type=Path, help="write the trained models here")
    parser.add_argument("--signals-out", type=Path, help="write every signal here as JSONL")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    add_config_arguments(parser)
    add_strategy_arguments(parser)
    trading = parser.add_argument_group(
        "trading (--trade): the API host's auto-execution, risk and paper broker, in process"
    )
    trading.add_argument(
        "--trade",
        action="store_true",
        help="trade the signals as `tradingcore api --auto-execute` would, on feed time",
    )
    trading.add_argument("--auto-quantity", type=int, default=1, help="target position N")
    trading.add_argument(
        "--auto-min-confidence",
        type=float,
        default=0.6,
        help="signals less confident than this are not traded",
    )
    trading.add_argument(
        "--auto-scale", action="store_true", help="target round(quantity x confidence) contracts"
    )
    trading.add_argument(
        "--auto-hold",
        dest="auto_hold_closes",
        type=hold_closes,
        default="close",  # a string default goes through `type`: --help shows `close`
        metavar="{close,keep}",
        help="a HOLD signal closes the position (flat) or keeps it (default: close)",
    )
    trading.add_argument("--risk-config", type=Path, help="JSON object of risk limits")
    trading.add_argument(
        "--trading-hours", default="09:00-18:25", help="São Paulo session HH:MM-HH:MM, or 'always'"
    )
    trading.add_argument(
        "--holiday", action="append", default=[], help="YYYY-MM-DD, no session; repeatable"
    )
    trading.add_argument(
        "--events-out", type=Path, help="write every signal, order, fill, position as JSONL"
    )


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
    record: TradingRecord | None = None
    if args.trade:
        try:
            trading = trading_config(args)
            events = (
                recording_trades(args.recording) if args.recording else store_trades(args.store)
            )
            signals = {item.symbol: item.replay.signals for item in report.symbols}
            app = run_pipeline(feed_order(events), signals, trading, fees=fees)
            record = trading_record(app)
            app.close()
        except (ValueError, DomainError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        if args.events_out:
            args.events_out.parent.mkdir(parents=True, exist_ok=True)
            with args.events_out.open("w", encoding="utf-8") as file:
                for row in record.events():
                    file.write(json.dumps(row) + "\n")
    if args.json:
        body = report_json(report)
        if record is not None:
            body["trading"] = trading_json(record)
        print(json.dumps(body, indent=2))
    else:
        print("\n".join(report_lines(report) + (trading_lines(record) if record else [])))
    return 0


def hold_closes(value: str) -> bool:
    if value not in ("close", "keep"):
        raise argparse.ArgumentTypeError(f"invalid choice {value!r}: use close or keep")
    return value == "close"


def trading_config(args: argparse.Namespace) -> TradingConfig:
    limits = RiskLimits.from_plain(getattr(args, "risk_limits", None) or {})  # [risk] of --config
    if args.risk_config is not None:
        try:
            plain = json.loads(args.risk_config.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ValueError(f"risk config {args.risk_config}: unreadable ({error})") from None
        if not isinstance(plain, dict):
            raise ValueError(f"risk config {args.risk_config}: expected a JSON object")
        limits = limits.updated(plain)
    return TradingConfig(
        account=args.account,
        auto=AutoExecution(
            enabled=True,
            quantity=args.auto_quantity,
            min_confidence=args.auto_min_confidence,
            scale_by_confidence=args.auto_scale,
            hold_closes=args.auto_hold_closes,
        ),
        limits=limits,
        calendar=SessionCalendar.parse(args.trading_hours, args.holiday),
    )


def trading_json(record: TradingRecord) -> dict[str, Any]:
    filled = {row["order_id"] for row in record.fills}
    return {
        "signals": len(record.signals),
        "orders": len(record.orders),
        "denied": sum(1 for row in record.orders if row["denied"]),
        "orders_filled": len(filled),
        "fills": len(record.fills),
        "positions": record.positions,
        "realized_pnl": str(record.realized_pnl),
        "sha256": record.sha256(),
    }


def trading_lines(record: TradingRecord) -> list[str]:
    plain = trading_json(record)
    lines = [
        f"trading: {plain['signals']} signals, {plain['orders']} orders "
        f"({plain['denied']} denied by risk, {plain['orders_filled']} filled), "
        f"{plain['fills']} fills, realized P&L R$ {record.realized_pnl:,.2f}"
    ]
    for row in record.positions:
        lines.append(
            f"{row['symbol']}: net {row['net_quantity']}, "
            f"realized R$ {Decimal(row['net_realized']):,.2f} net of R$ "
            f"{Decimal(row['fees']):,.2f} fees"
        )
    lines.append(f"trading sha256 {plain['sha256']}")
    return lines


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
