"""Stored topics resolve only to tradingcore's own event classes: data never names an import.

A crafted recording (valid checksum) whose event's topic named a standard-library module was
imported, and `tradingcore project` then imported that module and ran it. `this` prints the
Zen of Python when imported: the proof that nothing was imported is its absence.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from eventsourcing.persistence import StoredEvent

from adapters.eventstore import open_store
from adapters.recordings import export_recording
from tradingcore.application.topics import UnknownEventTopic, event_classes
from tradingcore.domain.signal import SignalGenerated
from tradingcore.ports.clock import ManualClock

SIDE_EFFECT = "The Zen of Python"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip


def crafted_recording(directory: Path) -> Path:
    source = open_store(f"sqlite:///{directory / 'source.sqlite'}", ManualClock())
    source.recorder.insert_events([StoredEvent(uuid.uuid4(), 1, "this:s", b"\x80")])
    info = export_recording(source, directory / "crafted.tcrec")
    source.close()
    return info.path


def test_import_of_a_recording_naming_a_module_is_refused_naming_the_event(
    tmp_path: Path,
) -> None:
    recording = crafted_recording(tmp_path)

    imported = run("hosts", "recording", "import", str(recording), "--store",
                   "sqlite:///target.sqlite", cwd=tmp_path)  # fmt: skip
    projected = run("hosts.projector.cli", "--store", "sqlite:///target.sqlite", "--output",
                    "out", "--log-dir", "logs", cwd=tmp_path)  # fmt: skip

    assert imported.returncode == 2
    assert "'this:s'" in imported.stderr and "notification 1" in imported.stderr
    assert SIDE_EFFECT not in imported.stdout + projected.stdout
    assert not (tmp_path / "target.sqlite").exists()  # a refused import leaves no store file


def test_project_over_a_stored_topic_naming_a_module_never_imports_it(tmp_path: Path) -> None:
    app = open_store(f"sqlite:///{tmp_path / 'events.sqlite'}", ManualClock())
    app.recorder.insert_events([StoredEvent(uuid.uuid4(), 1, "this:s", b"\x80")])
    app.close()

    projected = run("hosts.projector.cli", "--store", "sqlite:///events.sqlite", "--output",
                    "out", "--log-dir", "logs", cwd=tmp_path)  # fmt: skip

    assert SIDE_EFFECT not in projected.stdout
    assert "UnknownEventTopic" in projected.stderr  # quarantined, named


def test_every_event_class_of_the_domain_is_known_by_its_topic() -> None:
    classes = event_classes()

    assert classes["tradingcore.domain.signal:SignalGenerated"] is SignalGenerated
    assert all(topic.startswith("tradingcore.domain.") for topic in classes)
    with pytest.raises(UnknownEventTopic, match="this:s"):
        from tradingcore.application.topics import resolve_event_topic

        resolve_event_topic("this:s")


def test_import_of_a_recording_with_a_trade_stamped_in_2126_is_refused_naming_it(
    tmp_path: Path,
) -> None:
    """A recording exported from a store an older version filled: its checksum is valid, its
    trade would hold a feed clock in 2126."""
    from datetime import date
    from decimal import Decimal

    from tradingcore.domain.tape import Trade, TradeColumns, session_of
    from tradingcore.domain.values import Aggressor, Symbol

    source = open_store(f"sqlite:///{tmp_path / 'source.sqlite'}", ManualClock())
    win = Symbol("WINZ25")
    for trade_id, stamp in ((1, 1_764_601_200_000), (2, 4_949_909_918_654)):
        columns = TradeColumns()
        columns.append(Trade(win, trade_id, stamp, Decimal(127_850), 1, Aggressor.BUY))
        source.record_trades(win, session_of(stamp), columns)
    info = export_recording(source, tmp_path / "future.tcrec")
    source.close()

    imported = run("hosts", "recording", "import", str(info.path), "--store",
                   "sqlite:///target.sqlite", cwd=tmp_path)  # fmt: skip

    assert imported.returncode == 2
    assert "timestamp_implausible" in imported.stderr and "WINZ25" in imported.stderr
    assert not (tmp_path / "target.sqlite").exists()
    assert date(2126, 1, 1) < session_of(4_949_909_918_654)
