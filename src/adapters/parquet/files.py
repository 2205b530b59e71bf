"""Crash-safe Parquet files: temporary name, fsync, rename, directory fsync; part file names."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.parquet as pq

RANGES_KEY: Final = b"tradingcore.ranges"
"""Parquet key-value metadata: the notification id ranges whose rows a file holds."""
TEMPORARY_SUFFIX: Final = ".tmp"
COMPRESSION: Final = "zstd"

_PART: Final = re.compile(r"^(?P<table>[a-z_]+)\.part-(?P<start>\d{12})-(?P<stop>\d{12})\.parquet$")
_WHOLE: Final = re.compile(r"^(?P<table>[a-z_]+)\.parquet$")
_DAY: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Range = tuple[int, int]


@dataclass(frozen=True, slots=True)
class DataFile:
    """A committed Parquet file of one table in one `SYMBOL/DATE` directory."""

    path: Path
    table: str
    range: Range | None
    """The notification ids of a part file; None for a compacted file (see its metadata)."""

    @property
    def is_part(self) -> bool:
        return self.range is not None


def part_name(table: str, start: int, stop: int) -> str:
    return f"{table}.part-{start:012d}-{stop:012d}.parquet"


def parse_name(path: Path) -> DataFile | None:
    """Return what a file name says about the file, or None if it is not one of ours."""
    part = _PART.match(path.name)
    if part:
        return DataFile(path, part["table"], (int(part["start"]), int(part["stop"])))
    whole = _WHOLE.match(path.name)
    if whole:
        return DataFile(path, whole["table"], None)
    return None


def data_files(directory: Path) -> list[DataFile]:
    """Return the committed data files of a `SYMBOL/DATE` directory, parts in range order."""
    found = [parse_name(path) for path in directory.iterdir() if path.is_file()]
    files = [file for file in found if file is not None]
    return sorted(files, key=lambda file: (file.table, file.range or (-1, -1)))


def symbol_directories(root: Path) -> list[Path]:
    """Return the `SYMBOL` directories under the root, sorted (`_days` and hidden ones are not)."""
    if not root.is_dir():
        return []
    return sorted(
        symbol
        for symbol in root.iterdir()
        if symbol.is_dir() and not symbol.name.startswith((".", "_"))
    )


def day_directories(root: Path) -> list[Path]:
    """Return every `SYMBOL/DATE` directory under the root, sorted."""
    return sorted(
        day
        for symbol in symbol_directories(root)
        for day in symbol.iterdir()
        if day.is_dir() and _DAY.match(day.name)
    )


def is_day(name: str) -> bool:
    """Tell whether a name is a session date directory name (`YYYY-MM-DD`)."""
    return _DAY.match(name) is not None


def symbol_days(root: Path, symbol: str) -> list[Path]:
    """Return the `SYMBOL/DATE` directories of one symbol, oldest first."""
    directory = root / symbol
    if not directory.is_dir():
        return []
    return sorted(day for day in directory.iterdir() if day.is_dir() and _DAY.match(day.name))


def write_atomically(
    table: pa.Table,
    path: Path,
    ranges: Sequence[Range],
    extra: Mapping[bytes, bytes] | None = None,
    row_group_size: int | None = None,
) -> None:
    """Write a Parquet file that readers see whole or not at all (the directory is not synced)."""
    metadata = dict(table.schema.metadata or {})
    metadata[RANGES_KEY] = json.dumps([list(item) for item in ranges]).encode()
    metadata.update(extra or {})
    # Many small record batches write slowly: one contiguous chunk per column is faster.
    table = table.replace_schema_metadata(metadata).combine_chunks()
    temporary = path.with_name(f".{path.name}.{os.getpid()}{TEMPORARY_SUFFIX}")
    pq.write_table(table, temporary, compression=COMPRESSION, row_group_size=row_group_size)
    _fsync_file(temporary)
    os.replace(temporary, path)


def write_bytes_atomically(data: bytes, path: Path) -> None:
    """Replace a small file atomically and durably (the directory is synced too)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}{TEMPORARY_SUFFIX}")
    with temporary.open("wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    fsync_directory(path.parent)


def read_ranges(path: Path) -> list[Range]:
    """Return the notification ranges recorded in a file's metadata."""
    metadata = pq.read_schema(path).metadata or {}
    raw = metadata.get(RANGES_KEY)
    if raw is None:
        return []
    return [(int(start), int(stop)) for start, stop in json.loads(raw)]


def merge_ranges(ranges: Iterable[Range]) -> list[Range]:
    """Merge ranges that touch or overlap, in order."""
    merged: list[Range] = []
    for start, stop in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged


def covers(ranges: Sequence[Range], part: Range) -> bool:
    return any(start <= part[0] and part[1] <= stop for start, stop in ranges)


def _fsync_file(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def fsync_directory(path: Path) -> None:
    """Make renames and deletions in a directory durable (a no-op where unsupported)."""
    if os.name != "posix":
        return
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def remove_temporaries(directory: Path) -> int:
    """Delete leftovers of interrupted writes in a directory; return how many."""
    removed = 0
    for path in directory.glob(f".*{TEMPORARY_SUFFIX}"):
        path.unlink(missing_ok=True)
        removed += 1
    return removed
