"""The projector: routes each stored event to its fold; events it does not project are skipped."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from typing import Any, Final

from tradingcore.domain.aggregate import DomainEvent
from tradingcore.domain.features import FeaturesComputed
from tradingcore.domain.order import Order, OrderEvent, OrderFilled
from tradingcore.domain.position import PositionEvent
from tradingcore.domain.signal import SignalGenerated
from tradingcore.domain.tape import TapeOpened, TradesRecorded
from tradingcore.projections.blocks import Block
from tradingcore.projections.history import EventHistory
from tradingcore.projections.market import feature_block, signal_block, trade_block
from tradingcore.projections.trading import fill_row, order_row, position_row

ORDER_CACHE: Final = 50_000


class ProjectionError(Exception):
    """An event cannot be projected: its aggregate's history is missing or inconsistent."""


Handler = Callable[["Projector", DomainEvent, int], list[Block]]


class Projector:
    """Fold events, in notification order, into row blocks.

    Some rows need an aggregate's earlier events (a trade's session date is in its tape's
    TapeOpened; a fill's account and signal are in its order's OrderSubmitted). The projector
    remembers them as it goes and, after a restart mid-log, reads them from `history`, so
    a resumed fold yields exactly the rows a fold from scratch would.
    """

    def __init__(self, history: EventHistory) -> None:
        self.history = history
        self._sessions: dict[uuid.UUID, date] = {}
        self._orders: OrderedDict[uuid.UUID, Order] = OrderedDict()

    def project(self, event: DomainEvent, notification_id: int) -> list[Block]:
        """Return the rows an event adds (none for event types that are not projected)."""
        for kind in type(event).__mro__:
            handler = HANDLERS.get(kind)
            if handler is not None:
                return handler(self, event, notification_id)
        return []

    def _tape_opened(self, event: TapeOpened) -> list[Block]:
        self._sessions[event.originator_id] = event.session
        return []

    def _trades(self, event: TradesRecorded, notification_id: int) -> list[Block]:
        if not event.trade_ids:
            return []
        return [trade_block(event, self._session(event.originator_id), notification_id)]

    def _session(self, tape_id: uuid.UUID) -> date:
        session = self._sessions.get(tape_id)
        if session is None:
            first = self.history.events(tape_id, 1)
            if not first or not isinstance(first[0], TapeOpened):
                raise ProjectionError(f"tape {tape_id} has no TapeOpened event at version 1")
            session = self._sessions[tape_id] = first[0].session
        return session

    def _order_event(self, event: OrderEvent, notification_id: int) -> list[Block]:
        order = self._order_before(event)
        event.apply(order)
        order.version = event.originator_version
        rows = [order_row(order, event, notification_id)]
        if isinstance(event, OrderFilled):
            rows.append(fill_row(order, event, notification_id))
        return rows

    def _order_before(self, event: OrderEvent) -> Order:
        """Return the order as it stood just before `event`."""
        order_id = event.originator_id
        order = self._orders.get(order_id)
        if order is None or order.version != event.originator_version - 1:
            earlier = self.history.events(order_id, event.originator_version - 1)
            if len(earlier) != event.originator_version - 1:
                raise ProjectionError(
                    f"order {order_id}: {len(earlier)} earlier events found, "
                    f"expected {event.originator_version - 1}"
                )
            order = Order.rehydrate(order_id, earlier)  # type: ignore[arg-type]
        self._orders[order_id] = order
        self._orders.move_to_end(order_id)
        while len(self._orders) > ORDER_CACHE:
            self._orders.popitem(last=False)
        return order


def _handler(method: Callable[..., list[Block]], *, with_id: bool = True) -> Handler:
    def handle(projector: Projector, event: Any, notification_id: int) -> list[Block]:
        if with_id:
            return method(projector, event, notification_id)
        return method(projector, event)

    return handle


HANDLERS: Final[dict[type, Handler]] = {
    TapeOpened: _handler(Projector._tape_opened, with_id=False),
    TradesRecorded: _handler(Projector._trades),
    FeaturesComputed: lambda _, event, nid: [feature_block(event, nid)],  # type: ignore[arg-type]
    SignalGenerated: lambda _, event, nid: [signal_block(event, nid)],  # type: ignore[arg-type]
    OrderEvent: _handler(Projector._order_event),
    PositionEvent: lambda _, event, nid: [position_row(event, nid)],  # type: ignore[arg-type]
}
"""One small handler per event type; subclasses (OrderFilled, PositionClosed...) match by MRO."""
