"""The paper broker: acknowledges at once and fills against the market tape.

Market orders fill at the next trade's price. A buy limit fills when a trade prints at or
below its price, a sell limit at or above; the fill takes the trade's price (never worse than
the limit). Each trade fills at most its own volume (`cap_by_volume`), so a large order fills
over several prints. Cancelled trades fill nothing. Feed it trades with `on_trade`: the API host
does so from the store's notification log.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from decimal import Decimal

from tradingcore.domain.tape import Trade
from tradingcore.domain.values import Side
from tradingcore.ports.broker import BrokerListener, BrokerOrder


class BrokerNotConnected(RuntimeError):
    """An order was sent before `connect` or after `disconnect`."""


@dataclass(slots=True)
class WorkingOrder:
    order: BrokerOrder
    remaining: int


@dataclass(frozen=True, slots=True)
class PaperFill:
    order_id: uuid.UUID
    trade_id: int
    price: Decimal
    quantity: int


class PaperBroker:
    """A Broker that simulates a venue from the trades it is shown."""

    in_process = True
    """Its venue state lives in this process: the order manager may commit an order and its
    acknowledgement together, since a crash loses both sides alike."""

    def __init__(self, *, cap_by_volume: bool = True) -> None:
        self.cap_by_volume = cap_by_volume
        self._listener: BrokerListener | None = None
        self._working: dict[uuid.UUID, WorkingOrder] = {}
        self._lock = threading.Lock()

    def connect(self, listener: BrokerListener) -> None:
        self._listener = listener

    def disconnect(self) -> None:
        self._listener = None

    @property
    def is_connected(self) -> bool:
        return self._listener is not None

    @property
    def working_orders(self) -> list[BrokerOrder]:
        with self._lock:
            return [working.order for working in self._working.values()]

    def send(self, order: BrokerOrder) -> None:
        listener = self._require_listener()
        with self._lock:
            if order.order_id in self._working:
                return  # the same order sent twice is routed once
            # From the order's id, not a counter: a counter restarts at 1 with the process and
            # gave two orders the same venue id across a restart.
            venue_order_id = f"paper-{order.order_id.hex}"
            self._working[order.order_id] = WorkingOrder(order, order.quantity)
        # Call back outside the lock: the listener may take its own lock and call us again.
        listener.on_order_accepted(order.order_id, venue_order_id)

    def cancel(self, order_id: uuid.UUID) -> None:
        """Cancel a working order; an order the venue does not work is reported canceled too."""
        listener = self._require_listener()
        with self._lock:
            working = self._working.pop(order_id, None)
        reason = "canceled at the paper venue" if working else "not working at the paper venue"
        listener.on_order_canceled(order_id, reason)

    def resume(self, order: BrokerOrder, remaining: int) -> None:
        """Work again an order accepted before a restart (the paper venue keeps no state)."""
        if remaining > 0:
            with self._lock:
                self._working.setdefault(order.order_id, WorkingOrder(order, remaining))

    def on_trade(self, trade: Trade) -> list[PaperFill]:
        """Fill the working orders this trade reaches; return the fills reported."""
        if trade.cancelled:
            return []
        fills: list[PaperFill] = []
        with self._lock:
            volume = trade.volume
            for order_id, working in list(self._working.items()):
                if working.order.symbol != trade.symbol or not _reaches(working.order, trade):
                    continue
                quantity = (
                    min(working.remaining, volume) if self.cap_by_volume else working.remaining
                )
                if quantity <= 0:
                    break
                fills.append(PaperFill(order_id, trade.trade_id, trade.price, quantity))
                working.remaining -= quantity
                volume -= quantity
                if working.remaining == 0:
                    del self._working[order_id]
        listener = self._listener
        if listener is not None:
            for fill in fills:
                listener.on_order_filled(fill.order_id, fill.trade_id, fill.price, fill.quantity)
        return fills

    def _require_listener(self) -> BrokerListener:
        if self._listener is None:
            raise BrokerNotConnected("the paper broker is not connected")
        return self._listener


def _reaches(order: BrokerOrder, trade: Trade) -> bool:
    if order.is_market:
        return True
    if order.side is Side.BUY:
        return trade.price <= order.price
    return trade.price >= order.price
