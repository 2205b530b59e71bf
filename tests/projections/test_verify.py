"""verify: each broken invariant is reported by name; an intact store passes."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date
from pathlib import Path

from eventsourcing.persistence import StoredEvent

from adapters.parquet.verify import Report, verify_projections, verify_store
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.position import Position, position_id_for
from tradingcore.domain.values import Symbol
from tradingcore.ports.clock import ManualClock

from .helpers import ACCOUNT, populate, project


def test_verify_with_an_intact_store_and_projection_passes(
    memory_app: TradingApplication, clock: ManualClock, tmp_path: Path
) -> None:
    populate(memory_app, clock, trades=300, sessions=(date(2025, 12, 1),))
    project(memory_app, tmp_path)
    report = Report()

    verify_store(memory_app, report)
    verify_projections(memory_app, tmp_path, report)

    assert report.ok, report.render()
    assert report.facts["fills"] > 0 and report.facts["positions"] == 2


def test_verify_with_a_version_gap_reports_the_aggregate(
    memory_app: TradingApplication, clock: ManualClock
) -> None:
    populate(memory_app, clock, trades=300, sessions=(date(2025, 12, 1),))
    orphan = uuid.uuid4()
    memory_app.recorder.insert_events(
        [StoredEvent(originator_id=orphan, originator_version=3, topic="x:Y", state=b"\x80")]
    )
    report = Report()

    verify_store(memory_app, report)

    assert not report.ok
    assert any(f"aggregate {orphan}: version 3" in problem for problem in report.problems)
    assert any("cannot be decoded" in problem for problem in report.problems)


def test_verify_with_a_position_that_disagrees_with_its_fills_reports_it(
    memory_app: TradingApplication, clock: ManualClock
) -> None:
    populate(memory_app, clock, trades=300, sessions=(date(2025, 12, 1),))
    symbol = Symbol("WINZ25")
    position = memory_app.load(Position, position_id_for(ACCOUNT, symbol))
    last = next(iter(memory_app.events.get(position.id, desc=True, limit=1)))
    bogus = dataclasses.replace(
        last,  # type: ignore[type-var]
        originator_version=position.version + 1,
        net_quantity=last.net_quantity + 5,  # type: ignore[attr-defined]
    )
    memory_app.append([bogus])
    report = Report()

    verify_store(memory_app, report)

    assert any("position acct-1/WINZ25: net_quantity" in problem for problem in report.problems), (
        report.render()
    )
