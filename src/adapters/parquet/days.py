"""Day files: every symbol's rows of one closed day in one derived file, for fast DuckDB scans.

`ROOT/_days/TABLE/DATE.parquet` holds exactly the rows of `ROOT/*/DATE/TABLE.parquet`, the
symbols in name order, each in its file's order. It exists only while every symbol's file of
that day is compacted, and it records which files (and notification ranges) it was made of, so
a stale one is recognised and deleted. The spec files stay the contract: a day file is an index
that can be deleted at any time and is made again from them.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.parquet as pq

from adapters.parquet.files import (
    Range,
    data_files,
    fsync_directory,
    is_day,
    merge_ranges,
    read_ranges,
    remove_temporaries,
    symbol_directories,
    write_atomically,
)

DAY_TABLES: Final = ("trades",)
"""Tables that get day files: the one the big scans (VWAP, bars, marks, hit rate) read."""
DAYS: Final = "_days"
SOURCES_KEY: Final = b"tradingcore.sources"
"""Day file metadata: JSON `{symbol: [[start, stop], ...]}`, the ranges of each source file."""

MAX_ROW_GROUP: Final = 512 * 1024
"""Day files hold an even number (at least 2) of equal row groups of at most this many rows."""

Sources = dict[str, list[Range]]


def days_directory(root: Path, table: str) -> Path:
    return root / DAYS / table


def day_file_path(root: Path, table: str, day: str) -> Path:
    return days_directory(root, table) / f"{day}.parquet"


def day_files(root: Path, table: str) -> dict[str, Path]:
    """Return the committed day files of a table by date (temporaries are not listed)."""
    try:
        entries = os.scandir(days_directory(root, table))
    except (FileNotFoundError, NotADirectoryError):
        return {}
    with entries:
        return {
            entry.name.removesuffix(".parquet"): Path(entry.path)
            for entry in entries
            if entry.name.endswith(".parquet") and is_day(entry.name.removesuffix(".parquet"))
        }


def closed_symbols(root: Path, table: str, day: str, symbols: list[Path]) -> list[str] | None:
    """Return the symbols with the table's compacted file on a day (directory listings only).

    None while any symbol still has part files of that day, or when no symbol has it.
    """
    closed: list[str] = []
    for symbol in symbols:
        directory = symbol / day
        if not directory.is_dir():
            continue
        files = [file for file in data_files(directory) if file.table == table]
        if any(file.is_part for file in files):
            return None  # the day is still open for this symbol
        if files:
            closed.append(symbol.name)
    return closed or None


def day_sources(root: Path, table: str, day: str) -> Sources | None:
    """Return each symbol's compacted file ranges for a day, or None if it is not closed."""
    closed = closed_symbols(root, table, day, symbol_directories(root))
    if closed is None:
        return None
    return {symbol: read_ranges(root / symbol / day / f"{table}.parquet") for symbol in closed}


def read_sources(path: Path) -> Sources | None:
    """Return the sources a day file records, or None if it cannot be read."""
    try:
        raw = (pq.read_schema(path).metadata or {}).get(SOURCES_KEY)
    except (OSError, pa.ArrowException):
        return None
    if raw is None:
        return None
    return {
        symbol: [(int(start), int(stop)) for start, stop in ranges]
        for symbol, ranges in json.loads(raw).items()
    }


def write_day_file(root: Path, table: str, day: str, sources: Sources) -> Path:
    """Concatenate the day's compacted files (symbols in name order) into its day file."""
    tables = [
        pq.read_table(root / symbol / day / f"{table}.parquet").replace_schema_metadata(None)
        for symbol in sorted(sources)
    ]
    path = day_file_path(root, table, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    ranges = merge_ranges(item for ranges in sources.values() for item in ranges)
    recorded = {symbol: [list(item) for item in sources[symbol]] for symbol in sorted(sources)}
    rows = pa.concat_tables(tables)
    write_atomically(
        rows,
        path,
        ranges,
        {SOURCES_KEY: json.dumps(recorded).encode()},
        row_group_size=row_group_size(rows.num_rows),
    )
    fsync_directory(path.parent)
    return path


def row_group_size(rows: int) -> int:
    """Split a day file into an even number of equal row groups.

    DuckDB scans one file with one thread per row group, and the day files of a view are
    scanned one after another: equal groups in even numbers keep both cores busy to the end.
    """
    groups = max(2, math.ceil(rows / MAX_ROW_GROUP))
    groups += groups % 2
    return max(1, math.ceil(rows / groups))


def invalidate(root: Path, table: str, days: Iterable[str]) -> int:
    """Delete the day files of these days, durably: rows for them are about to change."""
    directory = days_directory(root, table)
    removed = 0
    for day in set(days):
        path = day_file_path(root, table, day)
        if path.exists():
            path.unlink()
            removed += 1
    if removed:
        fsync_directory(directory)
    return removed


def update(root: Path, table: str, days: Iterable[str]) -> list[Path]:
    """Make each day's file agree with its spec files: keep, (re)write or delete it.

    A day file is kept when the day is still closed for the same symbols. That suffices
    because a commit deletes a day's file before any of its rows can change (so this reads one
    footer per day, not one per symbol and day); `verify` compares the rows themselves.
    """
    symbols = symbol_directories(root)
    written: list[Path] = []
    for day in sorted(set(days)):
        closed = closed_symbols(root, table, day, symbols)
        path = day_file_path(root, table, day)
        if path.exists():
            recorded = read_sources(path)
            if closed is not None and recorded is not None and sorted(recorded) == closed:
                continue
            path.unlink()
            fsync_directory(path.parent)
        if closed is not None:
            sources = {
                symbol: read_ranges(root / symbol / day / f"{table}.parquet") for symbol in closed
            }
            written.append(write_day_file(root, table, day, sources))
    return written


def synchronize(root: Path, table: str) -> list[Path]:
    """Check every day file and every day (start-up, `--compact`): sweep, drop stale, write."""
    directory = days_directory(root, table)
    if directory.is_dir():
        remove_temporaries(directory)
    days = set(day_files(root, table))
    for symbol in symbol_directories(root):
        days.update(day.name for day in symbol.iterdir() if day.is_dir() and is_day(day.name))
    return update(root, table, days)


def remove_all(root: Path) -> None:
    """Delete every day file and the `_days` directories (a rebuild)."""
    for table in DAY_TABLES:
        directory = days_directory(root, table)
        if not directory.is_dir():
            continue
        remove_temporaries(directory)
        for path in day_files(root, table).values():
            path.unlink()
        _remove_if_empty(directory)
    _remove_if_empty(root / DAYS)


def _remove_if_empty(directory: Path) -> None:
    if directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
