"""Hand-written NEG-layout trades shared by the importer's tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from adapters.b3.neg_writer import NegRow

SESSION = date(2015, 11, 26)
"""A summer-time session: São Paulo was UTC-2."""


def sample_rows() -> list[NegRow]:
    """Two options, an auction print, a cancelled and a cross trade, ids out of time order."""
    return [
        NegRow("PETRL80", 10, Decimal("0.40"), 1000, "10:00:00.001", 2, 2),
        NegRow("PETRL80", 20, Decimal("0.40"), 500, "10:00:00.001", 2, 2),
        NegRow("PETRL80", 40, Decimal("0.41"), 300, "10:05:00.000", 1, 2),
        NegRow("PETRL80", 30, Decimal("0.42"), 200, "10:05:01.500", 2, 1),
        NegRow("PETRL80", 50, Decimal("0.43"), 100, "11:00:00.000", 1, 2, indicator=2),
        NegRow("VALEX17", 10, Decimal("1.97"), 1200, "12:16:32.268", 1, 2),
        NegRow("VALEX17", 20, Decimal("1.98"), 800, "12:16:32.268", 2, 2, cross=1),
        NegRow("VALEX17", 30, Decimal("1.99"), 100, "17:18:00.000", 0, 0),
    ]
