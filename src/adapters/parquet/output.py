"""The projection's output directory: part files, the checkpoint, recovery, compaction."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.parquet as pq

from adapters.parquet import days
from adapters.parquet.arrow import schema_of
from adapters.parquet.files import (
    DataFile,
    Range,
    covers,
    data_files,
    day_directories,
    fsync_directory,
    merge_ranges,
    part_name,
    read_ranges,
    remove_temporaries,
    symbol_days,
    write_atomically,
    write_bytes_atomically,
)
from adapters.parquet.quarantine import remove_quarantine
from tradingcore.projections.tables import TABLES

CHECKPOINT: Final = "_projection.json"
FORMAT: Final = 1
WRITERS: Final = max(1, min(4, os.cpu_count() or 1))

Key = tuple[str, str, date]
"""(table, symbol, session date): one output file."""


class OutputMismatch(Exception):
    """The output directory does not belong to this store, or is not a projection output."""


def table_layout() -> dict[str, str]:
    """Each table's column layout as a short fingerprint of its Arrow schema."""
    return {
        name: hashlib.sha256(str(schema_of(table)).encode()).hexdigest()[:16]
        for name, table in sorted(TABLES.items())
    }


@dataclass(frozen=True, slots=True)
class Checkpoint:
    position: int
    """The last notification id whose rows are committed (0: nothing yet)."""
    originator_id: str = ""
    originator_version: int = 0
    """Which stored event notification `position` is: detects a different or reset store."""

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "format": FORMAT,
                "position": self.position,
                "originator_id": self.originator_id,
                "originator_version": self.originator_version,
                "layout": table_layout(),
            },
            indent=1,
        ).encode()


class ParquetOutput:
    """`ROOT/SYMBOL/DATE/TABLE.parquet` files plus part files while a day is open.

    A batch of rows covering notifications `start..stop` is committed in two steps: every
    part file is written under a temporary name, synced and renamed in; then the checkpoint
    (`_projection.json`, holding `stop`) is replaced atomically. The checkpoint is the commit
    point: `recover()` deletes temporary leftovers and any part file beyond the checkpoint,
    so files and position never disagree and a batch is wholly in the output or not at all.
    """

    def __init__(self, root: Path, *, logger: logging.Logger | None = None) -> None:
        self.root = Path(root)
        self.logger = logger or logging.getLogger("tradingcore.projector")

    @property
    def checkpoint_path(self) -> Path:
        return self.root / CHECKPOINT

    def read_checkpoint(self) -> Checkpoint:
        try:
            raw = json.loads(self.checkpoint_path.read_bytes())
        except FileNotFoundError:
            return Checkpoint(0)
        except ValueError as error:
            raise OutputMismatch(f"{self.checkpoint_path} is not a checkpoint: {error}") from error
        if raw.get("format") != FORMAT:
            raise OutputMismatch(f"{self.checkpoint_path}: unknown format {raw.get('format')!r}")
        self._check_layout(raw.get("layout"))
        return Checkpoint(
            int(raw["position"]), str(raw["originator_id"]), int(raw["originator_version"])
        )

    def _check_layout(self, layout: object) -> None:
        """Refuse files written with other table columns: appending would mix two layouts."""
        current = table_layout()
        if layout == current:
            return
        if isinstance(layout, dict):
            changed = sorted(name for name in current if layout.get(name) != current[name])
            what = f"the columns of {', '.join(changed)} have changed since"
        else:
            what = "it was written by an older version, before table layouts were recorded"
        raise OutputMismatch(
            f"{self.root} holds projections of another table layout ({what}); the events are "
            f"all in the store: rebuild it with `tradingcore project --rebuild --output "
            f"{self.root}`"
        )

    def recover(self) -> Checkpoint:
        """Sweep what an interrupted run left and return the committed position."""
        self.root.mkdir(parents=True, exist_ok=True)
        swept = remove_temporaries(self.root)
        checkpoint = self.read_checkpoint()
        deleted = 0
        for directory in day_directories(self.root):
            swept += remove_temporaries(directory)
            deleted += self._recover_directory(directory, checkpoint.position)
        # Day files follow the spec files as they now are: stale ones go, missing ones come.
        self._update_day_files(None)
        if swept or deleted:
            self.logger.info(
                "Recovered the projection output",
                extra={
                    "context": {
                        "temporary_files_removed": swept,
                        "uncommitted_files_removed": deleted,
                        "position": checkpoint.position,
                    }
                },
            )
        return checkpoint

    def _recover_directory(self, directory: Path, position: int) -> int:
        files = data_files(directory)
        doomed: list[DataFile] = []
        for file in files:
            if file.range is not None and file.range[1] > position:
                doomed.append(file)  # written by a batch whose checkpoint never landed
            elif file.range is None and position == 0:
                doomed.append(file)  # no checkpoint: nothing is committed
        for whole in (file for file in files if not file.is_part and file not in doomed):
            # A compaction interrupted after its rename: its parts are already inside it.
            ranges = read_ranges(whole.path)
            doomed.extend(
                file
                for file in files
                if file.table == whole.table
                and file.range is not None
                and file not in doomed
                and covers(ranges, file.range)
            )
        for file in doomed:
            file.path.unlink(missing_ok=True)
        if doomed:
            fsync_directory(directory)
        return len(doomed)

    def commit(
        self,
        batches: Mapping[Key, Sequence[pa.RecordBatch]],
        start: int,
        checkpoint: Checkpoint,
    ) -> list[Path]:
        """Write one part file per key for notifications start..checkpoint.position, then commit."""
        stop = checkpoint.position
        for name in days.DAY_TABLES:
            # Before any reader can see new rows of a day, its day file (if any) must go.
            days.invalidate(
                self.root, name, (day.isoformat() for table, _, day in batches if table == name)
            )
        directories: set[Path] = set()
        jobs: list[tuple[pa.Table, Path]] = []
        for (table, symbol, day), records in sorted(batches.items()):
            directory = self._directory(symbol, day, directories)
            path = directory / part_name(table, start, checkpoint.position)
            jobs.append((pa.Table.from_batches(records, schema=schema_of(TABLES[table])), path))
            directories.add(directory)
        # pyarrow releases the GIL while encoding and writing: files are written in parallel.
        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            list(pool.map(lambda job: write_atomically(job[0], job[1], [(start, stop)]), jobs))
        written = [path for _, path in jobs]
        for directory in sorted(directories, key=lambda path: len(path.parts), reverse=True):
            fsync_directory(directory)
        write_bytes_atomically(checkpoint.to_json(), self.checkpoint_path)
        return written

    def _directory(self, symbol: str, day: date, created: set[Path]) -> Path:
        directory = self.root / symbol / day.isoformat()
        if not directory.is_dir():
            directory.mkdir(parents=True, exist_ok=True)
            # New directory entries must be durable before the checkpoint names their rows.
            created.update((directory.parent, self.root))
        return directory

    def compact_closed_days(self, symbols: Iterable[str]) -> list[Path]:
        """Compact every day of these symbols older than the symbol's latest day.

        A day whose files are then compacted for every symbol gets its day file.
        """
        compacted: list[Path] = []
        for symbol in sorted(set(symbols)):
            for directory in symbol_days(self.root, symbol)[:-1]:
                compacted.extend(self.compact_directory(directory))
        self._update_day_files({path.parent.name for path in compacted})
        return compacted

    def compact_all(self) -> list[Path]:
        """Compact every day, open ones included (e.g. after the session ends)."""
        compacted: list[Path] = []
        for directory in day_directories(self.root):
            compacted.extend(self.compact_directory(directory))
        self._update_day_files(None)
        return compacted

    def _update_day_files(self, dates: set[str] | None) -> None:
        """Bring the day files of these dates (None: every date) in step with the spec files."""
        for table in days.DAY_TABLES:
            written = (
                days.synchronize(self.root, table)
                if dates is None
                else days.update(self.root, table, dates)
            )
            for path in written:
                self.logger.info("Wrote a day file", extra={"context": {"file": str(path)}})

    def compact_directory(self, directory: Path) -> list[Path]:
        """Merge each table's parts (and earlier compacted file) into `TABLE.parquet`."""
        files = data_files(directory)
        compacted: list[Path] = []
        for table in sorted({file.table for file in files if file.is_part}):
            inputs = [file for file in files if file.table == table]
            target = directory / f"{table}.parquet"
            if len(inputs) == 1:
                # A lone part already holds its ranges in its metadata: a rename compacts it.
                os.replace(inputs[0].path, target)
                fsync_directory(directory)
            else:
                self._merge(inputs, target)
            compacted.append(target)
            self.logger.info(
                "Compacted a closed day",
                extra={"context": {"file": str(target), "parts": len(inputs)}},
            )
        return compacted

    def _merge(self, inputs: list[DataFile], target: Path) -> None:
        ranges: list[Range] = []
        tables: list[pa.Table] = []
        for file in inputs:
            ranges.extend([file.range] if file.range is not None else read_ranges(file.path))
            tables.append(pq.read_table(file.path).replace_schema_metadata(None))
        write_atomically(pa.concat_tables(tables), target, merge_ranges(ranges))
        fsync_directory(target.parent)
        for file in inputs:
            if file.is_part:
                file.path.unlink()
        fsync_directory(target.parent)

    def reset(self) -> None:
        """Delete the checkpoint, then every projection file: the next run starts from zero."""
        self.checkpoint_path.unlink(missing_ok=True)
        remove_quarantine(self.root)  # the rebuild quarantines them again
        if self.root.is_dir():
            fsync_directory(self.root)
        days.remove_all(self.root)
        for directory in day_directories(self.root):
            remove_temporaries(directory)
            for file in data_files(directory):
                file.path.unlink()
            _remove_if_empty(directory)
            _remove_if_empty(directory.parent)


def _remove_if_empty(directory: Path) -> None:
    if directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
