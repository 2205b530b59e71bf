"""A msgpack transcoder for stored events, with our value objects as extension types."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any, Final

import msgpack
from eventsourcing.persistence import Transcoder

from tradingcore.domain.money import Money
from tradingcore.domain.order import OrderStatus
from tradingcore.domain.signal import Direction
from tradingcore.domain.values import Aggressor, Side, Symbol

_DECIMAL: Final = 1
_UUID: Final = 2
_DATETIME: Final = 3
_DATE: Final = 4
_SYMBOL: Final = 5
_ENUM: Final = 6
_MONEY: Final = 7

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
ENUMS: Final[dict[str, type[StrEnum]]] = {
    cls.__name__: cls for cls in (Side, Aggressor, Direction, OrderStatus)
}


class EncodingError(TypeError):
    """A value in an event has no transcoding."""


_new_tuple: Final = tuple.__new__


def _ext(code: int, data: bytes) -> msgpack.ExtType:
    """Build an ExtType without its Python-level argument checks (ours are always valid):
    the checks cost more than the packing of a small event (measured)."""
    return _new_tuple(msgpack.ExtType, (code, data))


def _datetime_ext(obj: datetime) -> msgpack.ExtType:
    if obj.tzinfo is None:
        raise EncodingError(f"cannot encode naive datetime {obj}: events use UTC datetimes")
    return _ext(_DATETIME, pack_int((obj - _EPOCH) // _MICROSECOND))


_MICROSECOND: Final = timedelta(microseconds=1)

_ENCODERS: Final[dict[type, Callable[[Any], msgpack.ExtType]]] = {
    Decimal: lambda obj: _ext(_DECIMAL, str(obj).encode()),
    uuid.UUID: lambda obj: _ext(_UUID, obj.bytes),
    datetime: _datetime_ext,
    date: lambda obj: _ext(_DATE, pack_int(obj.toordinal())),
    Symbol: lambda obj: _ext(_SYMBOL, obj.full_symbol.encode()),
    Money: lambda obj: _ext(_MONEY, f"{obj.currency} {obj.amount}".encode()),
}
"""The encoder of each exact type (one dict lookup); subclasses take the isinstance chain."""


def _default(obj: Any) -> msgpack.ExtType:
    encoder = _ENCODERS.get(type(obj))
    if encoder is not None:
        return encoder(obj)
    if isinstance(obj, Decimal):
        return _ext(_DECIMAL, str(obj).encode())
    if isinstance(obj, uuid.UUID):
        return _ext(_UUID, obj.bytes)
    if isinstance(obj, datetime):
        return _datetime_ext(obj)
    if isinstance(obj, date):
        return _ext(_DATE, pack_int(obj.toordinal()))
    if isinstance(obj, Symbol):
        return _ext(_SYMBOL, obj.full_symbol.encode())
    if isinstance(obj, Money):
        return _ext(_MONEY, f"{obj.currency} {obj.amount}".encode())
    raise EncodingError(f"cannot encode {type(obj).__name__} value {obj!r} in an event")


@lru_cache(maxsize=4096)
def _symbol(data: bytes) -> Symbol:
    ticker, _, exchange = data.decode().partition(":")
    return Symbol(ticker, exchange)


def _money(data: bytes) -> Money:
    currency, _, amount = data.decode().rpartition(" ")  # amounts hold no space
    return Money(Decimal(amount), currency)


def _enum(data: bytes) -> StrEnum:
    name, value = msgpack.unpackb(data)
    return ENUMS[name](value)


_DECODERS: Final[dict[int, Callable[[bytes], Any]]] = {
    _DECIMAL: lambda data: Decimal(data.decode()),
    _UUID: lambda data: uuid.UUID(bytes=data),
    _DATETIME: lambda data: _EPOCH + timedelta(microseconds=msgpack.unpackb(data)),
    _DATE: lambda data: date.fromordinal(msgpack.unpackb(data)),
    _SYMBOL: _symbol,
    _ENUM: _enum,
    _MONEY: _money,
}


def _ext_hook(code: int, data: bytes) -> Any:
    decoder = _DECODERS.get(code)
    if decoder is None:
        raise ValueError(f"unknown msgpack extension type {code} in a stored event")
    return decoder(data)


def _enum_ext(value: StrEnum) -> msgpack.ExtType:
    return _ext(_ENUM, b"\x92" + pack_str(type(value).__name__) + pack_str(value.value))


# Extension payloads are packed by hand, byte for byte as msgpack.packb packs them: a packb
# called inside another packb's `default` costs ~35 us (measured), a hand-packed int ~0.3 us.


def pack_int(value: int) -> bytes:
    """Return msgpack.packb(value) for an int (the smallest encoding, as msgpack chooses)."""
    if 0 <= value < 0x80 or -32 <= value < 0:
        return (value & 0xFF).to_bytes(1, "big")
    if value >= 0:
        for marker, size in _UNSIGNED:
            if value < 1 << (8 * size):
                return marker + value.to_bytes(size, "big")
    else:
        for marker, size in _SIGNED:
            if value >= -(1 << (8 * size - 1)):
                return marker + value.to_bytes(size, "big", signed=True)
    return msgpack.packb(value)  # type: ignore[no-any-return]  # raises OverflowError


def pack_str(text: str) -> bytes:
    """Return msgpack.packb(text) for a str."""
    data = text.encode()
    size = len(data)
    if size < 32:
        return (0xA0 | size).to_bytes(1, "big") + data
    for marker, width in _STRINGS:
        if size < 1 << (8 * width):
            return marker + size.to_bytes(width, "big") + data
    return msgpack.packb(text)  # type: ignore[no-any-return]


_UNSIGNED: Final = ((b"\xcc", 1), (b"\xcd", 2), (b"\xce", 4), (b"\xcf", 8))
_SIGNED: Final = ((b"\xd0", 1), (b"\xd1", 2), (b"\xd2", 4), (b"\xd3", 8))
_STRINGS: Final = ((b"\xd9", 1), (b"\xda", 2), (b"\xdb", 4))


def encode(obj: Any) -> bytes:
    """Encode event state (or any supported value) to msgpack bytes.

    msgpack packs str subclasses as plain str without asking `default`, so enum fields of an
    event's state (the top-level dict) are turned into extension types first.
    """
    if isinstance(obj, dict):
        obj = {
            key: _enum_ext(value) if isinstance(value, StrEnum) else value
            for key, value in obj.items()
        }
    elif isinstance(obj, StrEnum):
        obj = _enum_ext(obj)
    packer = getattr(_packers, "packer", None)
    if packer is None:
        packer = _packers.packer = _new_packer()
    return packer.pack(obj)  # type: ignore[no-any-return]


def _new_packer() -> msgpack.Packer:
    return msgpack.Packer(default=_default, use_bin_type=True, datetime=False)


_packers: Final = threading.local()
"""One packer per thread (a packer is not thread-safe), reused: packb builds one per call."""


def decode(data: bytes) -> Any:
    """Decode msgpack bytes; sequences come back as tuples."""
    return msgpack.unpackb(data, ext_hook=_ext_hook, use_list=False, raw=False)


class MsgpackTranscoder(Transcoder):
    """The event store's transcoder: compact, exact and fast."""

    def encode(self, obj: Any) -> bytes:
        return encode(obj)

    def decode(self, data: bytes) -> Any:
        return decode(data)
