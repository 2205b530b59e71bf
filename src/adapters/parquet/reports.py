"""What a projection run reports: how far it got, or the event it stopped at."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from adapters.parquet.quarantine import QuarantinedEvent


class ProjectionHalted(Exception):
    """A stored event cannot be decoded or projected; nothing past it was written."""

    def __init__(self, notification_id: int, topic: str, cause: BaseException) -> None:
        self.notification_id = notification_id
        self.topic = topic
        self.cause = cause
        super().__init__(
            f"projection stopped at notification {notification_id} (topic {topic!r}): "
            f"{type(cause).__name__}: {cause}. Rows up to notification {notification_id - 1} "
            "are committed; fix or remove the event and run again to resume."
        )


@dataclass(slots=True)
class RunReport:
    start_position: int
    position: int
    notifications: int = 0
    commits: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    quarantined: list[QuarantinedEvent] = field(default_factory=list)
    """Events skipped because they could not be decoded or projected (not with `strict`)."""

    def rows_text(self) -> str:
        """The rows written per table, as people read them: `orders` files hold one row per
        order event (the `orders` view shows each order once), so they count as order events."""
        return ", ".join(
            f"{count:,} {ROW_NAMES.get(table, table)}" for table, count in sorted(self.rows.items())
        )


ROW_NAMES: Final = {"orders": "order events"}
"""Tables whose rows are not one per thing: the demo said `1,020 orders` for 340 orders."""
