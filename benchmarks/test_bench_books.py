"""Recording book tops: the capture host's admission and batched writes of top changes into a
SQLite file (figures in docs/performance.md, "Capture host")."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters.eventstore import open_store
from hosts.capture.recorder import TapeRecorder
from tradingcore.domain.book import BookTop
from tradingcore.domain.values import Symbol
from tradingcore.ports.clock import ManualClock

TOPS = 200_000
WIN = Symbol("WINZ25")
START_MS = 1_764_590_400_000


def tops() -> list[BookTop]:
    """Every top a change (none dropped as unchanged): the most a store has to take."""
    rng = random.Random(3)
    bid = 127_850
    result = []
    for index in range(TOPS):
        bid += 5 * rng.choice((-1, 0, 0, 1))
        result.append(
            BookTop(
                WIN,
                START_MS + index // 4,
                Decimal(bid),
                index % 1_000 + 1,  # differs from the top before: always a change
                Decimal(bid + 5),
                rng.randint(1, 200),
            )
        )
    return result


def test_bench_record_200k_book_top_changes_into_sqlite(benchmark: Any, tmp_path: Path) -> None:
    feed = tops()
    counter = iter(range(100))

    def run() -> int:
        app = open_store(f"sqlite:///{tmp_path / f'{next(counter)}.sqlite'}", ManualClock())
        recorder = TapeRecorder(app)
        recorder.start()
        for top in feed:
            assert recorder.add_book(top) is None
        assert recorder.close()
        recorded = recorder.status().recorded_books
        app.close()
        return recorded

    recorded = benchmark.pedantic(run, rounds=3, iterations=1)
    assert recorded == TOPS
    seconds = benchmark.stats.stats.median
    benchmark.extra_info["tops_per_s"] = round(TOPS / seconds)
    print(f"\nbook tops: {TOPS / seconds:,.0f} a second recorded (median of 3)")
