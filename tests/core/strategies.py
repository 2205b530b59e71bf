"""Hypothesis strategies for the core's values and events."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import strategies as st

from tradingcore.domain.values import FUTURE_MONTH_CODES, KNOWN_FUTURE_ROOTS, Side, Symbol

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

futures = st.builds(
    lambda root, month, year: f"{root}{month}{year:02d}",
    st.text(LETTERS, min_size=3, max_size=3),
    st.sampled_from(FUTURE_MONTH_CODES),
    # Years that read as a stock class (KLBN11) belong to stocks unless the root is known.
    st.integers(0, 99).filter(lambda year: year not in {11, 31, 32, 33, 34, 35, 39}),
)
stocks = st.builds(
    lambda root, kind, fractional: f"{root}{kind}{fractional}",
    st.text(LETTERS, min_size=4, max_size=4),
    st.sampled_from(["3", "4", "5", "6", "11", "34"]),
    st.sampled_from(["", "F"]),
).filter(  # ISPF11 reads as a future of a known root (ISP, January 2011): futures win there
    lambda ticker: (
        not (
            len(ticker) == 6
            and ticker[:3] in KNOWN_FUTURE_ROOTS
            and ticker[3] in FUTURE_MONTH_CODES
        )
    )
)
options = st.builds(
    lambda root, series, strike: f"{root}{series}{strike}",
    st.text(LETTERS, min_size=4, max_size=4),
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWX"),
    st.integers(1, 999),
)
tickers = st.one_of(futures, stocks, options)
symbols = tickers.map(Symbol)
sides = st.sampled_from(list(Side))
utc_datetimes = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
uuids = st.uuids()
dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1))
win_prices = st.integers(10_000, 40_000).map(lambda ticks: Decimal(ticks * 5))
exact_decimals = st.decimals(
    min_value=Decimal("0.0001"), max_value=Decimal("1000000"), places=4, allow_nan=False
)
small_quantities = st.integers(1, 50)
optional_uuid = st.one_of(st.none(), uuids.map(lambda value: uuid.UUID(str(value))))
