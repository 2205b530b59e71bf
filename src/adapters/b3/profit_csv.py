"""Read a Profit "times and trades" CSV export (pt-BR or plain) into trade columns.

The accepted columns and value formats are documented in docs/import.md.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Final

import numpy as np

from adapters.b3.errors import B3FileError
from adapters.b3.local_time import local_datetime_to_utc_ms, utc_ms_to_local_day
from adapters.b3.neg_layout import TickUnits, price_text_to_units
from adapters.b3.source import read_bytes
from adapters.b3.table import TradeTable
from tradingcore.domain.errors import DomainError
from tradingcore.domain.tape import CROSS
from tradingcore.domain.values import PRICE_SCALE, Symbol

COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "timestamp": ("data", "data hora", "data/hora", "datahora", "data e hora"),
    "time": ("hora", "horario"),
    "price": ("preco", "valor", "preco negocio"),
    "quantity": ("quantidade", "qtd", "qtde", "quant"),
    "aggressor": ("agressor", "agressao", "lado agressor"),
    "trade_id": ("negocio", "numero", "numero do negocio", "n negocio", "id"),
    "symbol": ("ativo", "papel", "simbolo", "codigo"),
}
"""Column roles and the (accent- and case-insensitive) header names that fill them."""
REQUIRED: Final = ("timestamp", "price", "quantity")

AGGRESSORS: Final[dict[str, tuple[str, int]]] = {
    "comprador": ("B", 0),
    "compra": ("B", 0),
    "b": ("B", 0),
    "vendedor": ("S", 0),
    "venda": ("S", 0),
    "s": ("S", 0),
    "leilao": ("N", 0),
    "direto": ("N", CROSS),
    "cross": ("N", CROSS),
    "rlp": ("N", 0),
    "indefinido": ("N", 0),
    "nenhum": ("N", 0),
    "n": ("N", 0),
    "": ("N", 0),
}
"""Aggressor cell (normalized) → aggressor code and flags; a direct trade is a cross."""

_TIMESTAMP = re.compile(
    r"^(?:(\d{2})/(\d{2})/(\d{4})|(\d{4})-(\d{2})-(\d{2}))[ T]"
    r"(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{1,6}))?$"
)
_THOUSANDS = re.compile(r"^\d{1,3}(\.\d{3})+$")


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    ticker: str
    timestamp_ms: int
    trade_id: int | None
    price_units: int
    quantity: int
    aggressor: str
    flags: int


def read_profit_csv(path: Path, tick_units: TickUnits, symbol: str | None = None) -> TradeTable:
    """Read and validate a Profit times-and-trades export into a TradeTable."""
    text = _decode(read_bytes(path).to_pybytes())
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise B3FileError(path, "empty file: expected a header row", line=1, field="header")
    delimiter = next((mark for mark in ";\t" if mark in lines[0]), ",")
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader)
    roles = _roles(path, header)
    records = [(reader.line_num, cells) for cells in reader if any(c.strip() for c in cells)]
    price_column = roles["price"]
    comma_decimal = _comma_decimal(
        [cells[price_column] for _, cells in records if len(cells) > price_column]
    )
    # A symbol column wins over --symbol, which wins over the file name.
    default_ticker = symbol or _symbol_from_name(path)
    rows = [
        _row(path, line, cells, len(header), roles, comma_decimal, default_ticker, tick_units)
        for line, cells in records
    ]
    return _table(path, [row for row in rows if row is not None])


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Profit on Windows writes cp1252 when it does not write UTF-8.
        return data.decode("cp1252", errors="replace")


def normalize(name: str) -> str:
    """Lower-case, strip accents and collapse spaces: `Preço ` → `preco`."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.lower().replace("º", "").replace("°", "").split())


def _roles(path: Path, header: Sequence[str]) -> dict[str, int]:
    keys = [normalize(name).rstrip(".") for name in header]
    roles: dict[str, int] = {}
    for role, names in COLUMNS.items():
        # Earlier names win: `Preço` is the price even when a `Valor` column is present.
        found = [keys.index(name) for name in names if name in keys]
        if found:
            roles[role] = found[0]
    missing = [role for role in REQUIRED if role not in roles]
    if missing:
        accepted = "; ".join(f"{role}: {', '.join(COLUMNS[role])}" for role in missing)
        raise B3FileError(
            path,
            f"not a Profit times-and-trades export: header {list(header)} lacks {accepted}",
            line=1,
            field="header",
        )
    return roles


def _comma_decimal(prices: Sequence[str]) -> bool:
    """Decide the decimal mark of a price column: `,` if any price has one (pt-BR)."""
    return any("," in value for value in prices)


def _symbol_from_name(path: Path) -> str | None:
    for token in re.split(r"[^A-Za-z0-9]+", path.stem):
        try:
            return Symbol(token).ticker
        except DomainError:
            continue
    return None


def _row(
    path: Path,
    line: int,
    cells: list[str],
    width: int,
    roles: dict[str, int],
    comma_decimal: bool,
    default_ticker: str | None,
    tick_units: TickUnits,
) -> _Row | None:
    """Parse one row; None when its symbol is not among those imported."""

    def cell(role: str) -> str:
        return cells[roles[role]].strip() if role in roles else ""

    def fail(role: str, why: str) -> B3FileError:
        return B3FileError(path, f"{cell(role)!r} {why}", line=line, field=_field_name(role))

    if len(cells) < width:
        raise B3FileError(
            path, f"expected {width} columns, got {len(cells)}", line=line, field="layout"
        )
    ticker = cell("symbol") or default_ticker
    if not ticker:
        raise B3FileError(
            path,
            "no symbol: pass --symbol, name the file after it, or add an 'Ativo' column",
            line=line,
            field="Ativo",
        )
    if not tick_units.accepts(ticker.strip().upper()):
        return None
    try:
        ticker = Symbol(ticker).ticker
        tick = tick_units(ticker)
    except (DomainError, LookupError) as error:
        raise B3FileError(path, str(error), line=line, field="Ativo") from None
    stamp = cell("timestamp") + (" " + cell("time") if "time" in roles else "")
    timestamp_ms = _timestamp_ms(stamp, lambda why: fail("timestamp", why))
    price_units = _price_units(cell("price"), comma_decimal, lambda why: fail("price", why))
    if price_units % tick:
        raise fail("price", f"is not a multiple of the tick {Decimal(tick) / PRICE_SCALE}")
    quantity = _quantity(cell("quantity"), lambda why: fail("quantity", why))
    aggressor, flags = AGGRESSORS.get(normalize(cell("aggressor")), ("?", 0))
    if aggressor == "?":
        raise fail("aggressor", f"is not one of {', '.join(sorted(set(AGGRESSORS) - {''}))}")
    trade_id = None
    if "trade_id" in roles:
        digits = cell("trade_id").replace(".", "")
        if not digits.isdigit():
            raise fail("trade_id", "is not a whole number")
        trade_id = int(digits)
    return _Row(line, ticker, timestamp_ms, trade_id, price_units, quantity, aggressor, flags)


def _field_name(role: str) -> str:
    return {"timestamp": "Data", "time": "Hora", "price": "Preço", "quantity": "Quantidade"}.get(
        role, {"aggressor": "Agressor", "trade_id": "Negócio"}.get(role, role)
    )


Fail = Callable[[str], B3FileError]


def _timestamp_ms(text: str, fail: Fail) -> int:
    match = _TIMESTAMP.match(text)
    if match is None:
        raise fail("is not a time stamp DD/MM/YYYY HH:MM:SS[.mmm]")
    if match[1]:
        day, month, year = match[1], match[2], match[3]
    else:
        day, month, year = match[6], match[5], match[4]
    fraction = (match[10] or "0").ljust(6, "0")
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(match[7]),
            int(match[8]),
            int(match[9]),
            int(fraction),
        )
    except ValueError as error:
        raise fail(f"is not a valid date and time ({error})") from None
    if moment.microsecond % 1000:
        raise fail("is finer than a millisecond")
    return local_datetime_to_utc_ms(moment)


def _price_units(text: str, comma_decimal: bool, fail: Fail) -> int:
    plain = text.replace(" ", "")
    if comma_decimal:
        whole = plain.partition(",")[0]
        if "." in whole and not _THOUSANDS.match(whole):
            raise fail("mixes decimal marks: this file's prices use ',' for decimals")
        plain = plain.replace(".", "").replace(",", ".")
    elif _THOUSANDS.match(plain):
        plain = plain.replace(".", "")
    return price_text_to_units(plain, fail)


def _quantity(text: str, fail: Fail) -> int:
    plain = text.replace(" ", "")
    if _THOUSANDS.match(plain) or re.match(r"^\d{1,3}(,\d{3})+$", plain):
        plain = plain.replace(".", "").replace(",", "")
    if not plain.isdigit() or int(plain) < 1:
        raise fail("must be a whole number >= 1")
    return int(plain)


def _table(path: Path, rows: list[_Row]) -> TradeTable:
    # Profit lists the newest trade first: restore time order, keeping ties in their order.
    if rows and rows[0].timestamp_ms > rows[-1].timestamp_ms:
        rows = rows[::-1]
    rows = sorted(rows, key=lambda row: row.timestamp_ms)
    symbols = sorted({row.ticker for row in rows})
    position = {name: number for number, name in enumerate(symbols)}
    days = [utc_ms_to_local_day(row.timestamp_ms) for row in rows]
    sequence: dict[tuple[str, int], int] = {}
    trade_ids = []
    for row, day in zip(rows, days, strict=True):
        # Without a trade-number column, number trades by time within symbol and session.
        number = sequence[row.ticker, day] = sequence.get((row.ticker, day), 0) + 1
        trade_ids.append(row.trade_id if row.trade_id is not None else number)
    codes = {"N": 0, "B": 1, "S": 2}
    return TradeTable(
        path=path,
        symbols=symbols,
        symbol_index=np.array([position[row.ticker] for row in rows], dtype=np.int64),
        session_days=np.array(days, dtype=np.int64),
        trade_ids=np.array(trade_ids, dtype=np.int64),
        timestamps_ms=np.array([row.timestamp_ms for row in rows], dtype=np.int64),
        price_units=np.array([row.price_units for row in rows], dtype=np.int64),
        volumes=np.array([row.quantity for row in rows], dtype=np.int64),
        aggressors=np.array([codes[row.aggressor] for row in rows], dtype=np.uint8),
        flags=np.array([row.flags for row in rows], dtype=np.int64),
        line_numbers=np.array([row.line for row in rows], dtype=np.int64),
    )
