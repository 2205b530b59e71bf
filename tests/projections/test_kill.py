"""SIGKILL the runner at random moments: no unreadable file, and output equal to a rebuild."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq

from adapters.eventstore import open_store
from adapters.parquet.days import day_files
from adapters.parquet.verify import Report, verify_projections
from tradingcore.ports.clock import ManualClock

from .helpers import populate, project
from .tables import all_rows

ROUNDS = 20


def start_runner(store: str, root: Path, logs: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hosts.projector", "--store", store, "--output", str(root),
         "--log-dir", str(logs), "--flush-rows", "40", "--page-size", "3", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_runner_killed_at_random_moments_leaves_output_equal_to_a_rebuild(tmp_path: Path) -> None:
    clock = ManualClock(datetime(2025, 11, 30, tzinfo=UTC))
    store = f"sqlite:///{tmp_path / 'events.sqlite'}"
    app = open_store(store, clock)
    populate(app, clock, trades=900, batch=60, signal_every=45)
    root, logs = tmp_path / "parquet", tmp_path / "logs"
    rng = random.Random(20251125)
    killed_while_working = 0

    for round_number in range(ROUNDS):
        extra = ("--rebuild",) if round_number % 5 == 4 else ()
        runner = start_runner(store, root, logs, *extra)
        assert runner.stdout is not None
        runner.stdout.readline()  # recovery is done: the runner is projecting now
        time.sleep(rng.uniform(0.0, 0.25))
        if runner.poll() is None:
            killed_while_working += 1
        os.kill(runner.pid, signal.SIGKILL)
        runner.wait(timeout=30)
        runner.stdout.close()
        assert runner.stderr is not None
        runner.stderr.close()
        for path in root.rglob("*.parquet"):
            pq.read_metadata(path)  # every visible file is whole, even right after a kill

    final = start_runner(store, root, logs)
    _, errors = final.communicate(timeout=120)
    project(app, tmp_path / "rebuild")

    assert final.returncode == 0, errors
    assert killed_while_working >= ROUNDS // 2
    assert not [path for path in root.rglob("*") if path.name.endswith(".tmp")]
    for path in root.rglob("*.parquet"):
        pq.read_table(path)
    assert all_rows(root) == all_rows(tmp_path / "rebuild")
    # The closed first session's day file was killed around too: it equals its spec files.
    assert set(day_files(root, "trades")) == {"2025-12-01"}
    report = Report()
    verify_projections(app, root, report)
    assert report.ok, report.render()
    app.close()
