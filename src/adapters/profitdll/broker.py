"""ProfitDLLBroker: the Broker port over ProfitDLL routing (send, cancel, change, callbacks)."""

from __future__ import annotations

import logging
import math
import os
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Final

from adapters.profitdll import types as t
from adapters.profitdll.account import (
    ENVIRONMENT_VARIABLES,
    RoutingAccount,
    settings_from_environment,
)
from adapters.profitdll.binding import Credentials, ProfitDLL
from adapters.profitdll.constants import (
    ORDER_SIDE_BUY,
    ORDER_SIDE_SELL,
    ORDER_STATUS_NAMES,
    ORDER_TYPE_LIMIT,
    ORDER_TYPE_MARKET,
)
from adapters.profitdll.errors import MalformedRecord, ProfitDLLError, ResultError
from adapters.profitdll.records import (
    DLLRecord,
    OrderDetails,
    SendRejected,
    TradingMessageRecord,
)
from adapters.profitdll.session import ProfitDLLSession
from adapters.profitdll.translate import (
    GRID_TOLERANCE,
    dll_exchange,
    exact_price,
    price_grid,
    symbol_of,
)
from tradingcore.domain.values import Side, Symbol
from tradingcore.ports.broker import BrokerListener, BrokerOrder
from tradingcore.ports.market_data import ConnectionState

__all__ = ["ENVIRONMENT_VARIABLES", "ProfitDLLBroker", "RoutingAccount"]

logger = logging.getLogger(__name__)

SEND_ORDER_VERSION: Final = 1
"""V1 uses the current order-type/side enums; MessageID is written back from V1 (DELn, CSn)."""

NEW: Final = 0
PARTIALLY_FILLED: Final = 1
FILLED: Final = 2
CANCELED_STATUSES: Final = frozenset({3, 4, 12, 15, 17, 205})
REJECTED_STATUSES: Final = frozenset({8, 18, 204})
REJECTED_MESSAGES: Final[dict[int, str]] = {
    1: "NotConnected",
    3: "RejectedMercury",
    5: "RejectedHades",
    7: "RejectedBroker",
    9: "RejectedMarket",
    24: "BlockedByRisk",
    77: "InvalidData",
}
"""TConnectorTradingMessageResultCode values that end an order before the venue has it."""

FILL_ID_SPACING: Final = 10**9
"""Fill trade ids are local id x spacing + cumulative quantity: stable across redeliveries."""


@dataclass(slots=True)
class _Tracked:
    order_id: uuid.UUID
    symbol: Symbol
    local_order_id: int = 0
    traded: int = 0
    average_price: float = 0.0
    accepted: bool = False
    finished: bool = False
    message_ids: set[int] = field(default_factory=set)


class ProfitDLLBroker:
    """Routes orders through ProfitDLL; order callbacks reach the BrokerListener in order.

    Listener calls happen on the session's dispatcher thread. Fills carry a derived trade id
    (the DLL's order details have no trade number); the core dedupes redeliveries by it.
    """

    def __init__(
        self,
        library_path: str | Path | None = None,
        credentials: Credentials | None = None,
        account: RoutingAccount | None = None,
        *,
        session: ProfitDLLSession | None = None,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        """Arguments left out are read from the environment (see `ENVIRONMENT_VARIABLES`)."""
        if account is None or (session is None and (library_path is None or credentials is None)):
            library_path, credentials, account = settings_from_environment(
                environment if environment is not None else os.environ,
                library_path,
                credentials,
                account,
                need_session=session is None,
            )
        self.session = session or ProfitDLLSession(
            library_path or "", credentials or Credentials("", "", ""), routing=True
        )
        if not self.session.routing:
            raise ProfitDLLError("ProfitDLLBroker needs a session initialized with routing=True")
        self.account = account
        self._listener: BrokerListener | None = None
        self._lock = threading.Lock()
        self._by_order: dict[uuid.UUID, _Tracked] = {}
        self._by_local: dict[int, _Tracked] = {}
        self._by_message: dict[int, _Tracked] = {}
        self.session.add_consumer(self)

    # -- the Broker port --

    def connect(self, listener: BrokerListener) -> None:
        """Initialize the DLL with routing (no-op if the shared session already runs)."""
        self._listener = listener
        self.session.start()

    @property
    def is_connected(self) -> bool:
        state = self.session.state
        return state.login and state.routing

    def send(self, order: BrokerOrder) -> None:
        """Send a limit order, or a market order (price -1).

        Raises ProfitDLLError before connect(); once connected, a DLL refusal (not logged in,
        invalid arguments...) comes back as `on_order_rejected` with the NResult's name.
        """
        record = self._send_record(order)
        library = self._library()
        with self._lock:
            tracked = _Tracked(order.order_id, order.symbol)
            self._by_order[order.order_id] = tracked
            try:
                local_id = library.send_order(record)
            except ResultError as error:
                tracked.finished = True
                self.session.enqueue(SendRejected(order.order_id, error.code_name, str(error)))
                return
            tracked.local_order_id = local_id
            self._by_local[local_id] = tracked
            if record.MessageID > 0:
                tracked.message_ids.add(int(record.MessageID))
                self._by_message[int(record.MessageID)] = tracked

    def cancel(self, order_id: uuid.UUID) -> None:
        """Ask the DLL to cancel; raise the named error if the DLL refuses the request."""
        tracked = self._tracked(order_id)
        cancel = t.CancelOrderRecord()
        cancel.Version = 1
        cancel.AccountID = self._account_identifier()
        cancel.OrderID = t.OrderIdentifier(0, tracked.local_order_id, None)
        cancel.Password = self.account.routing_password
        self._library().cancel_order(cancel)

    def change(self, order_id: uuid.UUID, price: Decimal, quantity: int) -> None:
        """Change a live limit order's price and quantity (SendChangeOrderV2)."""
        tracked = self._tracked(order_id)
        change = t.ChangeOrderRecord()
        change.Version = 1
        change.AccountID = self._account_identifier()
        change.OrderID = t.OrderIdentifier(0, tracked.local_order_id, None)
        change.Password = self.account.routing_password
        change.Price = float(price)
        change.StopPrice = -1.0
        change.Quantity = quantity
        self._library().change_order(change)

    def disconnect(self) -> None:
        self.session.stop()

    def local_order_id(self, order_id: uuid.UUID) -> int:
        """Return the DLL's local order id (valid for this DLL session only)."""
        return self._tracked(order_id).local_order_id

    # -- session consumer (dispatcher thread) --

    def handle_state(self, state: ConnectionState) -> None:
        logger.debug("ProfitDLL routing state: %s", state)

    def handle_record(self, record: DLLRecord) -> None:
        listener = self._listener
        if listener is None:
            return
        if isinstance(record, SendRejected):
            listener.on_order_rejected(record.order_id, record.code_name, record.reason)
        elif isinstance(record, OrderDetails):
            self._on_details(listener, record)
        elif isinstance(record, TradingMessageRecord):
            self._on_message(listener, record)

    def _on_details(self, listener: BrokerListener, details: OrderDetails) -> None:
        with self._lock:
            tracked = self._by_local.get(details.local_order_id)
        if tracked is None or tracked.finished:
            return  # an order of another session (e.g. the Profit platform) or already closed
        status = details.status
        if status in (NEW, PARTIALLY_FILLED, FILLED) or details.traded_quantity > tracked.traded:
            self._accept(listener, tracked)
        if details.traded_quantity > tracked.traded:
            self._fill(listener, tracked, details)
        if status in CANCELED_STATUSES:
            tracked.finished = True
            reason = details.text or ORDER_STATUS_NAMES.get(status, str(status))
            listener.on_order_canceled(tracked.order_id, reason)
        elif status in REJECTED_STATUSES:
            tracked.finished = True
            name = ORDER_STATUS_NAMES.get(status, str(status))
            listener.on_order_rejected(tracked.order_id, name, details.text or name)
        elif status == FILLED:
            tracked.finished = True

    def _on_message(self, listener: BrokerListener, message: TradingMessageRecord) -> None:
        with self._lock:
            tracked = self._by_message.get(message.message_id) or self._by_local.get(
                message.local_order_id
            )
        name = REJECTED_MESSAGES.get(message.result_code)
        if tracked is None or tracked.finished or name is None:
            return
        tracked.finished = True
        listener.on_order_rejected(tracked.order_id, name, message.message or name)

    def _accept(self, listener: BrokerListener, tracked: _Tracked) -> None:
        if not tracked.accepted:
            tracked.accepted = True
            listener.on_order_accepted(tracked.order_id, str(tracked.local_order_id))

    def _fill(self, listener: BrokerListener, tracked: _Tracked, details: OrderDetails) -> None:
        quantity = details.traded_quantity - tracked.traded
        # The DLL reports a cumulative average; the price of this fill is what moved it.
        notional = details.average_price * details.traded_quantity
        price_value = (notional - tracked.average_price * tracked.traded) / quantity
        base = details.local_order_id * FILL_ID_SPACING
        grid = price_grid(tracked.symbol)
        try:
            parts = [(details.traded_quantity, exact_price(price_value, grid), quantity)]
        except MalformedRecord:
            # One report can cover executions at several prices: their average is off the
            # grid, which the core refuses. Book it as two fills on the neighbouring ticks
            # with the same quantity and notional (exact: the notional is whole ticks).
            parts = _on_grid(price_value, quantity, grid, tracked.traded)
            if not parts:
                logger.error("fill of %s has a bad price %r", tracked.order_id, price_value)
                parts = [(details.traded_quantity, Decimal(repr(round(price_value, 4))), quantity)]
        tracked.traded = details.traded_quantity
        tracked.average_price = details.average_price
        for traded, price, part in parts:
            listener.on_order_filled(tracked.order_id, base + traded, price, part)

    # -- helpers --

    def _library(self) -> ProfitDLL:
        library = self.session.library
        if library is None or not self.session.initialized:
            raise ProfitDLLError("ProfitDLL is not initialized: call connect() first")
        return library

    def _tracked(self, order_id: uuid.UUID) -> _Tracked:
        with self._lock:
            tracked = self._by_order.get(order_id)
        if tracked is None or not tracked.local_order_id:
            raise ProfitDLLError(f"unknown order {order_id}: it was not sent through ProfitDLL")
        return tracked

    def _account_identifier(self) -> t.AccountIdentifier:
        return t.AccountIdentifier(
            0,
            self.account.broker_id,
            self.account.account_id,
            self.account.sub_account_id or None,
            0,
        )

    def _send_record(self, order: BrokerOrder) -> t.SendOrderRecord:
        symbol_of(order.symbol.ticker)
        record = t.SendOrderRecord()
        record.Version = SEND_ORDER_VERSION
        record.AccountID = self._account_identifier()
        record.AssetID = t.AssetIdentifier(0, order.symbol.ticker, dll_exchange(order.symbol), 0)
        record.Password = self.account.routing_password
        record.OrderType = ORDER_TYPE_MARKET if order.is_market else ORDER_TYPE_LIMIT
        record.OrderSide = ORDER_SIDE_BUY if order.side is Side.BUY else ORDER_SIDE_SELL
        record.Price = -1.0 if order.is_market else float(order.price)
        record.StopPrice = -1.0
        record.Quantity = order.quantity
        record.MessageID = 0
        return record


def _on_grid(
    average: float, quantity: int, grid: Decimal, traded_before: int
) -> list[tuple[int, Decimal, int]]:
    """Split `quantity` at an off-grid average price into (cumulative traded, price, quantity)
    parts on the two neighbouring ticks with the same notional; [] if the notional is not a
    whole number of ticks (a malformed report)."""
    if not math.isfinite(average) or average <= 0:
        return []
    ticks_total = Decimal(repr(average)) * quantity / grid
    notional = int(ticks_total.to_integral_value(ROUND_HALF_EVEN))
    if abs(ticks_total - notional) > GRID_TOLERANCE * quantity:
        return []
    low, upper = divmod(notional, quantity)  # `upper` contracts one tick above `low`
    parts = []
    if quantity - upper:
        parts.append((traded_before + quantity - upper, grid * low, quantity - upper))
    if upper:
        parts.append((traded_before + quantity, grid * (low + 1), upper))
    return [(traded, _plain(price), part) for traded, price, part in parts if price > 0]


def _plain(price: Decimal) -> Decimal:
    return price.quantize(Decimal(1)) if price == price.to_integral_value() else price
