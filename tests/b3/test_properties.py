"""Properties: the columnar reader agrees with the line parser, and with zoneinfo per row."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.b3.errors import B3FileError
from adapters.b3.instruments import TickSizes
from adapters.b3.local_time import SAO_PAULO, local_to_utc_ms
from adapters.b3.neg import read_neg
from adapters.b3.neg_layout import FIELDS, parse_envelope, parse_line
from adapters.b3.neg_writer import NegRow, neg_text
from adapters.b3.profit_csv import read_profit_csv

SYMBOLS = ["PETRL80", "VALEX17", "BOVA11", "PETR4", "ITUBA30"]
_EPOCH = date(1970, 1, 1)


def time_text(ms: int) -> str:
    seconds, millis = divmod(ms, 1000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return f"{hour:02d}:{minute:02d}:{second:02d}.{millis:03d}"


@st.composite
def neg_rows(draw: st.DrawFn) -> list[NegRow]:
    count = draw(st.integers(0, 25))
    rows = []
    for number in range(count):
        rows.append(
            NegRow(
                symbol=draw(st.sampled_from(SYMBOLS)),
                trade_number=(number + 1) * 10,
                price=Decimal(draw(st.integers(1, 10_000_000) | st.integers(1, 10**13))) / 100,
                quantity=draw(st.integers(1, 10**9)),
                time=time_text(draw(st.integers(0, 86_399_999))),
                buy_aggressor=draw(st.integers(0, 2)),
                sell_aggressor=draw(st.integers(0, 2)),
                indicator=draw(st.integers(1, 2)),
                cross=draw(st.integers(0, 1)),
            )
        )
    return rows


sessions = st.dates(date(2008, 1, 1), date(2030, 12, 31))


def utc_ms(local: datetime) -> int:
    """Convert a naive São Paulo time to UTC epoch ms with zoneinfo, one value at a time."""
    aware = local.replace(tzinfo=SAO_PAULO).astimezone(UTC)
    return (aware - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def write(factory: pytest.TempPathFactory, text: str) -> Path:
    path = factory.mktemp("neg-property") / "NEG.TXT"
    path.write_text(text, encoding="latin-1")
    return path


@settings(max_examples=60, deadline=None)
@given(rows=neg_rows(), session=sessions)
def test_columnar_reader_with_valid_file_agrees_with_the_line_parser(
    tmp_path_factory, rows, session
):
    text = neg_text(session, rows)
    path = write(tmp_path_factory, text)
    ticks = TickSizes()
    lines = text.splitlines()
    envelope = parse_envelope(path, lines[0], 1, "RH")

    table = read_neg(path, ticks)

    expected = [parse_line(path, line, 0, envelope, ticks) for line in lines[1:-1]]
    assert [table.symbols[index] for index in table.symbol_index.tolist()] == [
        line.symbol for line in expected
    ]
    assert table.price_units.tolist() == [line.price_units for line in expected]
    assert table.volumes.tolist() == [line.quantity for line in expected]
    assert ["NBS"[code] for code in table.aggressors.tolist()] == [
        line.aggressor for line in expected
    ]
    assert table.flags.tolist() == [line.cancelled + 2 * line.cross for line in expected]
    local = [
        datetime.combine(line.session_date, datetime.min.time())
        + timedelta(milliseconds=line.time_ms)
        for line in expected
    ]
    assert table.timestamps_ms.tolist() == [utc_ms(moment) for moment in local]


CORRUPTIONS = [(3, "0.00x"), (3, "-1"), (4, "0"), (5, "24:00:00.000"), (6, "9"), (10, "3")]


@settings(max_examples=60, deadline=None)
@given(
    rows=neg_rows().filter(bool),
    data=st.data(),
    corruption=st.sampled_from(CORRUPTIONS),
)
def test_columnar_reader_with_one_bad_field_reports_that_line_and_field(
    tmp_path_factory, rows, data, corruption
):
    lines = neg_text(date(2016, 6, 24), rows).splitlines()
    line = data.draw(st.integers(2, len(lines) - 1))
    index, value = corruption
    fields = lines[line - 1].split(";")
    fields[index] = value
    lines[line - 1] = ";".join(fields)

    try:
        read_neg(write(tmp_path_factory, "\n".join(lines) + "\n"), TickSizes())
    except B3FileError as error:
        assert (error.line, error.field) == (line, FIELDS[index])
    else:
        raise AssertionError("the corrupted file was accepted")


@settings(max_examples=100, deadline=None)
@given(
    days=st.lists(st.dates(date(2000, 1, 1), date(2030, 12, 31)), min_size=1, max_size=5),
    times=st.lists(st.integers(0, 86_399_999), min_size=1, max_size=5),
)
def test_local_to_utc_with_any_day_agrees_with_zoneinfo_per_row(days, times):
    pairs = [(day, ms) for day in days for ms in times]
    day_numbers = np.array([(day - _EPOCH).days for day, _ in pairs], dtype=np.int64)
    millis = np.array([ms for _, ms in pairs], dtype=np.int64)

    converted = local_to_utc_ms(day_numbers, millis)

    expected = [
        utc_ms(datetime.combine(day, datetime.min.time()) + timedelta(milliseconds=ms))
        for day, ms in pairs
    ]
    assert converted.tolist() == expected


def pt_br(price: Decimal) -> str:
    """Format a price as a pt-BR export does: `127.850,50`."""
    whole, _, fraction = f"{price:,.2f}".partition(".")
    return f"{whole.replace(',', '.')},{fraction}"


@settings(max_examples=60, deadline=None)
@given(cents=st.lists(st.integers(1, 10**9), min_size=1, max_size=20))
def test_profit_reader_with_pt_br_prices_reads_exact_units(tmp_path_factory, cents):
    prices = [Decimal(value) / 100 for value in cents]
    lines = ["Data;Preço;Quantidade;Agressor"]
    lines += [
        f"06/10/2025 10:00:{second % 60:02d};{pt_br(price)};1;Comprador"
        for second, price in enumerate(prices)
    ]
    path = tmp_path_factory.mktemp("profit") / "PETR4.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    table = read_profit_csv(path, TickSizes())

    assert sorted(table.price_units.tolist()) == sorted(int(price * 100) * 100 for price in prices)
