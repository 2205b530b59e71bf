"""The host's cheap read of the store's last notification id agrees with the recorder's."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from adapters.eventstore import open_store
from hosts.api.store_mark import SQLiteMark, store_mark
from tradingcore.domain.tape import Trade, TradeColumns
from tradingcore.domain.values import Aggressor, Symbol
from tradingcore.ports.clock import ManualClock

WIN = Symbol("WINZ25")


def record_one_trade(url: str, trade_id: int) -> None:
    writer = open_store(url, ManualClock())
    columns = TradeColumns()
    columns.append(Trade(WIN, trade_id, 1_764_590_400_000, Decimal(127_850), 1, Aggressor.BUY))
    writer.record_trades(WIN, date(2025, 12, 1), columns)
    writer.close()


def test_sqlite_mark_sees_what_another_writer_commits(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'events.sqlite'}?synchronous=normal"
    reader = open_store(url, ManualClock())
    mark = store_mark(reader)
    empty = mark()

    record_one_trade(url, 1)
    record_one_trade(url, 2)

    assert isinstance(mark, SQLiteMark)
    assert empty == 0
    assert mark() == reader.recorder.max_notification_id() > 0
    mark.close()
    reader.close()


def test_other_stores_keep_the_recorders_own_answer() -> None:
    app = open_store("memory://", ManualClock())
    mark = store_mark(app)

    assert not isinstance(mark, SQLiteMark)
    assert mark() == 0
