"""Quarantined events: stored events the projector could not project, listed beside the output.

One event that passed an older version's validation must not stop every projection after it:
the runner records it in `ROOT/_quarantine.jsonl` (one JSON line per event, appended and synced
before the checkpoint passes it), logs it, counts it and goes on, unless run `--strict`.
`tradingcore verify` lists them with the command that shows the stored event.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

QUARANTINE: Final = "_quarantine.jsonl"


@dataclass(frozen=True, slots=True)
class QuarantinedEvent:
    notification_id: int
    originator_id: str
    originator_version: int
    topic: str
    cause: str

    def inspect_command(self, store: str = "STORE_URL") -> str:
        """Return the command that prints this stored event."""
        return f"tradingcore verify --store {store} --show {self.notification_id}"


def quarantine_path(root: Path) -> Path:
    return Path(root) / QUARANTINE


def append_quarantined(root: Path, event: QuarantinedEvent) -> None:
    """Append one event to the list and sync it (a rerun may append it again: reads dedupe)."""
    path = quarantine_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as file:
        file.write(json.dumps(asdict(event), sort_keys=True) + "\n")
        file.flush()
        os.fsync(file.fileno())


def read_quarantined(root: Path) -> list[QuarantinedEvent]:
    """Return the quarantined events in notification order, each once; [] when none."""
    try:
        lines = quarantine_path(root).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    events: dict[int, QuarantinedEvent] = {}
    for line in lines:
        try:
            event = QuarantinedEvent(**json.loads(line))
        except (ValueError, TypeError):
            continue  # a line torn by a crash mid-append: the rerun appended it again
        events[event.notification_id] = event
    return [events[key] for key in sorted(events)]


def remove_quarantine(root: Path) -> None:
    quarantine_path(root).unlink(missing_ok=True)
