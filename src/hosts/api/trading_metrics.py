"""Trading-performance metrics per account, folded from the stored position events at scrape.

Cumulative realized P&L, its drawdown from the running peak and the count of winning and losing
closing fills are folded from every position event in the store (so they survive a restart);
the session day's P&L (realized plus unrealized) and the daily loss limit come from the risk
book, the figures the daily-loss check uses.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from tradingcore.application.order_manager import OrderManager
from tradingcore.application.risk_book import POSITION_TOPICS
from tradingcore.domain.position import PositionEvent

PAGE: Final = 1_000
LOCK_WAIT_SECONDS: Final = 0.5
"""A scrape waits this long for the order manager; past it the day's P&L keeps its last value."""


@dataclass
class AccountPnL:
    """The fold of one account's position events, in store order."""

    realized: Decimal = Decimal(0)
    peak: Decimal = Decimal(0)
    wins: int = 0
    losses: int = 0

    def apply(self, gross: Decimal, fees: Decimal) -> None:
        """Book one event: its gross realized P&L less its fees (an opening fill's fees too,
        so the sum is the positions' net realized P&L); a fill that realized is a win or a
        loss by its net result."""
        net = gross - fees
        self.realized += net
        self.peak = max(self.peak, self.realized)
        if not gross:
            return
        if net > 0:
            self.wins += 1
        elif net < 0:
            self.losses += 1

    @property
    def drawdown(self) -> Decimal:
        return self.peak - self.realized


class TradingCollector(Collector):
    """Export account P&L, drawdown, win/loss counts and the day's P&L against its limit."""

    def __init__(self, orders: OrderManager) -> None:
        self.orders = orders
        self.accounts: dict[str, AccountPnL] = defaultdict(AccountPnL)
        self.daily: dict[str, Decimal] = {}
        self._next_id = 1
        self._lock = threading.Lock()
        self._topics = tuple(sorted(POSITION_TOPICS))

    def refresh(self) -> None:
        """Fold the position events stored since the last call; read the day's P&L."""
        with self._lock:
            self._fold_new_events()
            self._read_daily()

    def _fold_new_events(self) -> None:
        app = self.orders.app
        while True:
            batch = app.recorder.select_notifications(
                start=self._next_id, limit=PAGE, topics=self._topics
            )
            for notification in batch:
                event = app.mapper.to_domain_event(notification)
                if isinstance(event, PositionEvent):
                    self.accounts[event.account].apply(event.realized_pnl, event.fees.amount)
                self._next_id = notification.id + 1
            if len(batch) < PAGE:
                return

    def _read_daily(self) -> None:
        orders = self.orders
        if not orders.lock.acquire(timeout=LOCK_WAIT_SECONDS):
            return
        try:
            day_start = orders.settings.calendar.session_start(orders.clock.now())
            for account in list(orders.book.symbols):
                daily = orders.book.daily_pnl(orders.app, account, day_start)
                if daily is not None:
                    self.daily[account] = daily
        finally:
            orders.lock.release()

    def collect(self) -> Iterator[Metric]:
        with suppress(Exception):  # a store hiccup must not fail the scrape: values stay
            self.refresh()
        realized = GaugeMetricFamily(
            "account_pnl_realized",
            "Cumulative net realized P&L (after fees) in R$ of the account, over every stored fill",
            labels=["account"],
        )
        drawdown = GaugeMetricFamily(
            "account_pnl_drawdown",
            "Cumulative net realized P&L in R$ below its running peak (0 at a new high)",
            labels=["account"],
        )
        closing = CounterMetricFamily(
            "account_closing_fills",
            "Fills that realized P&L, by result after fees: win (> 0) or loss (< 0)",
            labels=["account", "result"],
        )
        daily = GaugeMetricFamily(
            "account_pnl_daily",
            "Realized plus unrealized P&L in R$ of the session day (the daily-loss check's figure)",
            labels=["account"],
        )
        with self._lock:
            for account, pnl in sorted(self.accounts.items()):
                realized.add_metric([account], float(pnl.realized))
                drawdown.add_metric([account], float(pnl.drawdown))
                closing.add_metric([account, "win"], pnl.wins)
                closing.add_metric([account, "loss"], pnl.losses)
            for account, value in sorted(self.daily.items()):
                daily.add_metric([account], float(value))
        yield realized
        yield drawdown
        yield closing
        yield daily
        yield GaugeMetricFamily(
            "risk_daily_loss_limit",
            "The daily loss limit in R$ in force (risk limits)",
            value=float(self.orders.settings.limits.daily_loss_limit),
        )


class CurrentTrading(Collector):
    """The default registry's one entry for trading metrics: the started host's collector.

    Like the module-level counters of `hosts.api.metrics`, the names are registered once per
    process; a host attaches its collector when it starts and detaches it when it stops.
    """

    def __init__(self) -> None:
        self.source: TradingCollector | None = None

    def describe(self) -> list[Metric]:
        return []  # names are not known up front: never checked for clashes at registration

    def collect(self) -> Iterator[Metric]:
        source = self.source
        if source is not None:
            yield from source.collect()
