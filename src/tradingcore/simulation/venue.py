"""The simulated venue of the backtest: latency, volume-walking market orders, resting limits.

The rules (docs/backtest.md says why each is what it is):
- An order is eligible for trades shown to the venue after it was sent (never the trade it
  was decided on), and, with `latency_ms` > 0, only for trades printed at least that long
  after it was sent. Latency 0 is the live paper broker's rule.
- A market order fills at each eligible trade's price, at most the trade's volume, until done.
- A limit order rests; `limit_fill` says when a trade reaches it: "touch" (the paper rule: a
  buy fills on a print at or below its price), "through" (only strictly below), or "queue" (at
  its price only after the quantity queued ahead of it, taken from the last book top, has
  traded; strictly through always fills). It fills at the trade's price, capped by volume.
- One trade's volume is shared by the orders it reaches, first sent first served.
- A cancel takes effect `latency_ms` after it was asked: fills before that still happen.
- Cancelled trades fill nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Literal

from tradingcore.domain.book import BookTop
from tradingcore.domain.tape import Trade
from tradingcore.domain.values import Side, Symbol
from tradingcore.ports.broker import BrokerListener, BrokerOrder
from tradingcore.ports.clock import Clock

LimitFill = Literal["touch", "through", "queue"]
LIMIT_FILLS: Final = ("touch", "through", "queue")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


class VenueNotConnected(RuntimeError):
    """An order was sent to the simulated venue before `connect`."""


@dataclass(frozen=True, slots=True)
class VenueConfig:
    """How the simulated venue fills: latency in feed milliseconds and the limit-fill model."""

    latency_ms: int = 0
    limit_fill: LimitFill = "touch"

    def __post_init__(self) -> None:
        if self.latency_ms < 0:
            raise ValueError(f"invalid latency {self.latency_ms} ms: must be >= 0")
        if self.limit_fill not in LIMIT_FILLS:
            raise ValueError(
                f"invalid limit fill model {self.limit_fill!r}: one of {', '.join(LIMIT_FILLS)}"
            )


@dataclass(slots=True)
class _Resting:
    order: BrokerOrder
    remaining: int
    after: int
    """The venue's trade sequence when it was sent: only later trades may fill it."""
    active_ms: int
    """The first trade time (epoch ms) that may fill it."""
    queue_ahead: int
    cancel_at_ms: int | None = None


def _epoch_ms(at: datetime) -> int:
    return (at - _EPOCH) // timedelta(milliseconds=1)


class SimulatedVenue:
    """A Broker that matches orders against the trades it is shown (see the module's rules)."""

    in_process = True
    """Its state lives in this process: the order manager commits an order with its
    acknowledgement."""

    def __init__(self, clock: Clock, config: VenueConfig | None = None) -> None:
        self.clock = clock
        self.config = config or VenueConfig()
        self._listener: BrokerListener | None = None
        self._resting: dict[uuid.UUID, _Resting] = {}
        self._sequence = 0
        self._orders_sent = 0
        self._books: dict[Symbol, BookTop] = {}

    def connect(self, listener: BrokerListener) -> None:
        self._listener = listener

    @property
    def is_connected(self) -> bool:
        return self._listener is not None

    @property
    def has_working_orders(self) -> bool:
        return bool(self._resting)

    def working_symbols(self) -> set[Symbol]:
        return {resting.order.symbol for resting in self._resting.values()}

    def send(self, order: BrokerOrder) -> None:
        listener = self._require_listener()
        if order.order_id in self._resting:
            return
        now_ms = _epoch_ms(self.clock.now())
        self._orders_sent += 1
        self._resting[order.order_id] = _Resting(
            order,
            order.quantity,
            self._sequence,
            now_ms + self.config.latency_ms,
            self._queue_ahead(order),
        )
        listener.on_order_accepted(order.order_id, f"sim-{self._orders_sent}")

    def cancel(self, order_id: uuid.UUID) -> None:
        """Cancel a working order after the latency; an unknown order is reported at once."""
        listener = self._require_listener()
        resting = self._resting.get(order_id)
        if resting is None:
            listener.on_order_canceled(order_id, "not working at the simulated venue")
            return
        if self.config.latency_ms == 0:
            del self._resting[order_id]
            listener.on_order_canceled(order_id, "canceled at the simulated venue")
            return
        if resting.cancel_at_ms is None:
            resting.cancel_at_ms = _epoch_ms(self.clock.now()) + self.config.latency_ms

    def on_book(self, book: BookTop) -> None:
        self._books[book.symbol] = book

    def on_trade(self, trade: Trade) -> int:
        """Match one trade against the working orders; return how many fills it gave."""
        self._sequence += 1
        if not self._resting:
            return 0
        listener = self._require_listener()
        self._expire_cancels(trade.timestamp_ms, listener)
        if trade.cancelled:
            return 0
        volume = trade.volume
        fills: list[tuple[uuid.UUID, int]] = []
        for order_id, resting in self._resting.items():
            if volume <= 0:
                break
            order = resting.order
            if (
                order.symbol != trade.symbol
                or resting.after >= self._sequence
                or trade.timestamp_ms < resting.active_ms
            ):
                continue
            available = self._available(resting, trade, volume)
            if available <= 0:
                continue
            quantity = min(resting.remaining, available)
            fills.append((order_id, quantity))
            resting.remaining -= quantity
            volume -= quantity
        for order_id, quantity in fills:
            if self._resting[order_id].remaining == 0:
                del self._resting[order_id]
            listener.on_order_filled(order_id, trade.trade_id, trade.price, quantity)
        return len(fills)

    def expire_all_cancels(self) -> None:
        """At the end of a replay: cancels asked for take effect (the tape has ended)."""
        if self._listener is not None:
            self._expire_cancels(None, self._listener)

    def _expire_cancels(self, now_ms: int | None, listener: BrokerListener) -> None:
        due = [
            order_id
            for order_id, resting in self._resting.items()
            if resting.cancel_at_ms is not None
            and (now_ms is None or resting.cancel_at_ms <= now_ms)
        ]
        for order_id in due:
            del self._resting[order_id]
            listener.on_order_canceled(order_id, "canceled at the simulated venue")

    def _available(self, resting: _Resting, trade: Trade, volume: int) -> int:
        """Return how much of this trade's volume can reach the order."""
        order = resting.order
        if order.is_market:
            return volume
        buy = order.side is Side.BUY
        through = trade.price < order.price if buy else trade.price > order.price
        if through:
            return volume
        at_price = trade.price == order.price
        model = self.config.limit_fill
        if not at_price or model == "through":
            return 0
        if model == "touch":
            return volume
        # queue: the quantity ahead of us at our price trades first
        ahead = resting.queue_ahead
        if volume <= ahead:
            resting.queue_ahead = ahead - volume
            return 0
        resting.queue_ahead = 0
        return volume - ahead

    def _queue_ahead(self, order: BrokerOrder) -> int:
        if order.is_market or self.config.limit_fill != "queue":
            return 0
        book = self._books.get(order.symbol)
        if book is None:
            return 0
        if order.side is Side.BUY and order.price == book.bid_price:
            return book.bid_quantity
        if order.side is Side.SELL and order.price == book.ask_price:
            return book.ask_quantity
        return 0

    def _require_listener(self) -> BrokerListener:
        if self._listener is None:
            raise VenueNotConnected("the simulated venue is not connected")
        return self._listener
