"""ProfitDLL callbacks: copy the data (accessors only), enqueue, never raise or block.

They run on the DLL's ConnectorThread. Request functions (subscribe, send...) are never called
here; TranslateTrade, GetOrderDetails and FreePointer are, as the DLL requires (reference 3).
"""

from __future__ import annotations

import ctypes
import struct
import threading
from collections.abc import Callable
from typing import Any, Final

from adapters.profitdll import types as t
from adapters.profitdll.binding import ProfitDLL
from adapters.profitdll.errors import result_error
from adapters.profitdll.records import (
    CallbackFailure,
    InvalidTickerRecord,
    OfferBookRecord,
    RawTrade,
    StateRecord,
    TradingMessageRecord,
)

_ARRAY_HEADER: Final = struct.Struct("<ii")


def make_callbacks(
    library: ProfitDLL, put: Callable[[object], None], finalizing: Callable[[], bool]
) -> dict[str, Any]:
    """Build the ctypes callbacks; the caller keeps the returned objects alive."""

    def on_state(state_type: int, result: int) -> None:
        _pin_thread_state()
        if not finalizing():
            put(StateRecord(state_type, result))

    # One reusable TConnectorTrade: callbacks all run on the DLL's single ConnectorThread.
    translate = library.function("TranslateTrade")
    trade = t.TradeRecord()
    trade_reference = ctypes.byref(trade)

    def on_trade(asset: t.AssetIdentifier, pointer: int | None, flags: int) -> None:
        if not getattr(_THREAD, "pinned", False):
            _pin_thread_state()
        try:
            trade.Version = 0
            code = translate(pointer, trade_reference)
            if code < 0:
                put(CallbackFailure("trade", str(result_error("TranslateTrade", code))))
            else:
                put(RawTrade(asset.Ticker or "", asset.Exchange or "", bytes(trade), flags))
        except Exception as error:
            put(CallbackFailure("trade", f"TranslateTrade failed: {error}"))

    def on_offer_book(
        asset: t.AssetIDRec,
        action: int,
        position: int,
        side: int,
        quantity: int,
        agent: int,
        offer_id: int,
        price: float,
        has_price: int,
        has_quantity: int,
        has_date: int,
        has_offer_id: int,
        has_agent: int,
        date: str | None,
        sell: int | None,
        buy: int | None,
    ) -> None:
        _pin_thread_state()
        try:
            put(
                OfferBookRecord(
                    asset.pwcTicker or "",
                    asset.pwcBolsa or "",
                    action,
                    position,
                    side,
                    quantity,
                    agent,
                    offer_id,
                    price,
                    bool(has_price),
                    bool(has_quantity),
                    bool(has_date),
                    date if has_date else None,
                    _take_array(library, sell),
                    _take_array(library, buy),
                )
            )
        except Exception as error:
            put(CallbackFailure("offer_book", f"offer book copy failed: {error}"))

    def on_invalid_ticker(asset: t.AssetIdentifier) -> None:
        put(InvalidTickerRecord(asset.Ticker or "", asset.Exchange or ""))

    def on_order(identifier: t.OrderIdentifier) -> None:
        try:
            put(library.order_details(identifier.LocalOrderID, identifier.ClOrderID))
        except Exception as error:
            put(CallbackFailure("order", f"GetOrderDetails failed: {error}"))

    def on_trading_message(result: Any) -> None:
        try:
            message = result.contents
            put(
                TradingMessageRecord(
                    message.OrderID.LocalOrderID,
                    message.MessageID,
                    message.ResultCode,
                    message.Message or "",
                )
            )
        except Exception as error:
            put(CallbackFailure("trading_message", f"message copy failed: {error}"))

    return {
        "state": t.StateCallback(on_state),
        "trade": t.TradeCallbackV2(on_trade),
        "offer_book": t.OfferBookCallbackV2(on_offer_book),
        "invalid_ticker": t.InvalidTickerCallback(on_invalid_ticker),
        "order": t.OrderCallback(on_order),
        "trading_message": t.TradingMessageResultCallback(on_trading_message),
    }


_THREAD: Final = threading.local()
"""Lives as long as the thread's Python thread state: tells whether it is pinned."""
_ENSURE_GIL: Final[Any] = ctypes.pythonapi.PyGILState_Ensure
_ENSURE_GIL.restype = ctypes.c_int
_ENSURE_GIL.argtypes = []


def _pin_thread_state() -> None:
    """Keep a Python thread state on the DLL's thread (call from a callback, GIL held).

    ctypes makes a fresh thread state for every callback from a foreign thread and frees it on
    return; holding one extra PyGILState reference keeps it, which makes callbacks ~10x cheaper.
    The GIL is still released between callbacks. One small thread state per DLL thread leaks.
    """
    if not getattr(_THREAD, "pinned", False):
        _ENSURE_GIL()
        _THREAD.pinned = True


def _take_array(library: ProfitDLL, pointer: int | None) -> bytes | None:
    """Copy a DLL-owned book array (its size is in the header) and release it with FreePointer."""
    if not pointer:
        return None
    _, size = _ARRAY_HEADER.unpack(ctypes.string_at(pointer, _ARRAY_HEADER.size))
    data = ctypes.string_at(pointer, size)
    library.free_pointer(pointer, size)
    return data
