"""Reading NEG files: columns, aggressors, flags, São Paulo time and tape order."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from adapters.b3.instruments import TickSizes
from adapters.b3.neg import read_neg
from adapters.b3.neg_writer import NegRow
from adapters.b3.table import aggressor_code
from tests.b3.conftest import NegFile


def epoch_ms(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp() * 1000)


def test_read_neg_with_sample_session_returns_every_trade_in_file_order(neg_file: NegFile):
    table = read_neg(neg_file(), TickSizes())

    assert len(table) == 8
    assert table.symbols == ["PETRL80", "VALEX17"]
    assert table.trade_ids.tolist() == [10, 20, 40, 30, 50, 10, 20, 30]
    assert table.price_units.tolist()[:3] == [4000, 4000, 4100]
    assert table.volumes.tolist()[:2] == [1000, 500]
    assert table.line_numbers.tolist() == list(range(2, 10))


def test_read_neg_with_indicator_pairs_maps_auction_buyer_seller_and_neutral(neg_file: NegFile):
    table = read_neg(neg_file(), TickSizes())

    codes = "".join("NBS"[code] for code in table.aggressors.tolist())
    assert codes == "NNBSBBNN"


@pytest.mark.parametrize(
    ("buy", "sell", "expected"),
    [(1, 2, "B"), (2, 1, "S"), (2, 2, "N"), (0, 0, "N"), (1, 0, "B"), (0, 1, "S"), (1, 1, "N")],
)
def test_aggressor_code_with_indicator_pair_names_single_aggressor_only(buy, sell, expected):
    assert aggressor_code(buy, sell) == expected


def test_read_neg_with_cancelled_and_cross_trades_keeps_them_flagged(neg_file: NegFile):
    table = read_neg(neg_file(), TickSizes())

    assert table.flags.tolist() == [0, 0, 0, 0, 1, 0, 2, 0]


def test_read_neg_in_summer_time_converts_local_times_with_utc_minus_2(neg_file: NegFile):
    table = read_neg(neg_file(), TickSizes())

    assert table.timestamps_ms[0] == epoch_ms(2015, 11, 26, 12, 0, 0) + 1


def test_read_neg_in_winter_converts_local_times_with_utc_minus_3(neg_file: NegFile):
    rows = [NegRow("PETRG10", 10, Decimal("0.10"), 100, "10:00:00.000")]
    table = read_neg(neg_file(rows, session=date(2016, 6, 24)), TickSizes())

    assert table.timestamps_ms.tolist() == [epoch_ms(2016, 6, 24, 13, 0, 0)]


def test_read_neg_with_zip_reads_the_same_trades_as_plain_text(neg_file: NegFile):
    plain = read_neg(neg_file(), TickSizes())
    zipped = read_neg(neg_file(name="NEG.zip", zipped=True), TickSizes())

    assert zipped.trade_ids.tolist() == plain.trade_ids.tolist()
    assert zipped.timestamps_ms.tolist() == plain.timestamps_ms.tolist()


def test_read_neg_with_windows_line_endings_reads_the_same_trades(
    neg_file: NegFile, tmp_path: Path
):
    plain = neg_file()
    crlf = tmp_path / "crlf.TXT"
    crlf.write_bytes(plain.read_bytes().replace(b"\n", b"\r\n"))

    table = read_neg(crlf, TickSizes())

    assert table.price_units.tolist() == read_neg(plain, TickSizes()).price_units.tolist()


def test_read_neg_with_futures_and_tick_override_accepts_their_grid(neg_file: NegFile):
    rows = [NegRow("DI1F27", 10, Decimal("13.125"), 5, "09:00:00.000")]

    table = read_neg(neg_file(rows), TickSizes({"DI1": Decimal("0.005")}))

    assert table.price_units.tolist() == [131250]


def test_read_neg_with_no_detail_lines_returns_an_empty_table(neg_file: NegFile):
    table = read_neg(neg_file([]), TickSizes())

    assert len(table) == 0
    assert np.array_equal(table.trade_ids, [])
