"""The runner: exactly once across restarts, unknown events skipped, corrupt events stop it."""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from eventsourcing.persistence import StoredEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.eventstore import open_store
from adapters.parquet.lock import OutputBusy
from adapters.parquet.output import OutputMismatch, ParquetOutput
from adapters.parquet.runner import ProjectionHalted, ProjectionRunner
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.aggregate import DomainEvent
from tradingcore.ports.clock import ManualClock

from .helpers import populate, project
from .tables import all_rows


@dataclass(frozen=True, kw_only=True)
class KillSwitchEngaged(DomainEvent):
    """An event type another host adds to the store; the projection does not know it."""

    reason: str


def test_catch_up_in_steps_with_restarts_equals_one_run_from_scratch(
    app: TradingApplication, clock: ManualClock, tmp_path: Path
) -> None:
    populate(app, clock)
    last = app.recorder.max_notification_id() or 0

    for stop in (1, 7, 8, last // 3, last // 2, last - 1, last, last):
        ProjectionRunner(app, ParquetOutput(tmp_path / "steps"), flush_rows=300).catch_up(stop)
    project(app, tmp_path / "whole")

    assert all_rows(tmp_path / "steps") == all_rows(tmp_path / "whole")
    assert sum(len(rows) for rows in all_rows(tmp_path / "whole").values()) > 6_000


def test_catch_up_run_twice_writes_nothing_the_second_time(
    app: TradingApplication, clock: ManualClock, tmp_path: Path
) -> None:
    populate(app, clock, trades=600)
    project(app, tmp_path)
    before = sorted(tmp_path.rglob("*.parquet"))

    report = ProjectionRunner(app, ParquetOutput(tmp_path)).catch_up()

    assert report.notifications == 0 and report.commits == 0
    assert sorted(tmp_path.rglob("*.parquet")) == before


def test_catch_up_with_events_added_later_projects_only_the_new_ones(
    memory_app: TradingApplication, clock: ManualClock, tmp_path: Path
) -> None:
    from datetime import date

    populate(memory_app, clock, trades=400, sessions=(date(2025, 12, 1),))
    runner = project(memory_app, tmp_path / "live")
    populate(memory_app, clock, trades=400, sessions=(date(2025, 12, 2),))

    report = runner.catch_up()
    runner.close()
    project(memory_app, tmp_path / "fresh")

    assert report.start_position > 0 and report.notifications > 0
    assert all_rows(tmp_path / "live") == all_rows(tmp_path / "fresh")


def test_catch_up_with_a_foreign_event_type_skips_it(
    memory_app: TradingApplication, clock: ManualClock, tmp_path: Path
) -> None:
    from datetime import date

    populate(memory_app, clock, trades=300, sessions=(date(2025, 12, 1),))
    memory_app.append(
        [
            KillSwitchEngaged(
                originator_id=uuid.uuid4(),
                originator_version=1,
                timestamp=clock.now(),
                reason="drill",
            )
        ]
    )

    report = project(memory_app, tmp_path).catch_up()

    assert ParquetOutput(tmp_path).read_checkpoint().position == (
        memory_app.recorder.max_notification_id()
    )
    assert report.notifications == 0


def _insert_raw(app: TradingApplication, topic: str, state: bytes) -> tuple[int, uuid.UUID]:
    originator_id = uuid.uuid4()
    app.recorder.insert_events(
        [StoredEvent(originator_id=originator_id, originator_version=1, topic=topic, state=state)]
    )
    return app.recorder.max_notification_id() or 0, originator_id


@pytest.mark.parametrize(
    ("topic", "state", "cause"),
    [
        ("tradingcore.domain.gone:VanishedEvent", b"\x80", "UnknownEventTopic"),
        ("tradingcore.domain.tape:TradesRecorded", b"\xc1\xc1 not msgpack", "Deserialisation"),
    ],
)
def test_catch_up_strict_with_a_corrupt_event_stops_there_and_resumes_after_the_fix(
    sqlite_url: str, clock: ManualClock, tmp_path: Path, topic: str, state: bytes, cause: str
) -> None:
    from datetime import date

    app = open_store(sqlite_url, clock)
    populate(app, clock, trades=300, sessions=(date(2025, 12, 1),))
    bad, bad_id = _insert_raw(app, topic, state)
    populate(app, clock, trades=300, sessions=(date(2025, 12, 2),))
    live = tmp_path / "live"
    runner = ProjectionRunner(app, ParquetOutput(live), strict=True)

    with pytest.raises(ProjectionHalted) as halted:
        runner.catch_up()
    runner.close()

    assert halted.value.notification_id == bad
    assert f"notification {bad}" in str(halted.value) and cause in str(halted.value)
    assert ParquetOutput(live).read_checkpoint().position == bad - 1
    assert not list(live.glob("*/2025-12-02"))
    # The fix: the operator turns the bad event into a known, harmless one.
    fix = KillSwitchEngaged(
        originator_id=bad_id, originator_version=1, timestamp=clock.now(), reason="x"
    )
    fixed = app.mapper.to_stored_event(fix)
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as connection:
        connection.execute(
            "UPDATE stored_events SET topic = ?, state = ? WHERE originator_id = ?",
            (fixed.topic, fixed.state, bad_id.hex),
        )
    report = ProjectionRunner(app, ParquetOutput(live)).catch_up()
    project(app, tmp_path / "fresh")

    assert report.start_position == bad - 1
    assert all_rows(live) == all_rows(tmp_path / "fresh")
    app.close()


def test_runner_on_output_of_another_store_refuses_to_start(
    clock: ManualClock, tmp_path: Path
) -> None:
    from datetime import date

    first = open_store("memory://", clock)
    populate(first, clock, trades=300, sessions=(date(2025, 12, 1),))
    project(first, tmp_path)
    other = open_store("memory://", ManualClock(clock.now()))
    populate(other, ManualClock(clock.now()), trades=300, seed=9, sessions=(date(2025, 12, 3),))

    with pytest.raises(OutputMismatch, match="another store"):
        ProjectionRunner(other, ParquetOutput(tmp_path))


def test_catch_up_across_sessions_compacts_the_closed_day_only(
    memory_app: TradingApplication, clock: ManualClock, tmp_path: Path
) -> None:
    populate(memory_app, clock, trades=300)

    project(memory_app, tmp_path, flush_rows=200)

    closed = sorted(path.name for path in (tmp_path / "WINZ25" / "2025-12-01").iterdir())
    open_day = sorted(path.name for path in (tmp_path / "WINZ25" / "2025-12-02").iterdir())
    assert closed == [
        "features.parquet",
        "fills.parquet",
        "orders.parquet",
        "positions.parquet",
        "signals.parquet",
        "trades.parquet",
    ]
    assert any(".part-" in name for name in open_day)


def test_second_runner_on_a_locked_output_refuses_to_start(
    memory_app: TradingApplication, tmp_path: Path
) -> None:
    first = ProjectionRunner(memory_app, ParquetOutput(tmp_path))

    with pytest.raises(OutputBusy, match="another projector"):
        ProjectionRunner(memory_app, ParquetOutput(tmp_path))

    first.close()
    ProjectionRunner(memory_app, ParquetOutput(tmp_path)).close()


_STORE: dict[str, TradingApplication] = {}


def _shared_store() -> TradingApplication:
    """One populated in-memory store for every example (populating is the slow part)."""
    if "app" not in _STORE:
        from datetime import UTC, datetime

        clock = ManualClock(datetime(2025, 11, 30, tzinfo=UTC))
        _STORE["app"] = open_store("memory://", clock)
        populate(_STORE["app"], clock, trades=300, batch=100, signal_every=40)
    return _STORE["app"]


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    stops=st.lists(st.integers(min_value=1, max_value=400), max_size=5),
    flush_rows=st.sampled_from([1, 50, 10**6]),
    page_size=st.sampled_from([1, 7, 500]),
)
def test_catch_up_with_any_stops_flushes_and_pages_equals_a_rebuild(
    tmp_path_factory: pytest.TempPathFactory, stops: list[int], flush_rows: int, page_size: int
) -> None:
    app = _shared_store()
    root = tmp_path_factory.mktemp("steps")

    for stop in [*stops, None]:
        with ProjectionRunner(
            app, ParquetOutput(root), flush_rows=flush_rows, page_size=page_size
        ) as runner:
            runner.catch_up(stop)

    assert all_rows(root) == _rebuilt_rows(tmp_path_factory)


_REBUILT: dict[str, dict[str, list[tuple[object, ...]]]] = {}


def _rebuilt_rows(factory: pytest.TempPathFactory) -> dict[str, list[tuple[object, ...]]]:
    if "rows" not in _REBUILT:
        root = factory.mktemp("whole")
        with ProjectionRunner(_shared_store(), ParquetOutput(root)) as runner:
            runner.catch_up()
        _REBUILT["rows"] = all_rows(root)
    return _REBUILT["rows"]


def test_recording_with_an_unknown_event_is_refused_at_import_naming_it(
    clock: ManualClock, tmp_path: Path
) -> None:
    from datetime import date

    from adapters.recordings import RecordingError, export_recording, import_recording

    source = open_store("memory://", clock)
    populate(source, clock, trades=300, sessions=(date(2025, 12, 1),))
    bad, _ = _insert_raw(source, "tradingcore.domain.gone:VanishedEvent", b"\x80")
    export_recording(source, tmp_path / "session.tcrec")
    target = open_store(f"sqlite:///{tmp_path / 'events.sqlite'}", clock)

    with pytest.raises(RecordingError, match=f"notification {bad} .*VanishedEvent"):
        import_recording(target, tmp_path / "session.tcrec")

    assert target.recorder.max_notification_id() in (None, 0)
    target.close()


def test_catch_up_after_a_commit_failed_half_way_sweeps_it_and_equals_a_rebuild(
    memory_app: TradingApplication,
    clock: ManualClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import adapters.parquet.output as output_module

    populate(memory_app, clock, trades=300)
    real = output_module.write_bytes_atomically
    calls = {"count": 0}

    def disk_full_on_third_checkpoint(data: bytes, path: Path) -> None:
        calls["count"] += 1
        if calls["count"] == 3:
            raise OSError(28, "No space left on device")  # the parts are already renamed in
        real(data, path)

    monkeypatch.setattr(output_module, "write_bytes_atomically", disk_full_on_third_checkpoint)
    runner = ProjectionRunner(
        memory_app, ParquetOutput(tmp_path / "live"), flush_rows=300, page_size=5
    )

    with pytest.raises(OSError, match="No space left"):
        runner.catch_up()
    runner.flush_rows = 10**6  # other batch bounds: the dead batch's part would not be replaced
    runner.catch_up()
    runner.close()
    project(memory_app, tmp_path / "fresh")

    assert all_rows(tmp_path / "live") == all_rows(tmp_path / "fresh")
