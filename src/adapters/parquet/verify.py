"""`verify`: the store's invariants, and the projections against a fresh rebuild."""

from __future__ import annotations

import logging
import tempfile
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

import duckdb
import pyarrow.parquet as pq

from adapters.parquet.arrow import schema_of
from adapters.parquet.days import DAY_TABLES, day_files, day_sources, read_sources
from adapters.parquet.files import data_files, day_directories
from adapters.parquet.output import ParquetOutput
from adapters.parquet.runner import ProjectionHalted, ProjectionRunner
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.aggregate import DomainEvent
from tradingcore.domain.order import OrderFilled, OrderSubmitted
from tradingcore.domain.position import Position, PositionEvent, position_id_for
from tradingcore.projections.tables import TABLES

PAGE: Final = 1_000
SHOWN: Final = 5
"""How many differing rows a report shows per table."""


@dataclass(slots=True)
class Report:
    problems: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def render(self) -> str:
        lines = [f"{name}: {value}" for name, value in self.facts.items()]
        lines.append("OK: every check passed" if self.ok else f"FAILED: {len(self.problems)}")
        lines.extend(f"  - {problem}" for problem in self.problems)
        return "\n".join(lines)


def verify_store(app: TradingApplication, report: Report) -> None:
    """Check notification ids, per-aggregate versions and positions against their fills."""
    versions: dict[uuid.UUID, int] = {}
    submitted: dict[uuid.UUID, OrderSubmitted] = {}
    fills: list[tuple[OrderSubmitted, OrderFilled]] = []
    position_events: defaultdict[uuid.UUID, list[PositionEvent]] = defaultdict(list)
    last_id = 0
    count = 0
    while True:
        page = app.recorder.select_notifications(start=last_id + 1, limit=PAGE)
        for notification in page:
            count += 1
            if notification.id <= last_id:
                report.problems.append(
                    f"notification ids not strictly increasing: {notification.id} after {last_id}"
                )
            last_id = notification.id
            originator = uuid.UUID(str(notification.originator_id))
            expected = versions.get(originator, 0) + 1
            if notification.originator_version != expected:
                report.problems.append(
                    f"aggregate {originator}: version {notification.originator_version} at "
                    f"notification {notification.id}, expected {expected}"
                )
            versions[originator] = notification.originator_version
            try:
                event = app.mapper.to_domain_event(notification)
            except Exception as error:
                report.problems.append(
                    f"notification {notification.id} ({notification.topic}) cannot be decoded: "
                    f"{type(error).__name__}: {error}"
                )
                continue
            _collect(event, submitted, fills, position_events, report, notification.id)
        if len(page) < PAGE:
            break
    report.facts["notifications"] = count
    report.facts["aggregates"] = len(versions)
    report.facts["fills"] = len(fills)
    _check_positions(app, fills, position_events, report)


def _collect(
    event: object,
    submitted: dict[uuid.UUID, OrderSubmitted],
    fills: list[tuple[OrderSubmitted, OrderFilled]],
    position_events: defaultdict[uuid.UUID, list[PositionEvent]],
    report: Report,
    notification_id: int,
) -> None:
    if isinstance(event, OrderSubmitted):
        submitted[event.originator_id] = event
    elif isinstance(event, OrderFilled):
        order = submitted.get(event.originator_id)
        if order is None:
            report.problems.append(
                f"notification {notification_id}: fill of unknown order {event.originator_id}"
            )
        else:
            fills.append((order, event))
    elif isinstance(event, PositionEvent):
        position_events[event.originator_id].append(event)


def _check_positions(
    app: TradingApplication,
    fills: list[tuple[OrderSubmitted, OrderFilled]],
    position_events: dict[uuid.UUID, list[PositionEvent]],
    report: Report,
) -> None:
    """Fold every fill into fresh positions and compare with the stored Position aggregates."""
    folded: dict[uuid.UUID, Position] = {}
    for order, fill in fills:
        position_id = position_id_for(order.account, order.symbol)
        position = folded.get(position_id)
        if position is None:
            position = Position.open_for(order.account, app.instruments(order.symbol))
            folded[position_id] = position
        position.apply_fill(
            order.originator_id,
            fill.trade_id,
            fill.side,
            fill.quantity,
            fill.price,
            fill.timestamp,
            fees=fill.fees,
        )
    for position_id in sorted(set(folded) | set(position_events), key=str):
        stored_events: list[DomainEvent] = list(position_events.get(position_id, []))
        if position_id not in folded:
            report.problems.append(f"position {position_id} has events but no fills")
            continue
        if not stored_events:
            report.problems.append(f"position {position_id} has fills but no position events")
            continue
        stored = Position.rehydrate(position_id, stored_events)  # type: ignore[arg-type]
        expected = folded[position_id]
        # Events stored before fees (version 1) hold unrounded quotients: their money may
        # differ from today's exact fold by under a cent per event, and is not a fault.
        slack = Fraction(len(stored_events), 100)
        for name in ("net_quantity", "cost_basis", "gross_realized", "fees_paid", "bought", "sold"):
            stored_value, expected_value = getattr(stored, name), getattr(expected, name)
            inexact = name in ("cost_basis", "gross_realized")
            if inexact and abs(Fraction(stored_value) - Fraction(expected_value)) < slack:
                continue
            if stored_value != expected_value:
                report.problems.append(
                    f"position {stored.account}/{stored.symbol.ticker}: {name} is "
                    f"{getattr(stored, name)} in the store, {getattr(expected, name)} "
                    "from the fold of its fills"
                )
    report.facts["positions"] = len(folded)


def verify_projections(app: TradingApplication, root: Path, report: Report) -> None:
    """Check every committed file is readable and equals a rebuild up to the same position."""
    output = ParquetOutput(root)
    position = output.read_checkpoint().position
    report.facts["projection position"] = position
    live = _committed_files(root, position, report)
    with tempfile.TemporaryDirectory(prefix="tradingcore-verify-") as scratch:
        rebuilt_root = Path(scratch)
        quiet = logging.getLogger("tradingcore.verify.rebuild")
        quiet.propagate = False  # the scratch rebuild is not the projector's work: do not log it
        runner = ProjectionRunner(app, ParquetOutput(rebuilt_root, logger=quiet), flush_rows=10**9)
        if position:
            try:
                runner.catch_up(stop=position)
            except ProjectionHalted as halted:
                report.problems.append(f"the rebuild failed: {halted}")
                return
        rebuilt = _committed_files(rebuilt_root, position, report)
        connection = duckdb.connect(":memory:")
        for name, table in TABLES.items():
            connection.register(f"empty_{name}", schema_of(table).empty_table())
        try:
            for name in TABLES:
                _compare(connection, name, live[name], rebuilt[name], report)
            _check_day_files(connection, root, report)
        finally:
            connection.close()


def _check_day_files(connection: duckdb.DuckDBPyConnection, root: Path, report: Report) -> None:
    """Check each day file equals, row for row, the union of that day's spec files."""
    checked = 0
    for table in DAY_TABLES:
        for day, path in sorted(day_files(root, table).items()):
            checked += 1
            recorded = read_sources(path)
            if recorded is None:
                report.problems.append(f"day file {path} is unreadable or records no sources")
                continue
            if recorded != day_sources(root, table, day):
                report.problems.append(
                    f"day file {path} is stale: it was made of {sorted(recorded)} "
                    "but the day's spec files have changed since"
                )
                continue
            spec = _paths([root / symbol / day / f"{table}.parquet" for symbol in recorded])
            for label, left, right in (
                (
                    "only in the day file",
                    f"read_parquet({_paths([path])})",
                    f"read_parquet({spec})",
                ),
                (
                    "missing from the day file",
                    f"read_parquet({spec})",
                    f"read_parquet({_paths([path])})",
                ),
            ):
                differing = connection.sql(
                    f"SELECT * FROM (SELECT * FROM {left} EXCEPT ALL SELECT * FROM {right}) "
                    f"LIMIT {SHOWN}"
                ).fetchall()
                for row in differing:
                    report.problems.append(f"{table} day file {day}: row {label}: {row}")
    report.facts["day files"] = checked


def _committed_files(root: Path, position: int, report: Report) -> dict[str, list[Path]]:
    files: dict[str, list[Path]] = {table: [] for table in TABLES}
    for directory in day_directories(root):
        for file in data_files(directory):
            if file.table not in files or (file.range is not None and file.range[1] > position):
                continue
            try:
                pq.read_metadata(file.path)
            except Exception as error:
                report.problems.append(f"unreadable Parquet file {file.path}: {error}")
                continue
            files[file.table].append(file.path)
    return files


def _compare(
    connection: duckdb.DuckDBPyConnection,
    table: str,
    live: list[Path],
    rebuilt: list[Path],
    report: Report,
) -> None:
    live_rows = _source(table, live)
    rebuilt_rows = _source(table, rebuilt)
    counts = connection.sql(
        f"SELECT (SELECT count(*) FROM {live_rows}), (SELECT count(*) FROM {rebuilt_rows})"
    ).fetchall()[0]
    report.facts[f"{table} rows"] = counts[0]
    for label, left, right in (
        ("only in the projections", live_rows, rebuilt_rows),
        ("only in the rebuild", rebuilt_rows, live_rows),
    ):
        differing = connection.sql(
            f"SELECT * FROM (SELECT * FROM {left} EXCEPT ALL SELECT * FROM {right}) LIMIT {SHOWN}"
        ).fetchall()
        for row in differing:
            report.problems.append(f"{table}: row {label}: {row}")
    if live:
        misplaced = connection.sql(
            f"SELECT count(*) FROM read_parquet({_paths(live)}, filename = true) "
            "WHERE NOT contains(replace(filename, '\\', '/'), "
            "'/' || symbol || '/' || strftime(date, '%Y-%m-%d') || '/')"
        ).fetchall()[0][0]
        if misplaced:
            report.problems.append(
                f"{table}: {misplaced} rows lie in a SYMBOL/DATE directory that is not theirs"
            )


def _source(table: str, paths: list[Path]) -> str:
    return f"read_parquet({_paths(paths)})" if paths else f"empty_{table}"


def _paths(paths: list[Path]) -> str:
    quoted = ", ".join("'" + str(path).replace("'", "''") + "'" for path in paths)
    return f"[{quoted}]"
