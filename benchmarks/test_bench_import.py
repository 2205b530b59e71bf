"""Import speed of an uncompressed B3 NEG file into a SQLite file store (target 500k trades/s)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from itertools import count
from pathlib import Path

import pytest

from adapters.b3.importer import import_file
from adapters.b3.instruments import TickSizes
from adapters.b3.neg import read_neg
from adapters.b3.neg_writer import NegRow, envelope, format_line
from adapters.eventstore import open_store
from tradingcore.application.trading import TradingApplication
from tradingcore.ports.clock import ManualClock

SESSION = date(2016, 6, 24)
SYMBOLS = 200
TRADES_PER_SYMBOL = 10_000
TRADES = SYMBOLS * TRADES_PER_SYMBOL
"""2,000,000 trades: a large B3 options session is ~60k; a busy futures day a few million."""


def session_rows(rng: random.Random) -> list[NegRow]:
    rows = []
    millis = 10 * 3_600_000
    for number in range(1, TRADES_PER_SYMBOL + 1):
        millis += rng.randint(0, 2_000)
        seconds, milli = divmod(millis, 1000)
        minutes, second = divmod(seconds, 60)
        hour, minute = divmod(minutes, 60)
        buy = rng.choice((1, 2, 2))
        rows.append(
            NegRow(
                "SYMBOL__",
                number * 10,
                Decimal(rng.randint(1, 500)) / 100,
                rng.randint(1, 50) * 100,
                f"{hour:02d}:{minute:02d}:{second:02d}.{milli:03d}",
                buy,
                2 if buy == 1 else rng.choice((1, 2)),
                cross=int(rng.random() < 0.01),
            )
        )
    return rows


def write_big_neg(path: Path) -> Path:
    """Write one symbol's session as a template and repeat it under 200 option tickers."""
    template = "\n".join(format_line(SESSION, row) for row in session_rows(random.Random(7)))
    template_bytes = (template + "\n").encode("latin-1")
    series = "ABCDEFGHIJKLMNOPQRSTUVWX"
    lines = TRADES + 2
    with path.open("wb") as file:
        file.write((envelope("RH", SESSION, lines) + "\n").encode())
        for number in range(SYMBOLS):
            ticker = f"PETR{series[number % 24]}{10 + number // 24}".ljust(8)
            file.write(template_bytes.replace(b"SYMBOL__", ticker.encode()))
        file.write((envelope("RT", SESSION, lines) + "\n").encode())
    return path


@pytest.fixture(scope="module")
def big_neg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = write_big_neg(tmp_path_factory.mktemp("neg") / "NEG_BENCH_20160624.TXT")
    yield path
    path.unlink()  # 476 MB: do not leave it in pytest's kept temporary directories


def test_import_neg_file_into_sqlite(benchmark, big_neg: Path, tmp_path: Path) -> None:
    stores = count()

    def fresh_store() -> tuple[tuple[object, ...], dict[str, object]]:
        app = open_store(f"sqlite:///{tmp_path / f'import-{next(stores)}.sqlite'}", ManualClock())
        return (app,), {}

    def run(app: TradingApplication) -> None:
        outcome = import_file(app, big_neg)
        assert outcome.trades == TRADES
        app.close()

    benchmark.pedantic(run, setup=fresh_store, rounds=3, iterations=1)
    benchmark.extra_info["trades"] = TRADES
    benchmark.extra_info["trades_per_second"] = round(TRADES / benchmark.stats.stats.median)


def test_read_and_validate_neg_file_only(benchmark, big_neg: Path) -> None:
    """The parse stage alone (pyarrow + numpy checks), without the domain and the store."""
    table = benchmark.pedantic(read_neg, args=(big_neg, TickSizes()), rounds=3, iterations=1)
    assert len(table) == TRADES
    benchmark.extra_info["trades_per_second"] = round(TRADES / benchmark.stats.stats.median)
