"""The ctypes binding: loads ProfitDLL (or the fake), declares every function, checks results."""

from __future__ import annotations

import ctypes
import os
from ctypes import POINTER, c_int32, c_int64, c_void_p, c_wchar_p
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from adapters.profitdll import types as t
from adapters.profitdll.errors import LibraryNotFound, check_result
from adapters.profitdll.records import OrderDetails

_INITIALIZE_LOGIN_SLOTS: Final = (
    t.HistoryCallback,
    t.OrderChangeCallback,
    t.AccountCallback,
    t.NewTradeCallback,
    t.NewDailyCallback,
    t.PriceBookCallback,
    t.OfferBookCallback,
    t.HistoryTradeCallback,
    t.ProgressCallback,
    t.TinyBookCallback,
)
_INITIALIZE_MARKET_SLOTS: Final = _INITIALIZE_LOGIN_SLOTS[3:]

SIGNATURES: Final[dict[str, tuple[Any, list[Any]]]] = {
    "DLLInitializeLogin": (
        c_int32,
        [c_wchar_p, c_wchar_p, c_wchar_p, t.StateCallback, *_INITIALIZE_LOGIN_SLOTS],
    ),
    "DLLInitializeMarketLogin": (
        c_int32,
        [c_wchar_p, c_wchar_p, c_wchar_p, t.StateCallback, *_INITIALIZE_MARKET_SLOTS],
    ),
    "DLLFinalize": (c_int32, []),
    "SetStateCallback": (c_int32, [t.StateCallback]),
    "SetTradeCallbackV2": (c_int32, [t.TradeCallbackV2]),
    "SetOfferBookCallbackV2": (c_int32, [t.OfferBookCallbackV2]),
    "SetOrderCallback": (c_int32, [t.OrderCallback]),
    "SetInvalidTickerCallback": (c_int32, [t.InvalidTickerCallback]),
    "SetTradingMessageResultCallback": (c_int32, [t.TradingMessageResultCallback]),
    "SubscribeTicker": (c_int32, [c_wchar_p, c_wchar_p]),
    "UnsubscribeTicker": (c_int32, [c_wchar_p, c_wchar_p]),
    "SubscribeOfferBook": (c_int32, [c_wchar_p, c_wchar_p]),
    "UnsubscribeOfferBook": (c_int32, [c_wchar_p, c_wchar_p]),
    "TranslateTrade": (c_int32, [c_void_p, POINTER(t.TradeRecord)]),
    "FreePointer": (c_int32, [c_void_p, c_int32]),
    "SendOrder": (c_int64, [POINTER(t.SendOrderRecord)]),
    "SendCancelOrderV2": (c_int32, [POINTER(t.CancelOrderRecord)]),
    "SendChangeOrderV2": (c_int32, [POINTER(t.ChangeOrderRecord)]),
    "GetOrderDetails": (c_int32, [POINTER(t.OrderOut)]),
}
"""restype and argtypes of every function the binding calls (reference section 6)."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """What DLLInitialize* needs: the activation key, the Nelogica user and password."""

    activation_key: str
    user: str
    password: str

    def __repr__(self) -> str:
        return f"Credentials(user={self.user!r}, activation_key=***, password=***)"


def _wstring(buffer: Any, length: int) -> str:
    return ctypes.wstring_at(ctypes.addressof(buffer), length) if length > 0 else ""


class ProfitDLL:
    """The loaded library with exact signatures; methods raise named errors on failure.

    Accessors (`translate_trade`, `order_details`, `free_pointer`) are for use inside callbacks;
    request functions (subscribe, send, cancel, change) must never be called from a callback.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise LibraryNotFound(
                f"ProfitDLL library not found at {self.path}: set the library path to "
                "ProfitDLL64.dll / ProfitDLL.dll (Windows) or build the fake (Linux)"
            )
        self.path = self.path.resolve()
        add_directory = getattr(os, "add_dll_directory", None)
        if add_directory is not None:  # Windows: the DLL's own dependencies sit next to it
            self._directory = add_directory(str(self.path.parent))
        try:
            self.library: Any = t.LIBRARY_LOADER(str(self.path))
        except OSError as error:
            raise LibraryNotFound(
                f"ProfitDLL library at {self.path} cannot be loaded: {error}"
            ) from error
        for name, (restype, argtypes) in SIGNATURES.items():
            function = getattr(self.library, name)
            function.restype = restype
            function.argtypes = argtypes

    def function(self, name: str) -> Any:
        """Return a declared function itself, for hot paths that check results on their own."""
        if name not in SIGNATURES:
            raise KeyError(f"{name} is not a declared ProfitDLL function")
        return getattr(self.library, name)

    def _call(self, name: str, *arguments: Any) -> int:
        return check_result(name, int(getattr(self.library, name)(*arguments)))

    def initialize_market(self, credentials: Credentials, state_callback: Any) -> None:
        """Start a market-data-only session; deprecated callback slots get NULL pointers."""
        self._call(
            "DLLInitializeMarketLogin",
            credentials.activation_key,
            credentials.user,
            credentials.password,
            state_callback,
            *(prototype() for prototype in _INITIALIZE_MARKET_SLOTS),
        )

    def initialize_routing(self, credentials: Credentials, state_callback: Any) -> None:
        """Start a market-data and order-routing session."""
        self._call(
            "DLLInitializeLogin",
            credentials.activation_key,
            credentials.user,
            credentials.password,
            state_callback,
            *(prototype() for prototype in _INITIALIZE_LOGIN_SLOTS),
        )

    def finalize(self) -> None:
        self._call("DLLFinalize")

    def set_callback(self, setter: str, callback: Any) -> None:
        """Register a V2 callback through its `Set*Callback` setter (right after initialize)."""
        self._call(setter, callback)

    def subscribe_ticker(self, ticker: str, exchange: str) -> None:
        self._call("SubscribeTicker", ticker, exchange)

    def unsubscribe_ticker(self, ticker: str, exchange: str) -> None:
        self._call("UnsubscribeTicker", ticker, exchange)

    def subscribe_offer_book(self, ticker: str, exchange: str) -> None:
        self._call("SubscribeOfferBook", ticker, exchange)

    def unsubscribe_offer_book(self, ticker: str, exchange: str) -> None:
        self._call("UnsubscribeOfferBook", ticker, exchange)

    def translate_trade(self, trade_pointer: int | None) -> t.TradeRecord:
        """Copy the trade behind the V2 callback's opaque pointer (Version 0)."""
        record = t.TradeRecord()
        record.Version = 0
        self._call("TranslateTrade", trade_pointer, ctypes.byref(record))
        return record

    def free_pointer(self, pointer: int, size: int) -> None:
        self._call("FreePointer", pointer, size)

    def send_order(self, order: t.SendOrderRecord) -> int:
        """Send an order; return the local order id (MessageID is written into `order`)."""
        return self._call("SendOrder", ctypes.byref(order))

    def cancel_order(self, cancel: t.CancelOrderRecord) -> None:
        self._call("SendCancelOrderV2", ctypes.byref(cancel))

    def change_order(self, change: t.ChangeOrderRecord) -> None:
        self._call("SendChangeOrderV2", ctypes.byref(change))

    def order_details(self, local_order_id: int, client_order_id: str | None) -> OrderDetails:
        """Read an order with GetOrderDetails' two-call protocol (inside the order callback)."""
        out = t.OrderOut()
        out.Version = 1
        out.OrderID.Version = 0
        out.OrderID.LocalOrderID = local_order_id
        out.OrderID.ClOrderID = client_order_id
        self._call("GetOrderDetails", ctypes.byref(out))
        ticker = ctypes.create_unicode_buffer(out.AssetID.TickerLength + 1)
        exchange = ctypes.create_unicode_buffer(out.AssetID.ExchangeLength + 1)
        text = ctypes.create_unicode_buffer(out.TextMessageLength + 1)
        out.AssetID.Ticker = ctypes.addressof(ticker)
        out.AssetID.Exchange = ctypes.addressof(exchange)
        out.TextMessage = ctypes.addressof(text)
        self._call("GetOrderDetails", ctypes.byref(out))
        return OrderDetails(
            local_order_id=int(out.OrderID.LocalOrderID),
            client_order_id=client_order_id or "",
            account=out.AccountID.AccountID,
            ticker=_wstring(ticker, out.AssetID.TickerLength),
            exchange=_wstring(exchange, out.AssetID.ExchangeLength),
            quantity=int(out.Quantity),
            traded_quantity=int(out.TradedQuantity),
            leaves_quantity=int(out.LeavesQuantity),
            price=float(out.Price),
            average_price=float(out.AveragePrice),
            side=int(out.OrderSide),
            order_type=int(out.OrderType),
            status=int(out.OrderStatus),
            text=_wstring(text, out.TextMessageLength),
        )
