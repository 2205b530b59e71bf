"""Write trade files in B3's NEG layout: fixtures, benchmarks and hand-made sessions."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path


@dataclass(frozen=True, slots=True)
class NegRow:
    """One detail line; fields as B3 writes them (times are São Paulo local)."""

    symbol: str
    trade_number: int
    price: Decimal
    quantity: int
    time: str
    """HH:MM:SS.mmm, local time."""
    buy_aggressor: int = 1
    sell_aggressor: int = 2
    indicator: int = 1
    cross: int = 0
    buy_member: int = 3
    sell_member: int = 72


def format_line(session: date, row: NegRow) -> str:
    """Return the detail line of one trade, padded like B3's files."""
    day = session.isoformat()
    return ";".join(
        (
            day,
            row.symbol.ljust(50),
            f"{row.trade_number:010d}",
            f" {row.price:019.6f}" if row.price >= 0 else f"{row.price:.6f}",
            f"{row.quantity:018d}",
            row.time,
            str(row.indicator),
            day,
            f"{86_726_728_716 + row.trade_number:015d}",
            f"{14_551_023 + row.trade_number:015d}",
            str(row.buy_aggressor),
            day,
            f"{86_726_732_358 + row.trade_number:015d}",
            f"{14_551_024 + row.trade_number:015d}",
            str(row.sell_aggressor),
            str(row.cross),
            f"{row.buy_member:08d}",
            f"{row.sell_member:08d}",
        )
    )


def envelope(marker: str, session: date, line_count: int) -> str:
    """Return the header (`RH`) or trailer (`RT`) line for a file of `line_count` lines."""
    day = session.isoformat()
    return f"{marker} NEG                 {day} {day} {line_count:09d}"


def neg_text(session: date, rows: Iterable[NegRow]) -> str:
    """Return a whole NEG file: header, detail lines and trailer (counts include both)."""
    details = [format_line(session, row) for row in rows]
    count = len(details) + 2
    lines = [envelope("RH", session, count), *details, envelope("RT", session, count)]
    return "\n".join(lines) + "\n"


def write_neg(path: Path, session: date, rows: Iterable[NegRow], *, zipped: bool = False) -> Path:
    """Write a NEG file (or a zip holding one, as B3 published them) and return its path."""
    text = neg_text(session, rows)
    if zipped:
        member = f"NEG_{session:%Y%m%d}.TXT"
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(member, text.encode("latin-1"))
    else:
        path.write_bytes(text.encode("latin-1"))
    return path
