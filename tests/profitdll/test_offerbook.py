"""The offer book kept from TOfferBookCallbackV2 updates, and its V2 array blobs."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.profitdll.errors import MalformedRecord
from adapters.profitdll.offerbook import (
    ADD,
    DELETE,
    DELETE_FROM,
    EDIT,
    FULL_BOOK,
    OfferBook,
    Top,
    parse_offer_array,
)
from adapters.profitdll.records import OfferBookRecord

BUY, SELL = 0, 1


def update(action: int, side: int = BUY, position: int = 0, quantity: int = 0,
           price: float = 0.0, **arrays: bytes | None) -> OfferBookRecord:  # fmt: skip
    return OfferBookRecord(
        "WINZ25", "F", action, position, side, quantity, 3, 0, price,
        True, True, False, None, arrays.get("sell"), arrays.get("buy"),
    )  # fmt: skip


def offer_array(offers: list[tuple[float, int]], flags: int = 3) -> bytes:
    """Build a V2 array as the DLL does (reference section 8.1)."""
    body = b"".join(
        struct.pack("<dqiqH", price, quantity, 3, index, 23) + b"01/12/2025 10:00:00.000"
        for index, (price, quantity) in enumerate(offers)
    )
    size = 8 + len(body) + 4
    return struct.pack("<ii", len(offers), size) + body + struct.pack("<I", flags)


def test_parse_with_v2_array_returns_offers_and_flags() -> None:
    offers, flags = parse_offer_array(offer_array([(127860.0, 5), (127855.0, 2)], flags=1))

    assert [(offer.price, offer.quantity) for offer in offers] == [(127860.0, 5), (127855.0, 2)]
    assert flags == 1


@pytest.mark.parametrize("blob", [b"", b"\x01\x00\x00\x00", offer_array([(1.0, 1)])[:-3]])
def test_parse_with_truncated_array_raises(blob: bytes) -> None:
    with pytest.raises(MalformedRecord, match="offer array"):
        parse_offer_array(blob)


def test_apply_with_adds_at_position_zero_makes_each_the_best() -> None:
    book = OfferBook()
    book.apply(update(ADD, BUY, 0, 4, 127840.0))
    book.apply(update(ADD, BUY, 0, 1, 127850.0))
    book.apply(update(ADD, SELL, 0, 5, 127860.0))

    assert book.top() == Top(127850.0, 1, 127860.0, 5)


def test_apply_with_edit_adds_the_quantity_delta() -> None:
    book = OfferBook()
    book.apply(update(ADD, SELL, 0, 5, 127860.0))
    book.apply(update(EDIT, SELL, 0, -2, 127860.0))

    assert book.top().ask_quantity == 3


def test_apply_with_delete_and_delete_from_removes_toward_the_list_end() -> None:
    book = OfferBook()
    for price in (127830.0, 127835.0, 127840.0, 127845.0):
        book.apply(update(ADD, BUY, 0, 1, price))

    book.apply(update(DELETE, BUY, 0))
    assert book.top().bid_price == 127840.0
    # Reference 9.3, as the vendor examples do it: from index size-1-position to the list's end.
    book.apply(update(DELETE_FROM, BUY, 1))

    assert [offer.price for offer in book.buy] == [127830.0]


def test_apply_with_full_book_replaces_both_sides_and_sums_the_best_price() -> None:
    book = OfferBook()
    book.apply(
        update(
            FULL_BOOK,
            sell=offer_array([(127870.0, 3), (127860.0, 5), (127860.0, 2)]),
            buy=offer_array([(127840.0, 4), (127850.0, 1)]),
        )
    )

    assert book.top() == Top(127850.0, 1, 127860.0, 7)


@pytest.mark.parametrize(
    ("action", "side", "position"), [(DELETE, BUY, 0), (ADD, BUY, 2), (9, BUY, 0), (ADD, 7, 0)]
)
def test_apply_with_impossible_update_raises(action: int, side: int, position: int) -> None:
    with pytest.raises(MalformedRecord):
        OfferBook().apply(update(action, side, position, 1, 1.0))


@given(st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=30))
def test_apply_with_adds_at_position_zero_keeps_the_last_as_top(prices: list[int]) -> None:
    book = OfferBook()
    for price in prices:
        book.apply(update(ADD, SELL, 0, 1, float(price)))

    assert book.top().ask_price == float(prices[-1])
    assert len(book.sell) == len(prices)
