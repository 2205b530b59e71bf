"""Benchmark fixtures: real stores, as in the tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.eventstore import drop_schema

POSTGRES_DSN = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(params=["sqlite", "postgres"])
def bench_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bench.sqlite'}"
        return
    url = f"{POSTGRES_DSN}?schema=b_{uuid.uuid4().hex[:12]}"
    yield url
    drop_schema(url)
