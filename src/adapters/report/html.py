"""The report page: inline CSS and SVG charts, no script, no network: one file to keep."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any, Final

WIDTH: Final = 560
HEIGHT: Final = 220
PAD: Final = 36
METRICS: Final = (
    ("gross_pnl", "Gross P&L (R$)"),
    ("fees", "Fees (R$)"),
    ("net_pnl", "Net P&L (R$)"),
    ("sharpe_daily", "Sharpe (per day)"),
    ("sortino_daily", "Sortino (per day)"),
    ("max_drawdown", "Max drawdown (R$)"),
    ("hit_rate", "Hit rate"),
    ("closed_trades", "Closed trades"),
    ("win_loss_ratio", "Win/loss ratio"),
    ("average_win", "Average win (R$)"),
    ("average_loss", "Average loss (R$)"),
    ("turnover", "Turnover (R$)"),
    ("contracts", "Contracts"),
    ("exposure", "Exposure"),
)
STYLE: Final = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1b1f24; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 15px; margin: 18px 0 6px; }
.meta { color: #57606a; margin-bottom: 12px; }
.charts { display: grid; grid-template-columns: repeat(2, 580px); gap: 10px; }
figure { margin: 0; border: 1px solid #d0d7de; border-radius: 6px; padding: 6px; }
figcaption { font-weight: 600; margin-bottom: 2px; }
table { border-collapse: collapse; margin-top: 6px; }
th, td { border: 1px solid #d0d7de; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td.neg { color: #cf222e; } td.pos { color: #1a7f37; }
svg text { font: 11px system-ui, sans-serif; fill: #57606a; }
"""


def show(value: Any) -> str:
    """How a report value is printed on the page (the test reads it back)."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _scale(values: Sequence[float], size: float, *, invert: bool) -> list[float]:
    low, high = min(values), max(values)
    if high == low:
        high, low = high + 1, low - 1
    span = size - 2 * PAD
    return [
        (size - PAD - (value - low) / (high - low) * span)
        if invert
        else (PAD + (value - low) / (high - low) * span)
        for value in values
    ]


def _frame(body: str, low: float, high: float, caption: str, decimals: int = 2) -> str:
    return (
        f"<figure><figcaption>{escape(caption)}</figcaption>"
        f'<svg width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}">'
        f'<rect x="{PAD}" y="{PAD}" width="{WIDTH - 2 * PAD}" height="{HEIGHT - 2 * PAD}" '
        f'fill="#f6f8fa" stroke="#d0d7de"/>'
        f'<text x="2" y="{PAD + 4}">{high:,.{decimals}f}</text>'
        f'<text x="2" y="{HEIGHT - PAD}">{low:,.{decimals}f}</text>{body}</svg></figure>'
    )


def line_chart(points: Sequence[tuple[float, float]], caption: str, color: str) -> str:
    if not points:
        return _frame('<text x="50%" y="50%">no data</text>', 0, 0, caption)
    xs = _scale([x for x, _ in points] if len(points) > 1 else [0, 1], WIDTH, invert=False)
    values = [y for _, y in points]
    ys = _scale([*values, 0.0], HEIGHT, invert=True)[:-1]
    if len(points) == 1:
        xs, ys = [PAD, WIDTH - PAD], [ys[0], ys[0]]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=False))
    zero = _scale([*values, 0.0], HEIGHT, invert=True)[-1]
    body = (
        f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{zero:.1f}" y2="{zero:.1f}" stroke="#8c959f" '
        f'stroke-dasharray="3 3"/><polyline fill="none" stroke="{color}" stroke-width="1.6" '
        f'points="{path}"/>'
    )
    return _frame(body, min(0.0, *values), max(0.0, *values), caption)


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    caption: str,
    color: str,
    *,
    decimals: int = 2,
) -> str:
    """Bars per label; `decimals` of the axis and tooltips (0 for counts)."""
    if not values:
        return _frame('<text x="50%" y="50%">no data</text>', 0, 0, caption)
    scaled = _scale([*values, 0.0], HEIGHT, invert=True)
    zero = scaled[-1]
    slot = (WIDTH - 2 * PAD) / len(values)
    bars = []
    for index, (label, value, top) in enumerate(zip(labels, values, scaled, strict=False)):
        x = PAD + index * slot + slot * 0.1
        y, height = (top, zero - top) if value >= 0 else (zero, top - zero)
        fill = color if value >= 0 else "#cf222e"
        bars.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(slot * 0.8, 1):.1f}" '
            f'height="{max(height, 0.5):.1f}" fill="{fill}"><title>{escape(label)}: '
            f"{value:,.{decimals}f}</title></rect>"
        )
    return _frame("".join(bars), min(0.0, *values), max(0.0, *values), caption, decimals)


def _cell(key: str, value: Any) -> str:
    text = show(value)
    sign = ""
    if isinstance(value, str) and value.startswith("-"):
        sign = ' class="neg"'
    return f'<td data-key="{escape(key)}"{sign}>{escape(text)}</td>'


def _table(report: dict[str, Any]) -> str:
    rows = [("summary", "all strategies, all symbols", report["summary"])]
    for index, item in enumerate(report["breakdown"]):
        name = f"{item['strategy']} · {item['symbol']}".replace("*", "all")
        rows.append((f"breakdown.{index}", name, item))
    head = "".join(f"<th>{escape(label)}</th>" for _, label in METRICS)
    body = "".join(
        f"<tr><td>{escape(name)}</td>"
        + "".join(_cell(f"{prefix}.{key}", item[key]) for key, _ in METRICS)
        + "</tr>"
        for prefix, name, item in rows
    )
    return f"<table><tr><th>strategy · symbol</th>{head}</tr>{body}</table>"


def render_html(report: dict[str, Any]) -> str:
    """Return the whole report page."""
    run = report["run"]
    equity = [(float(stamp), float(value)) for stamp, value in report["equity"]]
    peak = float("-inf")
    drawdown = []
    for stamp, value in equity:
        peak = max(peak, value, 0.0)
        drawdown.append((stamp, value - peak))
    days = report["days"]
    labels = [day["date"] for day in days]
    charts = "".join(
        (
            line_chart(equity, "Equity (net P&L, R$)", "#0969da"),
            line_chart(drawdown, "Drawdown (R$)", "#cf222e"),
            bar_chart(
                labels, [float(day["net_pnl"]) for day in days], "Daily net P&L (R$)", "#1a7f37"
            ),
            bar_chart(
                labels,
                [float(day["fills"]) for day in days],
                "Fills per day",
                "#8250df",
                decimals=0,
            ),
            bar_chart(
                labels,
                [float(day["hit_rate"] or 0.0) for day in days],
                "Hit rate per day (closing fills that made money)",
                "#bf8700",
            ),
        )
    )
    facts = " · ".join(
        [
            f'strategies <b data-key="run.strategies">{escape(", ".join(run["strategies"]))}</b>',
            f'symbols <b data-key="run.symbols">{escape(", ".join(run["symbols"]))}</b>',
            f'trades <b data-key="run.trades">{run["trades"]}</b>',
            f'orders <b data-key="run.orders">{run["orders"]}</b>',
            f'denied <b data-key="run.denied">{run["denied"]}</b>',
            f'fills <b data-key="run.fills">{run["fills"]}</b>',
            f"latency {run['venue']['latency_ms']} ms, "
            f"limit fill {escape(run['venue']['limit_fill'])}",
            f"fees {escape(run['fees'])}",
        ]
    )
    day_rows = "".join(
        f"<tr><td>{escape(day['date'])}</td>"
        + "".join(
            _cell(f"days.{index}.{key}", day[key])
            for key in ("gross_pnl", "fees", "net_pnl", "fills", "closed_trades", "hit_rate")
        )
        + "</tr>"
        for index, day in enumerate(days)
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<title>tradingcore backtest report</title>"
        f"<style>{STYLE}</style></head><body>"
        "<h1>Backtest report</h1>"
        f'<div class="meta">{facts}<br>report sha256 '
        f'<code data-key="report_sha256">{escape(report["report_sha256"])}</code></div>'
        f'<div class="charts">{charts}</div>'
        f"<h2>Results</h2>{_table(report)}"
        "<h2>Days</h2><table><tr><th>day</th><th>gross P&amp;L</th><th>fees</th>"
        f"<th>net P&amp;L</th><th>fills</th><th>closed trades</th><th>hit rate</th></tr>{day_rows}"
        "</table></body></html>\n"
    )
