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
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


class DailyJsonlWriter:
    """Append JSON objects to `DIRECTORY/DATE.jsonl`, a new file each UTC day; thread-safe."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._lock = threading.Lock()
        self._day = ""
        self._file: IO[str] | None = None

    def write(self, entry: dict[str, Any], at: datetime) -> None:
        line = json.dumps(entry, separators=(",", ":"), default=str, ensure_ascii=False)
        day = at.astimezone(UTC).date().isoformat()
        with self._lock:
            if day != self._day or self._file is None:
                self._open(day)
            assert self._file is not None
            self._file.write(line + "\n")
            self._file.flush()

    def _open(self, day: str) -> None:
        if self._file is not None:
            self._file.close()
        self.directory.mkdir(parents=True, exist_ok=True)
        self._file = (self.directory / f"{day}.jsonl").open("a", encoding="utf-8")
        self._day = day

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


class JsonlHandler(logging.Handler):
    """A logging handler writing the spec's JSONL entries; pass `extra={"context": {...}}`."""

    def __init__(self, service: str, log_dir: Path = DEFAULT_LOG_DIR) -> None:
        super().__init__()
        self.service = service
        self.writer = DailyJsonlWriter(Path(log_dir) / service)

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

    def close(self) -> None:
        self.writer.close()
        super().close()


def configure_logging(
    service: str, log_dir: Path = DEFAULT_LOG_DIR, level: int = logging.INFO
) -> logging.Logger:
    """Return the service's logger, writing JSONL under `log_dir/service/`."""
    logger = logging.getLogger(f"tradingcore.{service}")
    logger.setLevel(level)
    for handler in list(logger.handlers):
        if isinstance(handler, JsonlHandler):
            logger.removeHandler(handler)
            handler.close()
    logger.addHandler(JsonlHandler(service, log_dir))
    logger.propagate = False
    return logger


class AuditTrail:
    """The spec's audit entries (section 9.2) as JSONL: who, what, when, why, result."""

    def __init__(self, log_dir: Path = DEFAULT_LOG_DIR) -> None:
        self.writer = DailyJsonlWriter(Path(log_dir) / "audit")

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

    def close(self) -> None:
        self.writer.close()
