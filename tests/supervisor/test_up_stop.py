"""`tradingcore up` stopped by SIGTERM: every host flushes and exits 0, nothing accepted is lost."""

from __future__ import annotations

import json
import signal
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.supervisor.system import System, descendants, wait_gone, write_config

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("supervisor")]


def host_log(folder: Path, service: str, message: str) -> list[dict[str, Any]]:
    entries = []
    for path in sorted((folder / "data/logs" / service).glob("*.jsonl")):
        entries += [json.loads(line) for line in path.read_text().splitlines() if line]
    return [entry["context"] for entry in entries if entry["message"] == message]


def stored(folder: Path, topic: str) -> set[str]:
    """The originator ids (hex, no dashes) of the stored events of this topic."""
    with sqlite3.connect(folder / "data/events.sqlite") as db:
        rows = db.execute(
            "SELECT originator_id FROM stored_events WHERE topic LIKE ?", (f"%:{topic}",)
        ).fetchall()
    return {row[0].replace("-", "") for row in rows}


def stop_codes(system: System) -> list[tuple[str, int]]:
    return [(event["host"], event["exit_code"]) for event in system.events("host stopped")]


def test_sigterm_stops_every_host_in_reverse_with_exit_0_and_loses_nothing(
    tmp_path: Path,
) -> None:
    write_config(tmp_path, capture={"rate": 2_000.0})
    system = System(tmp_path)
    try:
        system.wait_started()
        system.wait_for(
            "a first fill",
            lambda: bool(host_log(tmp_path, "ordermanager", "Order filled")),
        )
        everything = descendants(system.process.pid)
        system.process.send_signal(signal.SIGTERM)  # as `kill` or a service manager does
        assert system.process.wait(120) == 0
        assert stop_codes(system) == [("api", 0), ("capture", 0), ("analytics", 0)]
        assert wait_gone(everything) == set()

        # What each host said it accepted is in the store once it has stopped.
        said = {
            "SignalGenerated": host_log(tmp_path, "analytics", "Signal generated"),
            "OrderSubmitted": host_log(tmp_path, "ordermanager", "Order sent"),
            "OrderFilled": host_log(tmp_path, "ordermanager", "Order filled"),
        }
        for topic, entries in said.items():
            key = "signal_id" if topic == "SignalGenerated" else "order_id"
            ids = {entry[key].replace("-", "") for entry in entries}
            assert ids, topic
            assert ids <= stored(tmp_path, topic), topic
        summary = host_log(tmp_path, "datacapture", "capture stopped")[-1]
        assert summary["all_recorded"] is True
        assert summary["trades_recorded"] > 0
    finally:
        system.close()


def test_sigterm_while_the_api_starts_stops_it_with_exit_0(tmp_path: Path) -> None:
    """The API host still importing its modules used to die of the signal (exit -15)."""
    write_config(tmp_path)
    system = System(tmp_path)
    try:
        system.wait_for(
            "the api to be started",
            lambda: any(event["host"] == "api" for event in system.events("host started")),
        )
        system.process.send_signal(signal.SIGTERM)
        assert system.process.wait(120) == 0
        assert stop_codes(system) == [("api", 0), ("capture", 0), ("analytics", 0)]
        assert not system.events("system started")
        assert "dashboard:" not in system.printed()  # it never started: no URL to open
    finally:
        system.close()
