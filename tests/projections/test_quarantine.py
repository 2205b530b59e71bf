"""An event the projector cannot project is quarantined, not a wall: real store, real commands."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from adapters.eventstore import open_store
from tradingcore.domain.signal import Direction
from tradingcore.domain.values import Symbol
from tradingcore.ports.clock import ManualClock

from .helpers import populate

ABSURD_MS = 2**53  # year 287396: what POST /api/v1/signals once accepted
MODULES = {"project": "hosts.projector.cli", "verify": "hosts.projector.verify_cli"}


def tradingcore(command: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", MODULES[command], *args, "--log-dir", "logs"],
        cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def record_signal(app: object, trade_id: int, timestamp_ms: int) -> None:
    app.record_signal(  # type: ignore[attr-defined]
        symbol=Symbol("WINZ25"),
        direction=Direction.BUY,
        confidence=0.7,
        features={"aggressor_flow": 0.1},
        model_version="old-version",
        tick_trade_id=trade_id,
        tick_timestamp_ms=timestamp_ms,
        price=127_850.0,
    )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A store whose signal at notification N is stamped in year 287396 (an older version's
    validation let it through), with valid events before and after it."""
    directory = tmp_path_factory.mktemp("quarantine")
    clock = ManualClock(datetime(2025, 11, 30, tzinfo=UTC))
    app = open_store(f"sqlite:///{directory / 'events.sqlite'}", clock)
    populate(app, clock, trades=200, signal_every=50, sessions=(date(2025, 12, 1),))
    with pytest.MonkeyPatch.context() as patch:  # stored as an older version would have
        patch.setattr("tradingcore.domain.signal.check_storable_ms", lambda value, what: value)
        record_signal(app, 900_001, ABSURD_MS)
    poison = app.recorder.max_notification_id()
    record_signal(app, 900_002, 1_764_601_200_000)
    app.close()
    return directory, poison


def test_project_with_an_unprojectable_event_quarantines_it_and_projects_the_rest(
    workspace: tuple[Path, int],
) -> None:
    directory, poison = workspace
    result = tradingcore("project", "--store", "sqlite:///events.sqlite", "--output", "out",
                         cwd=directory)  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert f"quarantined notification {poison}" in result.stderr
    assert f"tradingcore verify --store sqlite:///events.sqlite --show {poison}" in result.stderr
    assert "Traceback" not in result.stderr
    signals = [
        row
        for path in (directory / "out").rglob("signals*.parquet")
        for row in pq.read_table(path).to_pylist()
    ]
    assert 900_002 in {row["tick_trade_id"] for row in signals}

    verified = tradingcore("verify", "--store", "sqlite:///events.sqlite", "--root", "out",
                           cwd=directory)  # fmt: skip
    assert verified.returncode == 0, verified.stdout
    assert f"notification {poison} (" in verified.stdout
    assert f"--show {poison}" in verified.stdout

    shown = tradingcore("verify", "--store", "sqlite:///events.sqlite", "--show", str(poison),
                        cwd=directory)  # fmt: skip
    assert shown.returncode == 0
    assert "SignalGenerated" in shown.stdout and str(ABSURD_MS) in shown.stdout


def test_project_strict_with_an_unprojectable_event_stops_there_naming_it(
    workspace: tuple[Path, int],
) -> None:
    directory, poison = workspace
    result = tradingcore("project", "--store", "sqlite:///events.sqlite", "--output", "strict",
                         "--strict", cwd=directory)  # fmt: skip

    assert result.returncode == 2
    assert f"projection stopped at notification {poison}" in result.stderr
