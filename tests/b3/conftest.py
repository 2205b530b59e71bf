"""Fixtures of the importer's tests: NEG files written from hand-made rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from adapters.b3.neg_writer import NegRow, write_neg
from tests.b3.samples import SESSION, sample_rows

NegFile = Callable[..., Path]


@pytest.fixture
def neg_file(tmp_path: Path) -> NegFile:
    """Write a NEG file from rows (the sample session by default) and return its path."""

    def write(
        rows: list[NegRow] | None = None,
        *,
        name: str = "NEG_OPCOES_20151126.TXT",
        session: date = SESSION,
        zipped: bool = False,
    ) -> Path:
        return write_neg(
            tmp_path / name, session, sample_rows() if rows is None else rows, zipped=zipped
        )

    return write
