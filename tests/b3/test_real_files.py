"""The real B3 NEG files in shared/data/b3, checked against independent computations.

The directory lives beside the repository (`../shared/data/b3`); in CI it must be there,
so a missing directory fails the test instead of skipping it.
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.b3.importer import import_file
from adapters.b3.local_time import SAO_PAULO
from adapters.eventstore import open_store
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.tape import MarketTape, TradesRecorded
from tradingcore.ports.clock import ManualClock


def real_data() -> Path:
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "data" / "b3"
        if candidate.is_dir():
            return candidate
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("shared/data/b3 must exist beside the repository in CI")
    pytest.skip("no shared/data/b3 beside the repository")


def raw_rows(path: Path) -> list[list[str]]:
    """Read the zipped NEG text with the csv module alone: the independent computation."""
    with zipfile.ZipFile(path) as archive:
        text = archive.read(archive.namelist()[0]).decode("latin-1")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    return rows[1:-1]


def raw_aggressor(row: list[str]) -> str:
    return {("1", "2"): "B", ("2", "1"): "S"}.get((row[10], row[14]), "N")


def stored_trades(app: TradingApplication) -> list[TradesRecorded]:
    events = []
    for notification in app.recorder.select_notifications(start=1, limit=1_000_000):
        if notification.topic.endswith("TradesRecorded"):
            events.append(app.mapper.to_domain_event(notification))
    return events


def vwap(pairs: list[tuple[Decimal, int]]) -> Decimal:
    volume = sum(quantity for _, quantity in pairs)
    return sum(price * quantity for price, quantity in pairs) / volume


def test_import_real_2015_11_26_session_matches_independent_counts_and_vwaps(tmp_path):
    data = real_data()
    path = data / "NEG_OPCOES_20151126.zip"
    app = open_store(f"sqlite:///{tmp_path / 'b3.sqlite'}", ManualClock())

    outcome = import_file(app, path)

    raw = raw_rows(path)
    batches = stored_trades(app)
    trades = [trade for batch in batches for trade in batch.trades()]
    assert outcome.trades == len(trades) == len(raw) == 18_302
    assert len(outcome.tapes) == len({row[1].strip() for row in raw}) == 770
    aggressors = Counter(trade.aggressor.value for trade in trades)
    assert aggressors == Counter(raw_aggressor(row) for row in raw)
    assert aggressors == {"B": 8_511, "S": 8_860, "N": 931}
    assert sum(trade.cancelled for trade in trades) == sum(row[6] == "2" for row in raw) == 1
    assert sum(trade.cross for trade in trades) == sum(row[15] == "1" for row in raw) == 303
    itub = [batch for batch in batches if batch.symbol.ticker == "ITUBA9"]
    assert [list(batch.trade_ids) != sorted(batch.trade_ids) for batch in itub] == [True]
    assert all(
        list(zip(batch.timestamps_ms, batch.trade_ids, strict=True))
        == sorted(zip(batch.timestamps_ms, batch.trade_ids, strict=True))
        for batch in batches
    )

    with (data / "neg_opcoes_20151126_normalized.csv").open(newline="") as file:
        normalized = list(csv.DictReader(file))
    by_key = {(trade.symbol.ticker, trade.trade_id): trade for trade in trades}
    assert len(normalized) == len(by_key)
    expected_pairs: dict[str, list[tuple[Decimal, int]]] = defaultdict(list)
    for row in normalized:
        trade = by_key[row["symbol"], int(row["trade_id"])]
        local = datetime.fromisoformat(row["ts_local"]).replace(tzinfo=SAO_PAULO)
        utc_ms = (local.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(
            milliseconds=1
        )
        assert (trade.timestamp_ms, trade.aggressor.value) == (utc_ms, row["aggressor"])
        assert (trade.cancelled, trade.cross) == (row["cancelled"] == "1", row["cross"] == "1")
        if row["cancelled"] == "0" and row["cross"] == "0":
            expected_pairs[row["symbol"]].append((Decimal(row["price"]), int(row["qty"])))
    imported_pairs: dict[str, list[tuple[Decimal, int]]] = defaultdict(list)
    for trade in trades:
        if trade.counts_as_volume:
            imported_pairs[trade.symbol.ticker].append((trade.price, trade.volume))
    assert imported_pairs.keys() == expected_pairs.keys()
    for symbol, pairs in expected_pairs.items():
        assert vwap(imported_pairs[symbol]) == vwap(pairs), symbol


def test_import_real_2016_06_24_session_orders_each_tape_by_time_then_number(tmp_path):
    path = real_data() / "NEG_OPCOES_20160624.zip"
    app = open_store(f"sqlite:///{tmp_path / 'b3.sqlite'}", ManualClock())

    outcome = import_file(app, path)

    raw = raw_rows(path)
    batches = stored_trades(app)
    assert outcome.trades == sum(len(batch) for batch in batches) == len(raw) == 59_439
    aggressors = Counter(code for batch in batches for code in batch.aggressors)
    assert aggressors == Counter(raw_aggressor(row) for row in raw)
    for batch in batches:
        keys = list(zip(batch.timestamps_ms, batch.trade_ids, strict=True))
        assert keys == sorted(keys)
    busiest = max(outcome.tapes, key=lambda tape: tape.trades)
    assert busiest.symbol == "PETRG10"
    assert busiest.trades == 6_711
    raw_volume = sum(int(row[4]) for row in raw if row[1].strip() == "PETRG10" and row[15] == "0")
    tape_volume = sum(
        volume
        for batch in batches
        if batch.symbol.ticker == "PETRG10"
        for volume, flags in zip(batch.volumes, batch.flags, strict=True)
        if not flags
    )
    assert tape_volume == raw_volume
    petrg10 = next(batch for batch in batches if batch.symbol.ticker == "PETRG10")
    assert app.load_fresh(MarketTape, petrg10.originator_id).trade_count == 6_711
