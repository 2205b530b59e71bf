"""ctypes declarations of ProfitDLL's records and callback prototypes (reference sections 5, 7).

Windows: the DLL is stdcall, so prototypes use WINFUNCTYPE and the library is loaded with WinDLL
(on Win64 both are the same as cdecl). Elsewhere (the fake on Linux) CFUNCTYPE and CDLL.
Strings are `c_wchar_p`: UTF-16 on Windows, UTF-32 on Linux, matching each platform's `wchar_t`,
so the fake must use `wchar_t` too. Fixed `WCHAR[100]` arrays are therefore 200 bytes on Windows
and 400 on Linux; pointer, integer and double offsets are the same. Delphi `Char` flags are
2-byte `c_uint16`. `c_long` is never used (4 bytes on Windows, 8 on Linux).
"""

from __future__ import annotations

import ctypes
from ctypes import (
    POINTER,
    Structure,
    c_double,
    c_int32,
    c_int64,
    c_uint8,
    c_uint16,
    c_uint32,
    c_void_p,
    c_wchar,
    c_wchar_p,
)
from typing import Any, Final

FUNCTYPE: Final[Any] = getattr(ctypes, "WINFUNCTYPE", ctypes.CFUNCTYPE)
LIBRARY_LOADER: Final[Any] = getattr(ctypes, "WinDLL", ctypes.CDLL)


class SystemTime(Structure):
    """Win32 SYSTEMTIME (Delphi TSystemTime): local time of the venue."""

    _fields_ = [
        ("wYear", c_uint16),
        ("wMonth", c_uint16),
        ("wDayOfWeek", c_uint16),
        ("wDay", c_uint16),
        ("wHour", c_uint16),
        ("wMinute", c_uint16),
        ("wSecond", c_uint16),
        ("wMilliseconds", c_uint16),
    ]


class AssetIDRec(Structure):
    """TAssetIDRec, the legacy asset record (natural layout, see reference section 2.7)."""

    _fields_ = [("pwcTicker", c_wchar_p), ("pwcBolsa", c_wchar_p), ("nFeed", c_int32)]


class AssetIdentifier(Structure):
    """TConnectorAssetIdentifier."""

    _fields_ = [
        ("Version", c_uint8),
        ("Ticker", c_wchar_p),
        ("Exchange", c_wchar_p),
        ("FeedType", c_uint8),
    ]


class AccountIdentifier(Structure):
    """TConnectorAccountIdentifier."""

    _fields_ = [
        ("Version", c_uint8),
        ("BrokerID", c_int32),
        ("AccountID", c_wchar_p),
        ("SubAccountID", c_wchar_p),
        ("Reserved", c_int64),
    ]


class AccountIdentifierOut(Structure):
    """TConnectorAccountIdentifierOut."""

    _fields_ = [
        ("Version", c_uint8),
        ("BrokerID", c_int32),
        ("AccountID", c_wchar * 100),
        ("AccountIDLength", c_int32),
        ("SubAccountID", c_wchar * 100),
        ("SubAccountIDLength", c_int32),
        ("Reserved", c_int64),
    ]


class AssetIdentifierOut(Structure):
    """TConnectorAssetIdentifierOut: string buffers are supplied by the caller (two-call)."""

    _fields_ = [
        ("Version", c_uint8),
        ("Ticker", c_void_p),
        ("TickerLength", c_int32),
        ("Exchange", c_void_p),
        ("ExchangeLength", c_int32),
        ("FeedType", c_uint8),
    ]


class OrderIdentifier(Structure):
    """TConnectorOrderIdentifier: LocalOrderID -1 when only the ClOrderID is known."""

    _fields_ = [("Version", c_uint8), ("LocalOrderID", c_int64), ("ClOrderID", c_wchar_p)]


class SendOrderRecord(Structure):
    """TConnectorSendOrder (120 bytes on Win64); MessageID is written back by the DLL."""

    _fields_ = [
        ("Version", c_uint8),
        ("AccountID", AccountIdentifier),
        ("AssetID", AssetIdentifier),
        ("Password", c_wchar_p),
        ("OrderType", c_uint8),
        ("OrderSide", c_uint8),
        ("Price", c_double),
        ("StopPrice", c_double),
        ("Quantity", c_int64),
        ("MessageID", c_int64),
    ]


class ChangeOrderRecord(Structure):
    """TConnectorChangeOrder."""

    _fields_ = [
        ("Version", c_uint8),
        ("AccountID", AccountIdentifier),
        ("OrderID", OrderIdentifier),
        ("Password", c_wchar_p),
        ("Price", c_double),
        ("StopPrice", c_double),
        ("Quantity", c_int64),
        ("MessageID", c_int64),
    ]


class CancelOrderRecord(Structure):
    """TConnectorCancelOrder."""

    _fields_ = [
        ("Version", c_uint8),
        ("AccountID", AccountIdentifier),
        ("OrderID", OrderIdentifier),
        ("Password", c_wchar_p),
        ("MessageID", c_int64),
    ]


class OrderOut(Structure):
    """TConnectorOrderOut, filled by GetOrderDetails in two calls."""

    _fields_ = [
        ("Version", c_uint8),
        ("OrderID", OrderIdentifier),
        ("AccountID", AccountIdentifierOut),
        ("AssetID", AssetIdentifierOut),
        ("Quantity", c_int64),
        ("TradedQuantity", c_int64),
        ("LeavesQuantity", c_int64),
        ("Price", c_double),
        ("StopPrice", c_double),
        ("AveragePrice", c_double),
        ("OrderSide", c_uint8),
        ("OrderType", c_uint8),
        ("OrderStatus", c_uint8),
        ("ValidityType", c_uint8),
        ("Date", SystemTime),
        ("LastUpdate", SystemTime),
        ("CloseDate", SystemTime),
        ("ValidityDate", SystemTime),
        ("TextMessage", c_void_p),
        ("TextMessageLength", c_int32),
        ("EventID", c_int64),
    ]


class TradeRecord(Structure):
    """TConnectorTrade (64 bytes), filled by TranslateTrade inside the trade callback."""

    _fields_ = [
        ("Version", c_uint8),
        ("TradeDate", SystemTime),
        ("TradeNumber", c_uint32),
        ("Price", c_double),
        ("Quantity", c_int64),
        ("Volume", c_double),
        ("BuyAgent", c_int32),
        ("SellAgent", c_int32),
        ("TradeType", c_uint8),
    ]


class TradingMessageResult(Structure):
    """TConnectorTradingMessageResult (4.0.0.41+)."""

    _fields_ = [
        ("Version", c_uint8),
        ("BrokerID", c_int32),
        ("OrderID", OrderIdentifier),
        ("MessageID", c_int64),
        ("ResultCode", c_uint8),
        ("Message", c_wchar_p),
        ("MessageLength", c_int32),
    ]


StateCallback: Final[Any] = FUNCTYPE(None, c_int32, c_int32)
NewTradeCallback: Final[Any] = FUNCTYPE(
    None, AssetIDRec, c_wchar_p, c_uint32, c_double, c_double,
    c_int32, c_int32, c_int32, c_int32, c_uint16,
)  # fmt: skip
NewDailyCallback: Final[Any] = FUNCTYPE(
    None, AssetIDRec, c_wchar_p, *([c_double] * 10), *([c_int32] * 7)
)
PriceBookCallback: Final[Any] = FUNCTYPE(
    None, AssetIDRec, c_int32, c_int32, c_int32, c_int32, c_int32, c_double, c_void_p, c_void_p
)
OfferBookCallback: Final[Any] = FUNCTYPE(
    None, AssetIDRec, c_int32, c_int32, c_int32, c_int32, c_int32, c_int64, c_double,
    c_uint16, c_uint16, c_uint16, c_uint16, c_uint16, c_wchar_p, c_void_p, c_void_p,
)  # fmt: skip
OfferBookCallbackV2: Final[Any] = FUNCTYPE(
    None, AssetIDRec, c_int32, c_int32, c_int32, c_int64, c_int32, c_int64, c_double,
    c_uint16, c_uint16, c_uint16, c_uint16, c_uint16, c_wchar_p, c_void_p, c_void_p,
)  # fmt: skip
"""asset, action, position, side, quantity (i64), agent, offer id, price, has price/quantity/
date/offer id/agent (Delphi Char), date, sell array, buy array."""
HistoryTradeCallback: Final[Any] = FUNCTYPE(
    None, AssetIDRec, c_wchar_p, c_uint32, c_double, c_double, c_int32, c_int32, c_int32, c_int32
)
ProgressCallback: Final[Any] = FUNCTYPE(None, AssetIDRec, c_int32)
TinyBookCallback: Final[Any] = FUNCTYPE(None, AssetIDRec, c_double, c_int32, c_int32)
AccountCallback: Final[Any] = FUNCTYPE(None, c_int32, c_wchar_p, c_wchar_p, c_wchar_p)
OrderChangeCallback: Final[Any] = FUNCTYPE(
    None, AssetIDRec, c_int32, c_int32, c_int32, c_int32, c_int32, c_double, c_double, c_double,
    c_int64, *([c_wchar_p] * 7),
)  # fmt: skip
HistoryCallback: Final[Any] = FUNCTYPE(
    None, AssetIDRec, c_int32, c_int32, c_int32, c_int32, c_int32, c_double, c_double, c_double,
    c_int64, *([c_wchar_p] * 6),
)  # fmt: skip
TradeCallbackV2: Final[Any] = FUNCTYPE(None, AssetIdentifier, c_void_p, c_uint32)
OrderCallback: Final[Any] = FUNCTYPE(None, OrderIdentifier)
InvalidTickerCallback: Final[Any] = FUNCTYPE(None, AssetIdentifier)
TradingMessageResultCallback: Final[Any] = FUNCTYPE(None, POINTER(TradingMessageResult))
