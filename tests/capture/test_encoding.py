"""The hand-formatted tick and book JSON equals what the spec's pydantic models say."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from adapters.websocket.encoding import book_json, tick_json
from adapters.websocket.frames import masked_text_frames
from adapters.websocket.messages import BookMessage, TickMessage
from tests.core.strategies import exact_decimals, symbols
from tradingcore.domain.book import BookTop
from tradingcore.domain.tape import Trade
from tradingcore.domain.values import Aggressor, Symbol

trades = st.builds(
    Trade,
    symbols,
    st.integers(0, 2**53),
    st.integers(0, 4_102_444_800_000),
    exact_decimals,
    st.integers(1, 10**9),
    st.sampled_from(list(Aggressor)),
)
books = st.builds(
    BookTop,
    symbols,
    st.integers(0, 4_102_444_800_000),
    exact_decimals,
    st.integers(0, 10**6),
    exact_decimals,
    st.integers(0, 10**6),
)


@given(trades)
def test_tick_json_with_any_trade_parses_into_the_spec_message(trade: Trade) -> None:
    text = tick_json(trade)
    assert TickMessage.model_validate_json(text) == TickMessage.from_trade(trade)
    assert list(json.loads(text)) == [
        "type",
        "symbol",
        "price",
        "volume",
        "aggressor",
        "timestamp",
        "trade_id",
    ]


@given(books)
def test_book_json_with_any_book_parses_into_the_book_message(book: BookTop) -> None:
    assert BookMessage.model_validate_json(book_json(book)) == BookMessage.from_book(book)


def test_tick_json_with_a_win_trade_reads_like_the_spec_example() -> None:
    trade = Trade(Symbol("WINZ25"), 42, 1704459615123, Decimal(127850), 5, Aggressor.BUY)
    assert json.loads(tick_json(trade)) == {
        "type": "trade",
        "symbol": "WINZ25",
        "price": 127850.0,
        "volume": 5,
        "aggressor": "B",
        "timestamp": 1704459615123,
        "trade_id": 42,
    }


@given(st.lists(st.binary(max_size=70_000), max_size=5))
def test_masked_text_frames_with_any_payloads_parse_back_as_final_text_frames(
    payloads: list[bytes],
) -> None:
    data = masked_text_frames(payloads)
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    parsed = []
    for _ in payloads:
        parser = Frame.parse(reader.read_exact, mask=True)
        try:
            next(parser)
        except StopIteration as done:
            parsed.append(done.value)
    assert [(frame.opcode, frame.fin, frame.data) for frame in parsed] == [
        (Opcode.TEXT, True, payload) for payload in payloads
    ]
    assert reader.at_eof()
