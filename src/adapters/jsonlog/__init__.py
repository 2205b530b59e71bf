"""JSONL logs and audit trails exactly as in the spec (sections 7.2 and 9.2).

Logs go to `data/logs/SERVICE/DATE.jsonl`, one entry a line:
`{"timestamp": "2025-01-04T10:30:15.123Z", "level": "INFO", "service": "analytics",
"message": "Signal generated", "context": {...}}`. The date is the entry's UTC date.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

DEFAULT_LOG_DIR = Path("data/logs")


def iso_ms(moment: datetime) -> str:
    """Format a UTC time as the spec does: `2025-01-04T10:30:15.123Z`."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


class DailyJsonlWriter:
    """Append JSON objects to `DIRECTORY/DATE.jsonl`, a new file each UTC day; thread-safe.

    By default every line is flushed to the file before `write` returns. With
    `flush_interval` (seconds) lines are buffered in memory and a background thread writes
    them out at least that often, in order; `flush()` and `close()` write out the rest, so a
    clean shutdown loses nothing (a crash may lose the last `flush_interval` of lines).
    """

    def __init__(self, directory: Path, *, flush_interval: float | None = None) -> None:
        # Resolved now: a relative folder means the one it names at start, even if the process
        # (or a test) changes directory later (a test's `logs/` once landed in the checkout).
        self.directory = Path(directory).absolute()
        self.flush_interval = flush_interval
        self._lock = threading.Lock()
        self._day = ""
        self._file: IO[str] | None = None
        self._pending: list[str] = []
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None
        if flush_interval is not None:
            if flush_interval <= 0:
                raise ValueError(f"invalid flush interval {flush_interval}: must be > 0")
            self._start_flusher()

    def _start_flusher(self) -> None:
        self._stop = threading.Event()
        self._flusher = threading.Thread(
            target=self._flush_periodically,
            args=(self._stop,),
            name=f"jsonl-{self.directory.name}",
            daemon=True,
        )
        self._flusher.start()

    def write(self, entry: dict[str, Any], at: datetime) -> None:
        line = json.dumps(entry, separators=(",", ":"), default=str, ensure_ascii=False)
        day = at.astimezone(UTC).date().isoformat()
        with self._lock:
            if day != self._day or self._file is None:
                self._write_out()  # the previous day's lines go to the previous day's file
                self._open(day)
            self._pending.append(line + "\n")
            if self._flusher is None:
                self._write_out()
            elif self._stop.is_set():
                # Closed, yet still written to: logging.config.dictConfig (uvicorn runs it at
                # start) closes every handler, attached or not. Buffered lines would wait for
                # the next close (the shutdown), so flush from a new thread again.
                self._start_flusher()

    def flush(self) -> None:
        """Write every buffered line out to its file."""
        with self._lock:
            self._write_out()

    def _write_out(self) -> None:
        if self._pending and self._file is not None:
            self._file.write("".join(self._pending))
            self._file.flush()
        self._pending.clear()

    def _flush_periodically(self, stop: threading.Event) -> None:
        assert self.flush_interval is not None
        while not stop.wait(self.flush_interval):
            self.flush()

    def _open(self, day: str) -> None:
        if self._file is not None:
            self._file.close()
        self.directory.mkdir(parents=True, exist_ok=True)
        self._file = (self.directory / f"{day}.jsonl").open("a", encoding="utf-8")
        self._day = day

    def close(self) -> None:
        with self._lock:
            self._stop.set()
            flusher = self._flusher
        if flusher is not None and flusher is not threading.current_thread():
            flusher.join(timeout=5)
        with self._lock:
            self._write_out()
            if self._file is not None:
                self._file.close()
                self._file = None


class JsonlHandler(logging.Handler):
    """A logging handler writing the spec's JSONL entries; pass `extra={"context": {...}}`."""

    def __init__(
        self, service: str, log_dir: Path = DEFAULT_LOG_DIR, *, flush_interval: float | None = None
    ) -> None:
        super().__init__()
        self.service = service
        self.writer = DailyJsonlWriter(Path(log_dir) / service, flush_interval=flush_interval)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            at = datetime.fromtimestamp(record.created, UTC)
            context = getattr(record, "context", None)
            entry: dict[str, Any] = {
                "timestamp": iso_ms(at),
                "level": record.levelname,
                "service": self.service,
                "message": record.getMessage(),
                "context": context if isinstance(context, dict) else {},
            }
            if record.exc_info and record.exc_info[1] is not None:
                entry["context"] = {**entry["context"], "error": repr(record.exc_info[1])}
            self.writer.write(entry, at)
        except Exception:  # a log line must never take the host down
            self.handleError(record)

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
        super().close()


def configure_logging(
    service: str,
    log_dir: Path = DEFAULT_LOG_DIR,
    level: int = logging.INFO,
    *,
    flush_interval: float | None = None,
) -> logging.Logger:
    """Return the service's logger, writing JSONL under `log_dir/service/`.

    `flush_interval`: buffer lines and write them out at least this often (seconds) from a
    background thread; `logger.handlers[i].close()` writes out the rest. None: at once.
    """
    logger = logging.getLogger(f"tradingcore.{service}")
    logger.setLevel(level)
    for handler in list(logger.handlers):
        if isinstance(handler, JsonlHandler):
            logger.removeHandler(handler)
            handler.close()
    logger.addHandler(JsonlHandler(service, log_dir, flush_interval=flush_interval))
    logger.propagate = False
    return logger


class AuditTrail:
    """The spec's audit entries (section 9.2) as JSONL: who, what, when, why, result."""

    def __init__(
        self, log_dir: Path = DEFAULT_LOG_DIR, *, flush_interval: float | None = None
    ) -> None:
        self.writer = DailyJsonlWriter(Path(log_dir) / "audit", flush_interval=flush_interval)

    def record(
        self,
        *,
        actor: str,
        action: str,
        at: datetime,
        details: dict[str, Any],
        result: str,
        reason: str = "",
    ) -> dict[str, Any]:
        entry = {
            "actor": actor,
            "action": action,
            "timestamp": iso_ms(at),
            "details": details,
            "result": result,
            "reason": reason,
        }
        self.writer.write(entry, at)
        return entry

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
