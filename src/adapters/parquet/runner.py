"""The projection runner: follows the store's notification log and commits Parquet batches."""

from __future__ import annotations

import logging
import sqlite3
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Final, cast

import pyarrow as pa
from eventsourcing.persistence import ConnectionPoolClosedError, Notification, PersistenceError

from adapters.parquet.arrow import to_batch
from adapters.parquet.lock import OutputBusy, OutputLock
from adapters.parquet.output import Checkpoint, Key, OutputMismatch, ParquetOutput
from adapters.parquet.quarantine import QuarantinedEvent, append_quarantined
from adapters.parquet.reports import ProjectionHalted, RunReport
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.aggregate import DomainEvent
from tradingcore.projections.projector import Projector

__all__ = [
    "FLUSH_ROWS",
    "PAGE_SIZE",
    "ProjectionHalted",
    "ProjectionRunner",
    "RunReport",
    "StoreHistory",
]

PAGE_SIZE: Final = 500
FLUSH_ROWS: Final = 1_000_000
STORE_FAILURES: Final = (PersistenceError, ConnectionPoolClosedError, sqlite3.Error, OSError)
"""Errors of the store or the disk, not of one event: retried or raised, never quarantined."""


class StoreHistory:
    """The projector's look-back into an aggregate's earlier events, read from the store."""

    def __init__(self, app: TradingApplication) -> None:
        self.app = app

    def events(self, originator_id: uuid.UUID, until_version: int) -> Sequence[DomainEvent]:
        if until_version < 1:
            return []
        return [
            cast(DomainEvent, event)
            for event in self.app.events.get(originator_id, lte=until_version)
        ]


class ProjectionRunner:
    """Catch up with the store's log, exactly once: each batch and its position commit together."""

    def __init__(
        self,
        app: TradingApplication,
        output: ParquetOutput,
        *,
        page_size: int = PAGE_SIZE,
        flush_rows: int = FLUSH_ROWS,
        logger: logging.Logger | None = None,
        rebuild: bool = False,
        strict: bool = False,
    ) -> None:
        """Lock the output, sweep what a killed run left (all of it if `rebuild`), and resume.

        An event that cannot be decoded or projected is quarantined and skipped, unless
        `strict`: then the run halts there (ProjectionHalted).
        """
        if page_size < 1 or flush_rows < 1:
            raise ValueError(f"page size {page_size} and flush rows {flush_rows} must be >= 1")
        self.app = app
        self.output = output
        self.page_size = page_size
        self.flush_rows = flush_rows
        self.logger = logger or output.logger
        self.projector = Projector(StoreHistory(app))
        self._last_halt = 0
        self._lock = OutputLock(output.root)
        self._rebuild = rebuild
        self.strict = strict
        self._interrupted = False
        self.checkpoint = self._start()

    def _start(self) -> Checkpoint:
        self._lock.acquire()
        try:
            if self._rebuild:
                self.output.reset()
                self.logger.info(
                    "Projection reset for a rebuild",
                    extra={"context": {"output": str(self.output.root)}},
                )
            return self._recover()
        except BaseException:
            self._lock.release()
            raise

    def close(self) -> None:
        """Release the output directory for another runner."""
        self._lock.release()

    def __enter__(self) -> ProjectionRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        lock = getattr(self, "_lock", None)
        if lock is not None:
            lock.release()

    def _recover(self) -> Checkpoint:
        checkpoint = self.output.recover()
        if checkpoint.position == 0:
            return checkpoint
        found = self.app.recorder.select_notifications(start=checkpoint.position, limit=1)
        here = found[0] if found else None
        stored = "nothing" if here is None else f"{here.originator_id} v{here.originator_version}"
        if (
            here is None
            or here.id != checkpoint.position
            or str(here.originator_id) != checkpoint.originator_id
            or here.originator_version != checkpoint.originator_version
        ):
            raise OutputMismatch(
                f"the projections in {self.output.root} were built from another store: "
                f"notification {checkpoint.position} should be event "
                f"{checkpoint.originator_id} v{checkpoint.originator_version}, the store has "
                f"{stored}; run `tradingcore project --rebuild`"
            )
        return checkpoint

    @property
    def position(self) -> int:
        return self.checkpoint.position

    def catch_up(self, stop: int | None = None) -> RunReport:
        """Project every notification after the position (up to `stop`); return what was done.

        Raises ProjectionHalted at an event that cannot be projected, after committing the
        rows of every event before it. While one batch is being written (in a background
        thread: pyarrow releases the GIL) the next one is read and folded.
        """
        if self._interrupted:
            # A commit may have died half-way: sweep it, exactly as a restart would.
            self.checkpoint = self._recover()
            self.projector = Projector(StoreHistory(self.app))
            self._interrupted = False
        report = RunReport(self.position, self.position)
        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="commit") as committer:
                pipeline = _Pipeline(committer)
                try:
                    self._fold_pages(stop, report, pipeline)
                finally:
                    pipeline.wait()
        except ProjectionHalted:
            raise  # everything before the bad event is committed: nothing to sweep
        except BaseException:
            self._interrupted = True
            raise
        report.position = self.position
        return report

    def _fold_pages(self, stop: int | None, report: RunReport, pipeline: _Pipeline) -> None:
        batch = _Batch(self.position + 1)
        while True:
            page = self.app.recorder.select_notifications(
                start=batch.start if batch.last is None else batch.last.id + 1,
                limit=self.page_size,
                stop=stop,
            )
            for notification in page:
                try:
                    self._project(notification, batch)
                except Exception as error:
                    # The fold may have cached state from the failed event: start it afresh.
                    self.projector = Projector(StoreHistory(self.app))
                    if self.strict or isinstance(error, STORE_FAILURES):
                        self._commit(batch, report, pipeline)
                        pipeline.wait()
                        raise self._halted(notification, error) from error
                    self._quarantine(notification, error, report)
                    batch.last = notification  # its (absent) rows commit with the batch
                report.notifications += 1
            if batch.rows >= self.flush_rows and batch.last is not None:
                next_start = batch.last.id + 1
                self._commit(batch, report, pipeline)
                batch = _Batch(next_start)
            if len(page) < self.page_size:
                break
        self._commit(batch, report, pipeline)

    def _halted(self, notification: Notification, error: Exception) -> ProjectionHalted:
        halted = ProjectionHalted(notification.id, notification.topic, error)
        if self._last_halt != notification.id:  # a follower retrying logs each halt once
            self._last_halt = notification.id
            self.logger.error(
                "Projection halted",
                extra={
                    "context": {
                        "notification_id": notification.id,
                        "topic": notification.topic,
                        "cause": f"{type(error).__name__}: {error}",
                    }
                },
            )
        return halted

    def _quarantine(self, notification: Notification, error: Exception, report: RunReport) -> None:
        event = QuarantinedEvent(
            notification.id,
            str(notification.originator_id),
            notification.originator_version,
            notification.topic,
            f"{type(error).__name__}: {error}",
        )
        append_quarantined(self.output.root, event)
        report.quarantined.append(event)
        self.logger.error(
            "Event quarantined: not projected",
            extra={
                "context": {
                    "notification_id": event.notification_id,
                    "topic": event.topic,
                    "cause": event.cause,
                    "inspect": event.inspect_command(),
                }
            },
        )

    def _project(self, notification: Notification, batch: _Batch) -> None:
        # Events of types this projection does not know are decoded (so corruption is
        # caught) and skipped: other hosts add their own event types to the same store.
        event = cast(DomainEvent, self.app.mapper.to_domain_event(notification))
        # All of an event's rows are built before any joins the batch: a quarantined event
        # leaves none behind.
        blocks = [
            (block, to_batch(block)) for block in self.projector.project(event, notification.id)
        ]
        for block, records in blocks:
            batch.records[block.key].append(records)
            batch.rows += block.length
        batch.last = notification

    def _commit(self, batch: _Batch, report: RunReport, pipeline: _Pipeline) -> None:
        """Hand a batch to the committer (after the previous commit has finished)."""
        if batch.last is None:
            return
        pipeline.wait()
        checkpoint = Checkpoint(
            batch.last.id, str(batch.last.originator_id), batch.last.originator_version
        )
        records = dict(batch.records)
        pipeline.submit(lambda: self._write(records, batch.start, checkpoint, report))

    def _write(
        self,
        records: dict[Key, list[pa.RecordBatch]],
        start: int,
        checkpoint: Checkpoint,
        report: RunReport,
    ) -> None:
        written = self.output.commit(records, start, checkpoint)
        self.checkpoint = checkpoint
        report.commits += 1
        counts: dict[str, int] = defaultdict(int)
        for (table, _, _), batches in records.items():
            counts[table] += sum(len(batch) for batch in batches)
        for table, count in counts.items():
            report.rows[table] = report.rows.get(table, 0) + count
        self.logger.info(
            "Projection committed",
            extra={
                "context": {
                    "start": start,
                    "stop": checkpoint.position,
                    "files": len(written),
                    "rows": dict(counts),
                }
            },
        )
        self.output.compact_closed_days(symbol for _, symbol, _ in records)

    def follow(
        self,
        poll_seconds: float = 1.0,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        """Keep catching up until told to stop; a halted event is retried every poll.

        A failure of the store or the disk (a database restart, a full disk) is logged and
        retried too, after sweeping what the failed commit left, so the follower stays up.
        """
        while not should_stop():
            try:
                report = self.catch_up()
            except ProjectionHalted:
                report = None
            except (OutputMismatch, OutputBusy):
                raise
            except Exception as error:
                self.logger.error(
                    "Projection failed; retrying",
                    extra={"context": {"error": f"{type(error).__name__}: {error}"}},
                )
                time.sleep(poll_seconds)
                continue
            if report is None or report.notifications == 0:
                time.sleep(poll_seconds)


class _Pipeline:
    """At most one commit in flight; its error surfaces at the next wait."""

    def __init__(self, executor: ThreadPoolExecutor) -> None:
        self.executor = executor
        self.pending: Future[None] | None = None

    def submit(self, work: Callable[[], None]) -> None:
        self.wait()
        self.pending = self.executor.submit(work)

    def wait(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()


@dataclass(slots=True)
class _Batch:
    start: int
    records: defaultdict[Key, list[pa.RecordBatch]] = field(
        default_factory=lambda: defaultdict(list)
    )
    rows: int = 0
    last: Notification | None = None
