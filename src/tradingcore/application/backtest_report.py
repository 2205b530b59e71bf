"""The backtest report's numbers: P&L, costs, risk and activity per strategy and symbol.

Pure arithmetic over the fills and the daily closes; money stays Decimal and is given as
strings with two decimals, ratios as floats rounded to 4 places, so the JSON, the HTML and a
hash of them are the same on every machine.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Final

from tradingcore.application.backtest import BacktestResult, Fill
from tradingcore.domain.tape import session_of
from tradingcore.domain.values import Side, Symbol

CENT: Final = Decimal("0.01")
EQUITY_POINTS: Final = 2_000
"""Most points of the equity curve kept in the report (evenly thinned, last point kept)."""
TOTAL: Final = "*"


def money(value: Decimal) -> str:
    """Two decimals, never '-0.00'."""
    text = str(value.quantize(CENT))
    return "0.00" if text == "-0.00" else text


def ratio(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 4)


@dataclass(slots=True)
class _Book:
    """One strategy's position in one symbol, with what it realized."""

    point_value: Decimal
    net: int = 0
    average: Decimal = Decimal(0)
    realized: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    closes: list[Decimal] = field(default_factory=list)
    """Net P&L of each closing fill (realized part minus its fees)."""
    turnover: Decimal = Decimal(0)
    contracts: int = 0
    fills: int = 0
    exposed_ms: int = 0
    since_ms: int | None = None

    def apply(self, fill: Fill) -> tuple[Decimal, Decimal]:
        """Apply a fill; return (gross realized, fee)."""
        signed = fill.quantity if fill.side is Side.BUY else -fill.quantity
        realized = Decimal(0)
        if self.net and (self.net > 0) != (signed > 0):
            closing = min(abs(signed), abs(self.net))
            direction = 1 if self.net > 0 else -1
            realized = (fill.price - self.average) * closing * direction * self.point_value
            self.closes.append(realized - fill.fee)
        new_net = self.net + signed
        if new_net == 0:
            self.average = Decimal(0)
        elif self.net == 0 or (new_net > 0) != (self.net > 0):
            self.average = fill.price
        elif abs(new_net) > abs(self.net):
            self.average = (self.average * abs(self.net) + fill.price * abs(signed)) / abs(new_net)
        if self.net == 0 and new_net != 0:
            self.since_ms = fill.timestamp_ms
        elif self.net != 0 and new_net == 0 and self.since_ms is not None:
            self.exposed_ms += fill.timestamp_ms - self.since_ms
            self.since_ms = None
        self.net = new_net
        self.realized += realized
        self.fees += fill.fee
        self.turnover += fill.price * fill.quantity * self.point_value
        self.contracts += fill.quantity
        self.fills += 1
        return realized, fill.fee

    def unrealized(self, mark: Decimal) -> Decimal:
        return (mark - self.average) * self.net * self.point_value if self.net else Decimal(0)


def _stats(daily: Sequence[Decimal]) -> tuple[float | None, float | None]:
    """Sharpe and Sortino of daily net P&L (per day, not annualized)."""
    if len(daily) < 2:
        return None, None
    values = [float(item) for item in daily]
    mean = sum(values) / len(values)
    variance = sum((item - mean) ** 2 for item in values) / (len(values) - 1)
    downside = math.sqrt(sum(min(item, 0.0) ** 2 for item in values) / len(values))
    sharpe = mean / math.sqrt(variance) if variance > 0 else None
    sortino = mean / downside if downside > 0 else None
    return sharpe, sortino


def _drawdown(equity: Iterable[Decimal]) -> Decimal:
    peak = Decimal(0)
    worst = Decimal(0)
    for value in equity:
        peak = max(peak, value)
        worst = min(worst, value - peak)
    return -worst


def build_report(result: BacktestResult, run: dict[str, Any]) -> dict[str, Any]:
    """Return the report as plain JSON-able data, with a SHA-256 of its canonical form."""
    books: dict[tuple[str, Symbol], _Book] = {}
    marks: dict[Symbol, Decimal] = {}
    days: dict[date, dict[str, Any]] = defaultdict(
        lambda: {"gross": Decimal(0), "fees": Decimal(0), "fills": 0, "closed": 0, "wins": 0}
    )
    group_days: dict[tuple[str, str], dict[date, Decimal]] = defaultdict(dict)
    equity_curve: list[tuple[int, Decimal]] = []
    closes_by_day = sorted(result.closes.items(), key=lambda item: (item[0][1], item[0][0].ticker))
    close_index = 0
    last_equity = Decimal(0)
    day_start_equity: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    drawdowns: dict[tuple[str, str], list[Decimal]] = {}
    """Per group: [peak, worst drawdown] of its equity marked at each fill of its symbols."""

    def group_equity(strategy: str | None, symbol: Symbol | None) -> Decimal:
        total = Decimal(0)
        for (owner, held), book in books.items():
            if (strategy is None or owner == strategy) and (symbol is None or held == symbol):
                mark = marks.get(held, book.average)
                total += book.realized - book.fees + book.unrealized(mark)
        return total

    def close_day(day: date) -> None:
        nonlocal last_equity
        for owner, held in books:
            for key, strategy, symbol in (
                ((owner, held.ticker), owner, held),
                ((owner, TOTAL), owner, None),
                ((TOTAL, held.ticker), None, held),
                ((TOTAL, TOTAL), None, None),
            ):
                if day in group_days[key]:
                    continue
                value = group_equity(strategy, symbol)
                group_days[key][day] = value - day_start_equity[key]
                day_start_equity[key] = value
        last_equity = group_equity(None, None)
        equity_curve.append((_day_end_ms(result, day), last_equity))

    for fill in result.fills:
        day = session_of(fill.timestamp_ms)
        while close_index < len(closes_by_day) and closes_by_day[close_index][0][1] < day:
            (symbol, closed_day), price = closes_by_day[close_index]
            marks[symbol] = price
            close_index += 1
            if close_index == len(closes_by_day) or closes_by_day[close_index][0][1] != closed_day:
                close_day(closed_day)
        key = (fill.strategy_id, fill.symbol)
        book = books.get(key)
        if book is None:
            book = books[key] = _Book(fill.point_value)
        closes_before = len(book.closes)
        realized, fee = book.apply(fill)
        marks[fill.symbol] = fill.price
        entry = days[day]
        entry["gross"] += realized
        entry["fees"] += fee
        entry["fills"] += 1
        if len(book.closes) > closes_before:
            entry["closed"] += 1
            entry["wins"] += book.closes[-1] > 0
        last_equity = group_equity(None, None)
        equity_curve.append((fill.timestamp_ms, last_equity))
        for owner, held in books:
            if held == fill.symbol:
                for strategy, ticker in (
                    (owner, held.ticker),
                    (owner, TOTAL),
                    (TOTAL, held.ticker),
                ):
                    if (strategy, ticker) not in drawdowns:
                        drawdowns[strategy, ticker] = [Decimal(0), Decimal(0)]
                    value = group_equity(
                        None if strategy == TOTAL else strategy,
                        None if ticker == TOTAL else held,
                    )
                    peak_and_worst = drawdowns[strategy, ticker]
                    peak_and_worst[0] = max(peak_and_worst[0], value)
                    peak_and_worst[1] = max(peak_and_worst[1], peak_and_worst[0] - value)
    while close_index < len(closes_by_day):
        (symbol, closed_day), price = closes_by_day[close_index]
        marks[symbol] = price
        close_index += 1
        if close_index == len(closes_by_day) or closes_by_day[close_index][0][1] != closed_day:
            close_day(closed_day)
    end_ms = result.last_ms
    for book in books.values():
        if book.since_ms is not None:
            book.exposed_ms += max(0, end_ms - book.since_ms)
    span = max(1, result.last_ms - result.first_ms)

    def metrics(strategy: str, symbol: str) -> dict[str, Any]:
        chosen = [
            book
            for (owner, held), book in books.items()
            if strategy in (TOTAL, owner) and symbol in (TOTAL, held.ticker)
        ]
        gross = sum(
            (
                book.realized + book.unrealized(marks.get(held, book.average))
                for (owner, held), book in books.items()
                if strategy in (TOTAL, owner) and symbol in (TOTAL, held.ticker)
            ),
            Decimal(0),
        )
        fees = sum((book.fees for book in chosen), Decimal(0))
        closes = [value for book in chosen for value in book.closes]
        wins = [value for value in closes if value > 0]
        losses = [value for value in closes if value <= 0]
        daily = [value for _, value in sorted(group_days[strategy, symbol].items())]
        sharpe, sortino = _stats(daily)
        curve = []
        running = Decimal(0)
        for value in daily:
            running += value
            curve.append(running)
        average_win = sum(wins, Decimal(0)) / len(wins) if wins else None
        average_loss = sum(losses, Decimal(0)) / len(losses) if losses else None
        exposure = max((book.exposed_ms for book in chosen), default=0) / span
        return {
            "strategy": strategy,
            "symbol": symbol,
            "gross_pnl": money(gross),
            "fees": money(fees),
            "net_pnl": money(gross - fees),
            "sharpe_daily": ratio(sharpe),
            "sortino_daily": ratio(sortino),
            "max_drawdown": money(
                max(_drawdown(curve), drawdowns.get((strategy, symbol), [Decimal(0)] * 2)[1])
            ),
            "hit_rate": ratio(len(wins) / len(closes)) if closes else None,
            "closed_trades": len(closes),
            "average_win": None if average_win is None else money(average_win),
            "average_loss": None if average_loss is None else money(average_loss),
            "win_loss_ratio": (
                ratio(float(average_win / -average_loss))
                if average_win is not None and average_loss is not None and average_loss < 0
                else None
            ),
            "turnover": money(sum((book.turnover for book in chosen), Decimal(0))),
            "contracts": sum(book.contracts for book in chosen),
            "fills": sum(book.fills for book in chosen),
            "exposure": ratio(exposure),
        }

    groups = sorted({(owner, held.ticker) for owner, held in books})
    strategies = sorted({owner for owner, _ in groups})
    symbols = sorted({held for _, held in groups})
    breakdown = [metrics(owner, held) for owner, held in groups]
    if len(strategies) > 1:
        breakdown += [metrics(owner, TOTAL) for owner in strategies]
    if len(symbols) > 1:
        breakdown += [metrics(TOTAL, held) for held in symbols]
    summary = metrics(TOTAL, TOTAL)
    summary["max_drawdown"] = money(_drawdown(value for _, value in equity_curve))
    report: dict[str, Any] = {
        "schema": 1,
        "run": {
            **run,
            "trades": result.trades,
            "orders": result.orders,
            "denied": result.denied,
            "fills": len(result.fills),
        },
        "summary": summary,
        "breakdown": breakdown,
        "days": [
            {
                "date": day.isoformat(),
                "gross_pnl": money(_day_net(group_days, day, entry) + entry["fees"]),
                "fees": money(entry["fees"]),
                "net_pnl": money(_day_net(group_days, day, entry)),
                "fills": entry["fills"],
                "closed_trades": entry["closed"],
                "hit_rate": ratio(entry["wins"] / entry["closed"]) if entry["closed"] else None,
            }
            for day, entry in sorted(days.items())
        ],
        "equity": [[stamp, money(value)] for stamp, value in _thin(equity_curve)],
    }
    report["report_sha256"] = report_hash(report)
    return report


def report_hash(report: dict[str, Any]) -> str:
    """SHA-256 of the report's canonical JSON (without the hash itself)."""
    body = {key: value for key, value in report.items() if key != "report_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _thin(curve: list[tuple[int, Decimal]]) -> list[tuple[int, Decimal]]:
    if len(curve) <= EQUITY_POINTS:
        return curve
    step = len(curve) / (EQUITY_POINTS - 1)
    kept = [curve[int(index * step)] for index in range(EQUITY_POINTS - 1)]
    return [*kept, curve[-1]]


def _day_end_ms(result: BacktestResult, day: date) -> int:
    return result.day_ends.get(day, result.last_ms)


def _day_net(
    group_days: dict[tuple[str, str], dict[date, Decimal]], day: date, entry: dict[str, Any]
) -> Decimal:
    """A day's net P&L marked to its close (realized minus fees where no close is known)."""
    value = group_days[TOTAL, TOTAL].get(day)
    return entry["gross"] - entry["fees"] if value is None else value
