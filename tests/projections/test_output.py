"""The output directory: atomic part files, the checkpoint as commit point, recovery, compaction."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from adapters.parquet.arrow import schema_of, to_batch
from adapters.parquet.files import read_ranges
from adapters.parquet.output import Checkpoint, ParquetOutput
from tradingcore.projections.blocks import Block, Constant
from tradingcore.projections.tables import TRADES

DAY = date(2025, 12, 1)
NEXT_DAY = date(2025, 12, 2)


def trades(first_id: int, count: int, notification_id: int, day: date = DAY) -> pa.RecordBatch:
    block = Block(
        TRADES,
        "WINZ25",
        day,
        count,
        {
            "timestamp": tuple(1_764_590_400_000 + i for i in range(count)),
            "symbol": Constant("WINZ25"),
            "price": (1_278_500_000,) * count,
            "volume": (1,) * count,
            "aggressor": ("B",) * count,
            "trade_id": tuple(range(first_id, first_id + count)),
            "date": Constant(day),
            "cancelled": (False,) * count,
            "cross": (False,) * count,
            "sequence": range(first_id, first_id + count),
            "notification_id": Constant(notification_id),
        },
    )
    return to_batch(block)


def commit(output: ParquetOutput, start: int, stop: int, day: date = DAY) -> list[Path]:
    batches = {("trades", "WINZ25", day): [trades(start * 100, 3, stop, day)]}
    return output.commit(batches, start, Checkpoint(stop, "x", 1))


def test_commit_with_rows_writes_a_part_named_by_its_range_and_moves_the_checkpoint(
    tmp_path: Path,
) -> None:
    output = ParquetOutput(tmp_path)

    [path] = commit(output, 1, 7)

    assert path.relative_to(tmp_path).as_posix() == (
        "WINZ25/2025-12-01/trades.part-000000000001-000000000007.parquet"
    )
    assert pq.read_table(path).num_rows == 3
    assert read_ranges(path) == [(1, 7)]
    assert output.recover().position == 7


def test_trades_file_with_the_spec_schema_keeps_its_six_columns_first() -> None:
    schema = schema_of(TRADES)

    assert [(field.name, field.type) for field in schema][:6] == [
        ("timestamp", pa.timestamp("ms")),
        ("symbol", pa.string()),
        ("price", pa.float64()),
        ("volume", pa.int32()),
        ("aggressor", pa.string()),
        ("trade_id", pa.int64()),
    ]


def test_recover_with_leftovers_of_a_killed_batch_deletes_them(tmp_path: Path) -> None:
    output = ParquetOutput(tmp_path)
    [committed] = commit(output, 1, 7)
    directory = committed.parent
    # A batch that died after renaming its part but before its checkpoint landed.
    shutil.copy(committed, directory / "trades.part-000000000008-000000000009.parquet")
    (directory / ".trades.part-000000000010-000000000011.parquet.123.tmp").write_bytes(b"PAR1")
    (tmp_path / "._projection.json.123.tmp").write_bytes(b"{")

    checkpoint = output.recover()

    assert checkpoint.position == 7
    assert sorted(path.name for path in directory.iterdir()) == [committed.name]
    assert not list(tmp_path.glob(".*.tmp"))


def test_recover_without_a_checkpoint_deletes_every_file(tmp_path: Path) -> None:
    output = ParquetOutput(tmp_path)
    [committed] = commit(output, 1, 7)
    output.checkpoint_path.unlink()

    assert output.recover().position == 0
    assert not committed.exists()


def test_compact_with_parts_merges_them_into_the_spec_file_with_their_ranges(
    tmp_path: Path,
) -> None:
    output = ParquetOutput(tmp_path)
    commit(output, 1, 4)
    commit(output, 5, 9)
    directory = tmp_path / "WINZ25" / "2025-12-01"

    [target] = output.compact_directory(directory)

    assert [path.name for path in directory.iterdir()] == ["trades.parquet"]
    assert pq.read_table(target).num_rows == 6
    assert read_ranges(target) == [(1, 9)]


def test_recover_after_a_compaction_killed_before_deleting_parts_drops_the_parts(
    tmp_path: Path,
) -> None:
    output = ParquetOutput(tmp_path)
    parts = commit(output, 1, 4) + commit(output, 5, 9)
    saved = [path.read_bytes() for path in parts]
    output.compact_directory(parts[0].parent)
    for path, data in zip(parts, saved, strict=True):
        path.write_bytes(data)  # as if the kill came between the rename and the deletes

    output.recover()

    assert [path.name for path in parts[0].parent.iterdir()] == ["trades.parquet"]


def test_commit_on_a_newer_day_compacts_the_closed_day(tmp_path: Path) -> None:
    output = ParquetOutput(tmp_path)
    commit(output, 1, 4)
    commit(output, 5, 9, NEXT_DAY)

    output.compact_closed_days(["WINZ25"])

    assert [path.name for path in (tmp_path / "WINZ25" / "2025-12-01").iterdir()] == [
        "trades.parquet"
    ]
    assert [path.name for path in (tmp_path / "WINZ25" / "2025-12-02").iterdir()] == [
        "trades.part-000000000005-000000000009.parquet"
    ]


def test_reset_with_committed_output_leaves_nothing(tmp_path: Path) -> None:
    output = ParquetOutput(tmp_path)
    commit(output, 1, 4)

    output.reset()

    assert list(tmp_path.iterdir()) == []
    assert output.recover().position == 0
