"""Parsed trades of one file in column form, before they become tape events."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

AGGRESSOR_CODES: Final = b"NBS"
"""Aggressor codes by index: 0 none (auction or no single aggressor), 1 buyer, 2 seller."""


@dataclass(frozen=True, slots=True)
class TradeTable:
    """All trades of one file, one numpy column per field, in file order.

    `symbol_index` points into `symbols`; `session_days` count days since 1970-01-01;
    `line_numbers` name the file line each trade came from, for error messages.
    """

    path: Path
    symbols: list[str]
    symbol_index: npt.NDArray[np.int64]
    session_days: npt.NDArray[np.int64]
    trade_ids: npt.NDArray[np.int64]
    timestamps_ms: npt.NDArray[np.int64]
    price_units: npt.NDArray[np.int64]
    volumes: npt.NDArray[np.int64]
    aggressors: npt.NDArray[np.uint8]
    """Index into AGGRESSOR_CODES."""
    flags: npt.NDArray[np.int64]
    line_numbers: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.trade_ids)

    @classmethod
    def empty(cls, path: Path) -> TradeTable:
        none = np.zeros(0, dtype=np.int64)
        codes = np.zeros(0, dtype=np.uint8)
        return cls(path, [], none, none, none, none, none, none, codes, none, none)


def aggressor_codes(
    buy_indicator: npt.NDArray[np.integer[Any]], sell_indicator: npt.NDArray[np.integer[Any]]
) -> npt.NDArray[np.uint8]:
    """Map NEG aggressor indicators (0 neutral, 1 aggressor, 2 passive) to aggressor codes.

    Exactly one side aggressing names the aggressor; anything else (both passive: an auction
    print; neutral; both aggressing) has no single aggressor and maps to none.
    """
    buyer = (buy_indicator == 1) & (sell_indicator != 1)
    seller = (sell_indicator == 1) & (buy_indicator != 1)
    codes: npt.NDArray[np.uint8] = (buyer * 1 + seller * 2).astype(np.uint8)
    return codes


def aggressor_code(buy_indicator: int, sell_indicator: int) -> str:
    """Return B, S or N for one pair of NEG aggressor indicators (see aggressor_codes)."""
    if buy_indicator == 1 and sell_indicator != 1:
        return "B"
    if sell_indicator == 1 and buy_indicator != 1:
        return "S"
    return "N"


def keep_symbols(table: TradeTable, wanted: npt.NDArray[np.bool_]) -> TradeTable:
    """Return the table's trades of the wanted symbols only (`wanted` is per symbol)."""
    rows = wanted[table.symbol_index]
    names = [name for name, keep in zip(table.symbols, wanted, strict=True) if keep]
    renumber = np.cumsum(wanted) - 1
    return TradeTable(
        path=table.path,
        symbols=names,
        symbol_index=renumber[table.symbol_index[rows]],
        session_days=table.session_days[rows],
        trade_ids=table.trade_ids[rows],
        timestamps_ms=table.timestamps_ms[rows],
        price_units=table.price_units[rows],
        volumes=table.volumes[rows],
        aggressors=table.aggressors[rows],
        flags=table.flags[rows],
        line_numbers=table.line_numbers[rows],
    )
