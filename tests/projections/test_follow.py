"""`project --follow` in a real subprocess: new events show up, SIGTERM stops it cleanly."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

from adapters.eventstore import open_store
from adapters.parquet.output import ParquetOutput
from tradingcore.ports.clock import ManualClock

from .helpers import populate, project
from .tables import all_rows


def wait_for_position(root: Path, position: int, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    reached = 0
    while time.monotonic() < deadline:
        if (root / "_projection.json").exists():
            reached = ParquetOutput(root).read_checkpoint().position
            if reached >= position:
                return reached
        time.sleep(0.05)
    return reached


def test_follow_with_events_appended_later_projects_them_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    clock = ManualClock(datetime(2025, 11, 30, tzinfo=UTC))
    store = f"sqlite:///{tmp_path / 'events.sqlite'}"
    app = open_store(store, clock)
    populate(app, clock, trades=300, sessions=(date(2025, 12, 1),))
    root = tmp_path / "parquet"
    follower = subprocess.Popen(
        [sys.executable, "-m", "hosts.projector", "--store", store, "--output", str(root),
         "--log-dir", str(tmp_path / "logs"), "--follow", "--poll", "0.1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        first = app.recorder.max_notification_id() or 0
        assert wait_for_position(root, first) == first
        populate(app, clock, trades=300, sessions=(date(2025, 12, 2),))
        last = app.recorder.max_notification_id() or 0
        assert wait_for_position(root, last) == last
    finally:
        follower.send_signal(signal.SIGTERM)
        output, errors = follower.communicate(timeout=30)

    project(app, tmp_path / "rebuild")
    assert follower.returncode == 0, errors
    assert f"stopped at notification {last}" in output
    assert all_rows(root) == all_rows(tmp_path / "rebuild")
    app.close()
