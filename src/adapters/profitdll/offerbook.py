"""Pure offer-book state from TOfferBookCallbackV2 updates, reduced to the top of the book.

The DLL counts `position` from the END of each side's list (index = size - position - 1), so the
best offer of a side is its last entry (reference section 9.3). Quantity edits are deltas.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from adapters.profitdll.constants import BOOK_SIDE_BUY, BOOK_SIDE_SELL
from adapters.profitdll.errors import MalformedRecord
from adapters.profitdll.records import OfferBookRecord

ADD: Final = 0
EDIT: Final = 1
DELETE: Final = 2
DELETE_FROM: Final = 3
FULL_BOOK: Final = 4

_HEADER: Final = struct.Struct("<ii")
_ENTRY: Final = struct.Struct("<dqiqH")
"""V2 array entry before its date: price f64, quantity i64, agent i32, offer id i64, length u16."""
_TRAILER: Final = struct.Struct("<I")


@dataclass(slots=True)
class Offer:
    price: float
    quantity: int
    agent: int = 0
    offer_id: int = 0


@dataclass(frozen=True, slots=True)
class Top:
    """Best price and the total quantity offered at it on each side (None: side empty)."""

    bid_price: float | None
    bid_quantity: int
    ask_price: float | None
    ask_quantity: int


def parse_offer_array(blob: bytes) -> tuple[list[Offer], int]:
    """Parse a V2 full-book array (reference section 8.1); return its offers and trailer flags."""
    if len(blob) < _HEADER.size:
        raise MalformedRecord(f"offer array of {len(blob)} bytes: shorter than its header")
    count, size = _HEADER.unpack_from(blob)
    if count < 0 or size != len(blob):
        raise MalformedRecord(
            f"offer array header says {count} offers, {size} bytes; got {len(blob)}"
        )
    offers: list[Offer] = []
    offset = _HEADER.size
    for _ in range(count):
        if offset + _ENTRY.size > len(blob):
            raise MalformedRecord(f"offer array truncated at byte {offset}")
        price, quantity, agent, offer_id, date_length = _ENTRY.unpack_from(blob, offset)
        offset += _ENTRY.size + date_length
        offers.append(Offer(price, quantity, agent, offer_id))
    if offset + _TRAILER.size > len(blob):
        raise MalformedRecord(f"offer array has no flags trailer at byte {offset}")
    (flags,) = _TRAILER.unpack_from(blob, offset)
    return offers, int(flags)


@dataclass(slots=True)
class OfferBook:
    """Both sides of one symbol's offer book."""

    buy: list[Offer] = field(default_factory=list)
    sell: list[Offer] = field(default_factory=list)

    def apply(self, update: OfferBookRecord) -> None:
        """Apply one update; raise MalformedRecord for an unknown action, side or position."""
        if update.action == FULL_BOOK:
            if update.sell_array is not None:
                self.sell = parse_offer_array(update.sell_array)[0]
            if update.buy_array is not None:
                self.buy = parse_offer_array(update.buy_array)[0]
            return
        side = self._side(update.side)
        size = len(side)
        index = size - update.position - 1
        if update.action == ADD:
            if not 0 <= update.position <= size:
                raise self._bad(update, f"add at position {update.position} of {size}")
            side.insert(size - update.position, Offer(update.price, update.quantity, update.agent))
        elif update.action in (EDIT, DELETE, DELETE_FROM):
            if not 0 <= index < size:
                raise self._bad(update, f"position {update.position} outside 0..{size - 1}")
            if update.action == EDIT:
                offer = side[index]
                offer.quantity += update.quantity if update.has_quantity else 0
                offer.price = update.price if update.has_price else offer.price
            elif update.action == DELETE:
                del side[index]
            else:
                del side[index:]
        else:
            raise self._bad(update, f"unknown action {update.action}")

    def top(self) -> Top:
        return Top(*_best(self.buy), *_best(self.sell))

    def _side(self, side: int) -> list[Offer]:
        if side == BOOK_SIDE_BUY:
            return self.buy
        if side == BOOK_SIDE_SELL:
            return self.sell
        raise MalformedRecord(f"bad book side {side}: expected 0 (buy) or 1 (sell)")

    @staticmethod
    def _bad(update: OfferBookRecord, why: str) -> MalformedRecord:
        return MalformedRecord(f"offer book update for {update.ticker}: {why}")


def _best(side: list[Offer]) -> tuple[float | None, int]:
    if not side:
        return None, 0
    price = side[-1].price
    quantity = 0
    for offer in reversed(side):
        if offer.price != price:
            break
        quantity += offer.quantity
    return price, quantity


def as_decimal_pair(price: float | None) -> Decimal | None:
    """Return a float book price as an exact Decimal (None stays None)."""
    return None if price is None else Decimal(repr(price))
