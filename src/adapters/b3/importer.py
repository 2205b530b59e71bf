"""Import one trade file into the event store: parse, validate, then one atomic append."""

from __future__ import annotations

import time
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from adapters.b3.errors import B3FileError
from adapters.b3.instruments import TickSizes
from adapters.b3.neg import read_neg
from adapters.b3.profit_csv import read_profit_csv
from adapters.b3.table import TradeTable
from adapters.b3.tapes import DEFAULT_BATCH_SIZE, TapeImport, build_events, store_events
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.timestamps import TIMESTAMP_IMPLAUSIBLE, implausible_time


class FileFormat(StrEnum):
    NEG = "neg"
    PROFIT_CSV = "profit-csv"
    AUTO = "auto"


@dataclass(frozen=True, slots=True)
class FileImport:
    """The outcome of importing one file."""

    path: Path
    file_format: FileFormat
    trades: int
    tapes: tuple[TapeImport, ...]
    events: int
    already_imported: bool
    """True when the store already held every trade of the file: nothing was written."""
    last_notification_id: int | None

    @property
    def cancelled(self) -> int:
        return sum(tape.cancelled for tape in self.tapes)

    @property
    def cross(self) -> int:
        return sum(tape.cross for tape in self.tapes)


def detect_format(path: Path) -> FileFormat:
    """Tell a NEG file (zipped, or starting with `RH `) from a Profit CSV export."""
    try:
        if zipfile.is_zipfile(path) or path.suffix.lower() == ".zip":
            return FileFormat.NEG
        with path.open("rb") as file:
            start = file.read(3)
    except OSError as error:
        raise B3FileError(path, f"cannot be read ({error.strerror or error})") from None
    return FileFormat.NEG if start == b"RH " else FileFormat.PROFIT_CSV


def read_table(
    path: Path,
    file_format: FileFormat,
    ticks: TickSizes,
    symbol: str | None = None,
) -> TradeTable:
    """Parse and validate a whole file into trade columns, without touching any store."""
    if file_format is FileFormat.AUTO:
        file_format = detect_format(path)
    if file_format is FileFormat.NEG:
        return read_neg(path, ticks)
    return read_profit_csv(path, ticks, symbol)


def import_file(
    app: TradingApplication,
    path: Path,
    *,
    file_format: FileFormat = FileFormat.AUTO,
    band_fraction: Decimal | None = None,
    ticks: Mapping[str, Decimal] | None = None,
    symbol: str | None = None,
    only: Iterable[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
) -> FileImport:
    """Import one file atomically: all its trades are stored, or none (B3FileError).

    `only` keeps the trades of these tickers or ticker prefixes (e.g. `WIN`, `WDO`) and
    leaves the others out. With `dry_run` the file is parsed and checked against the store's
    tapes, and not stored.
    """
    path = Path(path)
    resolved = detect_format(path) if file_format is FileFormat.AUTO else file_format
    table = read_table(path, resolved, TickSizes(ticks, only), symbol)
    if not len(table):
        wanted = f" of {', '.join(only)}" if only else ""
        raise B3FileError(path, f"the file holds no trades{wanted}")
    _refuse_future(path, table)
    built = build_events(app, table, band_fraction=band_fraction, batch_size=batch_size)
    skipped = not built.events
    last = None if skipped or dry_run else store_events(app, path, built)
    return FileImport(
        path=path,
        file_format=resolved,
        trades=len(table) if skipped else built.trades,
        tapes=tuple(built.already_imported if skipped else built.tapes),
        events=len(built.events),
        already_imported=skipped,
        last_notification_id=last,
    )


def _refuse_future(path: Path, table: TradeTable) -> None:
    """Refuse a file with a trade stamped ahead of this host's clock: a B3 file holds past
    trades, and one from 2126 in the store would hold a feed clock in 2126."""
    wall_ms = time.time_ns() // 1_000_000
    row = int(table.timestamps_ms.argmax())
    implausible = implausible_time(int(table.timestamps_ms[row]), wall_ms)
    if implausible is not None:
        raise B3FileError(
            path,
            f"{TIMESTAMP_IMPLAUSIBLE}: {implausible}",
            line=int(table.line_numbers[row]),
            field="time",
        )
