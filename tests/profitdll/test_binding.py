"""The ctypes binding against the fake DLL: loading, exact types, results as named errors."""

from __future__ import annotations

import ctypes
import re
from pathlib import Path

import pytest

from adapters.profitdll import types as t
from adapters.profitdll.binding import SIGNATURES, ProfitDLL
from adapters.profitdll.errors import (
    InternalError,
    InvalidArguments,
    LibraryNotFound,
    MarketOnly,
    NotFound,
    NotInitialized,
    VersionNotSupported,
)
from adapters.profitdll.fakebuild import FakeProfitDLL, trade_record
from tests.profitdll.conftest import CREDENTIALS

RECORDS = {
    "TSystemTime": t.SystemTime,
    "TAssetIDRec": t.AssetIDRec,
    "TConnectorAssetIdentifier": t.AssetIdentifier,
    "TConnectorAccountIdentifier": t.AccountIdentifier,
    "TConnectorAccountIdentifierOut": t.AccountIdentifierOut,
    "TConnectorAssetIdentifierOut": t.AssetIdentifierOut,
    "TConnectorOrderIdentifier": t.OrderIdentifier,
    "TConnectorSendOrder": t.SendOrderRecord,
    "TConnectorChangeOrder": t.ChangeOrderRecord,
    "TConnectorCancelOrder": t.CancelOrderRecord,
    "TConnectorOrderOut": t.OrderOut,
    "TConnectorTrade": t.TradeRecord,
    "TConnectorTradingMessageResult": t.TradingMessageResult,
}

WIN64_SIZES = {"TConnectorSendOrder": 120, "TConnectorChangeOrder": 104, "TConnectorTrade": 64,
               "TConnectorCancelOrder": 80, "TConnectorTradingMessageResult": 64}  # fmt: skip
"""Sizes without WCHAR arrays are the same on Linux and Win64 (reference section 5.2)."""


def test_load_with_missing_file_raises_naming_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "ProfitDLL64.dll"

    with pytest.raises(LibraryNotFound, match=re.escape(str(missing))):
        ProfitDLL(missing)


def test_load_with_file_that_is_no_library_raises_naming_the_path(tmp_path: Path) -> None:
    bogus = tmp_path / "ProfitDLL.dll"
    bogus.write_text("not a library")

    with pytest.raises(LibraryNotFound, match="cannot be loaded"):
        ProfitDLL(bogus)


def test_load_with_fake_declares_every_function_exactly(fake_library_path: Path) -> None:
    library = ProfitDLL(fake_library_path)

    for name, (restype, argtypes) in SIGNATURES.items():
        function = library.function(name)
        assert function.restype is restype, name
        assert function.argtypes == argtypes, name
    assert library.function("SendOrder").restype is ctypes.c_int64


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_record_with_ctypes_declaration_has_the_c_compiler_size(
    fake: FakeProfitDLL, name: str
) -> None:
    assert ctypes.sizeof(RECORDS[name]) == fake.size_of(name)


@pytest.mark.parametrize(("name", "size"), sorted(WIN64_SIZES.items()))
def test_record_without_wide_arrays_has_the_documented_win64_size(name: str, size: int) -> None:
    assert ctypes.sizeof(RECORDS[name]) == size


def test_call_before_initialize_raises_not_initialized(
    fake: FakeProfitDLL, fake_library_path: Path
) -> None:
    library = ProfitDLL(fake_library_path)

    with pytest.raises(NotInitialized, match="NL_NOT_INITIALIZED"):
        library.subscribe_ticker("WINZ25", "F")
    with pytest.raises(NotInitialized):
        library.finalize()


def test_initialize_twice_raises_internal_error(
    fake: FakeProfitDLL, fake_library_path: Path
) -> None:
    library = ProfitDLL(fake_library_path)
    state = t.StateCallback(lambda state_type, result: None)
    library.initialize_market(CREDENTIALS, state)

    with pytest.raises(InternalError, match="DLLInitializeLogin"):
        library.initialize_routing(CREDENTIALS, state)
    library.finalize()


def test_subscribe_with_empty_ticker_raises_invalid_arguments(
    fake: FakeProfitDLL, fake_library_path: Path
) -> None:
    library = ProfitDLL(fake_library_path)
    state = t.StateCallback(lambda state_type, result: None)
    library.initialize_market(CREDENTIALS, state)

    with pytest.raises(InvalidArguments, match="SubscribeTicker"):
        library.subscribe_ticker("", "F")
    with pytest.raises(NotFound):
        library.unsubscribe_ticker("WINZ25", "F")
    library.finalize()


def test_translate_trade_with_unknown_version_raises_version_not_supported(
    fake: FakeProfitDLL, fake_library_path: Path
) -> None:
    library = ProfitDLL(fake_library_path)
    source = trade_record(1, 127850.0, 1, __import__("datetime").datetime(2025, 12, 1, 10))
    target = t.TradeRecord()
    target.Version = 9

    code = library.function("TranslateTrade")(ctypes.byref(source), ctypes.byref(target))

    assert code == VersionNotSupported.code
    assert library.translate_trade(ctypes.addressof(source)).Price == 127850.0


def test_send_order_on_market_data_session_raises_market_only(
    fake: FakeProfitDLL, fake_library_path: Path
) -> None:
    library = ProfitDLL(fake_library_path)
    state = t.StateCallback(lambda state_type, result: None)
    library.initialize_market(CREDENTIALS, state)
    order = t.SendOrderRecord()
    order.Version = 1
    order.AccountID = t.AccountIdentifier(0, 308, "12345", None, 0)
    order.AssetID = t.AssetIdentifier(0, "WINZ25", "F", 0)
    order.Password = "signature"
    order.OrderType, order.OrderSide = 2, 1
    order.Price, order.StopPrice, order.Quantity = 127850.0, -1.0, 1

    with pytest.raises(MarketOnly, match="NL_MARKET_ONLY"):
        library.send_order(order)
    library.finalize()


def test_free_pointer_with_wrong_size_raises_invalid_arguments(
    fake: FakeProfitDLL, fake_library_path: Path
) -> None:
    library = ProfitDLL(fake_library_path)
    header = (ctypes.c_int32 * 4)(0, 12, 0, 0)

    with pytest.raises(InvalidArguments, match="FreePointer"):
        library.free_pointer(ctypes.addressof(header), 99)


def routed_order(version: int, order_type: int, side: int, price: float) -> t.SendOrderRecord:
    order = t.SendOrderRecord()
    order.Version = version
    order.AccountID = t.AccountIdentifier(0, 308, "12345", None, 0)
    order.AssetID = t.AssetIdentifier(0, "WINZ25", "F", 0)
    order.Password = "signature"
    order.OrderType, order.OrderSide = order_type, side
    order.Price, order.StopPrice, order.Quantity = price, -1.0, 2
    return order


def test_send_order_versions_follow_the_documented_enums_and_rules(
    fake: FakeProfitDLL, fake_library_path: Path
) -> None:
    library = ProfitDLL(fake_library_path)
    state = t.StateCallback(lambda state_type, result: None)
    library.initialize_routing(CREDENTIALS, state)
    try:
        version_zero_market_sell = library.send_order(routed_order(0, 2, 1, -1.0))
        version_one = routed_order(1, 2, 1, 127850.0)
        version_one_limit_buy = library.send_order(version_one)

        assert (version_zero_market_sell, version_one_limit_buy) == (1, 2)
        assert version_one.MessageID > 0  # written back from Version 1
        details = library.order_details(version_zero_market_sell, None)
        assert (details.order_type, details.side, details.quantity) == (1, 2, 2)
        assert (details.ticker, details.exchange, details.account) == ("WINZ25", "F", "12345")
        with pytest.raises(VersionNotSupported):
            library.send_order(routed_order(3, 2, 1, 127850.0))
        with pytest.raises(InvalidArguments):  # a market order must carry price -1
            library.send_order(routed_order(1, 1, 1, 127850.0))
        with pytest.raises(NotFound):
            library.order_details(99, None)
    finally:
        library.finalize()
