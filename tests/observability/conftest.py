"""One running system (capture, analytics, API on ephemeral ports, one SQLite store) per worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.observability.system import System, eventually

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    running = System(tmp_path_factory.mktemp("system"))
    try:
        running.start()
        running.seed_trading()
        # The analytics host reports a hit rate once a model update scored BUY/SELL signals.
        eventually(
            lambda: "analytics_signal_hit_rate{" in running.scrape("analytics"),
            timeout=120,
            what="a hit rate",
        )
        yield running
    except Exception:
        for name in running.hosts:
            print(f"--- {name} stderr ---\n{running.errors(name)}")
        raise
    finally:
        running.stop()
