"""Every event survives the msgpack codec and the store's mapper unchanged."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import typing
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tradingcore.domain
from tests.core.strategies import dates, exact_decimals, symbols, utc_datetimes
from tradingcore.application.codec import (
    EncodingError,
    MsgpackTranscoder,
    decode,
    encode,
    pack_int,
    pack_str,
)
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.aggregate import DomainEvent
from tradingcore.domain.values import Symbol
from tradingcore.ports.clock import ManualClock

for module in pkgutil.iter_modules(tradingcore.domain.__path__):
    importlib.import_module(f"tradingcore.domain.{module.name}")


def all_event_classes() -> list[type[DomainEvent]]:
    found: list[type[DomainEvent]] = []
    pending = list(DomainEvent.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


st.register_type_strategy(Symbol, symbols)
st.register_type_strategy(Decimal, exact_decimals)
st.register_type_strategy(datetime, utc_datetimes)
st.register_type_strategy(date, dates)
st.register_type_strategy(float, st.floats(allow_nan=False, allow_infinity=False))
st.register_type_strategy(int, st.integers(-(2**63), 2**63 - 1))

JSON_LIKE = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**63 - 1),
        st.text(max_size=8),
        st.floats(allow_nan=False, allow_infinity=False),
    ),
    lambda inner: st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


def field_strategy(hint: Any) -> st.SearchStrategy[Any]:
    """Resolve a field's type, with `Any` (free-form details) drawn as JSON-like data."""
    if hint is Any:
        return JSON_LIKE
    if typing.get_origin(hint) is dict and typing.get_args(hint)[1] is Any:
        return st.dictionaries(st.text(max_size=8), JSON_LIKE, max_size=4)
    return st.from_type(hint)


def event_strategy(event_class: type[DomainEvent]) -> st.SearchStrategy[DomainEvent]:
    hints = typing.get_type_hints(event_class)
    fields = {
        field.name: field_strategy(hints[field.name]) for field in dataclasses.fields(event_class)
    }
    return st.builds(event_class, **fields)


MAPPER = TradingApplication(clock=ManualClock()).mapper


@pytest.mark.parametrize("event_class", all_event_classes(), ids=lambda cls: cls.__name__)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_event_round_trips_through_the_store_mapper(
    event_class: type[DomainEvent], data: st.DataObject
) -> None:
    event = data.draw(event_strategy(event_class))
    stored = MAPPER.to_stored_event(event)
    assert MAPPER.to_domain_event(stored) == event


def test_encode_with_naive_datetime_is_refused() -> None:
    with pytest.raises(EncodingError, match="naive datetime"):
        encode({"at": datetime(2025, 1, 1)})


def test_decode_with_unknown_extension_type_names_it() -> None:
    import msgpack

    data = msgpack.packb(msgpack.ExtType(99, b"x"))
    with pytest.raises(ValueError, match="unknown msgpack extension type 99"):
        decode(data)


def test_transcoder_keeps_tuples_as_tuples() -> None:
    transcoder = MsgpackTranscoder()
    assert transcoder.decode(transcoder.encode({"ids": (1, 2, 3)})) == {"ids": (1, 2, 3)}


@given(st.integers(-(2**63), 2**64 - 1))
def test_hand_packed_int_is_byte_for_byte_msgpack(value: int) -> None:
    assert pack_int(value) == msgpack.packb(value)


@given(st.text(max_size=300))
def test_hand_packed_str_is_byte_for_byte_msgpack(text: str) -> None:
    assert pack_str(text) == msgpack.packb(text)


def reference_encode(state: dict[str, Any]) -> bytes:
    """The plain way to pack an event's state: packb per call, checked ExtTypes, isinstance."""
    import uuid
    from datetime import UTC, timedelta
    from enum import StrEnum

    from tradingcore.domain.money import Money

    def default(obj: Any) -> msgpack.ExtType:
        if isinstance(obj, Decimal):
            return msgpack.ExtType(1, str(obj).encode())
        if isinstance(obj, uuid.UUID):
            return msgpack.ExtType(2, obj.bytes)
        if isinstance(obj, datetime):
            micros = (obj - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
            return msgpack.ExtType(3, msgpack.packb(micros))
        if isinstance(obj, date):
            return msgpack.ExtType(4, msgpack.packb(obj.toordinal()))
        if isinstance(obj, Symbol):
            return msgpack.ExtType(5, obj.full_symbol.encode())
        if isinstance(obj, Money):
            return msgpack.ExtType(7, f"{obj.currency} {obj.amount}".encode())
        raise TypeError(obj)

    def enum(value: Any) -> Any:
        if isinstance(value, StrEnum):
            return msgpack.ExtType(6, msgpack.packb([type(value).__name__, value.value]))
        return value

    plain = {key: enum(value) for key, value in state.items()}
    return msgpack.packb(plain, default=default, use_bin_type=True, datetime=False)  # type: ignore[no-any-return]


@pytest.mark.parametrize("event_class", all_event_classes(), ids=lambda cls: cls.__name__)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_encode_is_byte_for_byte_the_plain_packing_of_every_event(
    event_class: type[DomainEvent], data: st.DataObject
) -> None:
    # The fast encoder (a reused packer, ExtTypes built unchecked, a type-to-encoder table)
    # must store exactly the bytes the plain packing stores: stores stay byte-identical.
    event = data.draw(event_strategy(event_class))
    stored = MAPPER.to_stored_event(event)
    assert stored.state == reference_encode(decode(stored.state))
    assert encode(dict(event.__dict__)) == reference_encode(dict(event.__dict__))
