"""Build the fake ProfitDLL with gcc, and drive its test-only `Fake*` exports from Python."""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from ctypes import POINTER, c_char_p, c_double, c_int32, c_int64, c_uint8, c_uint32, c_wchar_p
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, Final

from adapters.profitdll import types as t
from adapters.profitdll.errors import LibraryNotFound, ProfitDLLError, check_result

SOURCE_NAME: Final = "fake_profitdll.c"

BAD_CREDENTIALS: Final = 1
INVALID_LICENSE: Final = 2
INIT_FAILS: Final = 4
REJECT_ORDERS: Final = 8
FILL_MARKET_ORDERS: Final = 16
STAMP_VOLUME: Final = 32
"""FakeSetBehaviour bits; FAKE_PROFITDLL_BAD_CREDENTIALS=1 in the environment sets bit 1 too.
STAMP_VOLUME makes streams carry time.monotonic() seconds in the trade's Volume (latency probes);
FILL_MARKET_ORDERS fills market orders at the last injected or streamed price."""

COUNTER_CALLBACKS: Final = 0
COUNTER_BLOBS_OUTSTANDING: Final = 1
COUNTER_BAD_FREES: Final = 2
COUNTER_INITIALIZATIONS: Final = 3
COUNTER_DROPPED: Final = 4
COUNTER_QUEUED: Final = 5


class FakeBuildFailed(ProfitDLLError):
    """gcc is missing or could not compile the fake."""


def fake_source() -> bytes:
    """Return the C source of the fake shipped in this package."""
    return (resources.files("adapters.profitdll.fake") / SOURCE_NAME).read_bytes()


def build_fake_dll(directory: Path) -> Path:
    """Compile the fake into `directory` (cached by source hash) and return the library path."""
    source = fake_source()
    digest = hashlib.sha256(source).hexdigest()[:16]
    target = Path(directory) / f"libfakeprofitdll-{digest}.so"
    if target.is_file():
        return target
    compiler = shutil.which("gcc")
    if compiler is None:
        raise FakeBuildFailed("gcc not found on PATH: it is needed to build the fake ProfitDLL")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        source_path = Path(work) / SOURCE_NAME
        source_path.write_bytes(source)
        partial = Path(work) / target.name
        command = [compiler, "-shared", "-fPIC", "-O2", "-pthread", "-o", str(partial)]
        result = subprocess.run(
            [*command, str(source_path), "-lm"], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise FakeBuildFailed(f"gcc failed to build the fake ProfitDLL:\n{result.stderr}")
        # Atomic: concurrent builders (xdist workers) never see a half-written library.
        os.replace(partial, target)
    return target


def trade_record(
    trade_number: int,
    price: float,
    quantity: int,
    when: datetime,
    trade_type: int = 2,
    *,
    buy_agent: int = 3,
    sell_agent: int = 72,
) -> t.TradeRecord:
    """Build a TConnectorTrade; `when` is naive Brasília wall-clock time, as the DLL sends."""
    record = t.TradeRecord()
    record.TradeDate = t.SystemTime(
        when.year,
        when.month,
        when.isoweekday() % 7,
        when.day,
        when.hour,
        when.minute,
        when.second,
        when.microsecond // 1000,
    )
    record.TradeNumber = trade_number
    record.Price = price
    record.Quantity = quantity
    record.Volume = price * quantity
    record.BuyAgent = buy_agent
    record.SellAgent = sell_agent
    record.TradeType = trade_type
    return record


_FAKE_SIGNATURES: Final[dict[str, tuple[Any, list[Any]]]] = {
    "FakeSetBehaviour": (None, [c_int32]),
    "FakeGetCounter": (c_int64, [c_int32]),
    "FakeInjectState": (c_int32, [c_int32, c_int32]),
    "FakeInjectTrade": (c_int32, [c_wchar_p, c_wchar_p, POINTER(t.TradeRecord), c_uint32]),
    "FakeInjectOfferBook": (
        c_int32,
        [
            c_wchar_p,
            c_wchar_p,
            c_int32,
            c_int32,
            c_int32,
            c_int64,
            c_int32,
            c_int64,
            c_double,
            c_wchar_p,
        ],
    ),
    "FakeInjectFullBook": (
        c_int32,
        [
            c_wchar_p,
            c_wchar_p,
            c_int32,
            POINTER(c_double),
            POINTER(c_int64),
            c_int32,
            POINTER(c_double),
            POINTER(c_int64),
            c_char_p,
        ],
    ),
    "FakeInjectOrderUpdate": (c_int32, [c_int64, c_uint8, c_int64, c_double, c_wchar_p]),
    "FakeFillOrder": (c_int32, [c_int64, c_int64, c_double]),
    "FakeDropConnection": (c_int32, []),
    "FakeRestoreConnection": (c_int32, []),
    "FakeWaitIdle": (c_int32, [c_int32]),
    "FakeStartStream": (c_int32, [c_wchar_p, c_wchar_p, c_int64, c_int32, c_double, c_double]),
    "FakeSizeOf": (c_int32, [c_char_p]),
}


class FakeProfitDLL:
    """The fake's test-only exports: inject states, trades, books, order events, streams.

    It loads the same file as the binding, so both share the fake's process-wide state.
    """

    def __init__(self, path: str | Path) -> None:
        if not Path(path).is_file():
            raise LibraryNotFound(f"fake ProfitDLL not found at {path}: build it first")
        self.library: Any = t.LIBRARY_LOADER(str(path))
        for name, (restype, argtypes) in _FAKE_SIGNATURES.items():
            function = getattr(self.library, name)
            function.restype = restype
            function.argtypes = argtypes

    def _call(self, name: str, *arguments: Any) -> int:
        return check_result(name, int(getattr(self.library, name)(*arguments)))

    def set_behaviour(self, flags: int) -> None:
        self.library.FakeSetBehaviour(flags)

    def counter(self, which: int) -> int:
        return int(self.library.FakeGetCounter(which))

    def inject_state(self, state_type: int, result: int) -> None:
        self._call("FakeInjectState", state_type, result)

    def inject_trade(
        self, ticker: str, exchange: str, record: t.TradeRecord, flags: int = 0
    ) -> None:
        """Queue one trade for the connector thread (the ticker must be subscribed)."""
        self._call("FakeInjectTrade", ticker, exchange, ctypes.byref(record), flags)

    def inject_offer(
        self,
        ticker: str,
        exchange: str,
        *,
        action: int,
        position: int,
        side: int,
        quantity: int = 0,
        price: float = 0.0,
        agent: int = 3,
        offer_id: int = 0,
        date: str | None = None,
    ) -> None:
        """Queue one incremental offer-book update (needs SubscribeOfferBook)."""
        self._call(
            "FakeInjectOfferBook",
            ticker,
            exchange,
            action,
            position,
            side,
            quantity,
            agent,
            offer_id,
            price,
            date,
        )

    def inject_full_book(
        self,
        ticker: str,
        exchange: str,
        sell: list[tuple[float, int]],
        buy: list[tuple[float, int]],
        date: str = "01/12/2025 10:00:00.000",
    ) -> None:
        """Queue a FullBook update; each side is listed worst first, best (position 0) last."""
        sell_prices = (c_double * len(sell))(*(price for price, _ in sell))
        sell_quantities = (c_int64 * len(sell))(*(quantity for _, quantity in sell))
        buy_prices = (c_double * len(buy))(*(price for price, _ in buy))
        buy_quantities = (c_int64 * len(buy))(*(quantity for _, quantity in buy))
        self._call(
            "FakeInjectFullBook",
            ticker,
            exchange,
            len(sell),
            sell_prices,
            sell_quantities,
            len(buy),
            buy_prices,
            buy_quantities,
            date.encode("ascii"),
        )

    def inject_order_update(
        self, local_order_id: int, status: int, traded: int, average_price: float, text: str = ""
    ) -> None:
        self._call("FakeInjectOrderUpdate", local_order_id, status, traded, average_price, text)

    def fill_order(self, local_order_id: int, quantity: int, price: float) -> None:
        """Fill part or all of a live order (PartiallyFilled, then Filled)."""
        self._call("FakeFillOrder", local_order_id, quantity, price)

    def drop_connection(self) -> None:
        """Report market data (and routing) disconnected; injections fail until restored."""
        self._call("FakeDropConnection")

    def restore_connection(self) -> None:
        self._call("FakeRestoreConnection")

    def start_stream(
        self,
        ticker: str,
        exchange: str,
        count: int,
        rate: int = 0,
        *,
        start_price: float = 127_850.0,
        tick: float = 5.0,
    ) -> None:
        """Generate `count` trades (numbers 1..count) at `rate` per second (0: flat out)."""
        self._call("FakeStartStream", ticker, exchange, count, rate, start_price, tick)

    def size_of(self, record_name: str) -> int:
        """Return the C compiler's size of an ABI record (-1 for an unknown name)."""
        return int(self.library.FakeSizeOf(record_name.encode("ascii")))

    def wait_idle(self, timeout: float) -> bool:
        """Wait until the stream ended and every queued callback fired."""
        return bool(self.library.FakeWaitIdle(int(timeout * 1000)))
