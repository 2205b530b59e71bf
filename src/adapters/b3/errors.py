"""The one error an import raises: which file, which line, which field, and why."""

from __future__ import annotations

from pathlib import Path


class B3FileError(Exception):
    """A trade file is unreadable or breaks its layout; nothing of it is imported."""

    def __init__(
        self, path: Path | str, reason: str, *, line: int | None = None, field: str | None = None
    ) -> None:
        self.path = Path(path)
        self.reason = reason
        self.line = line
        self.field = field
        where = [str(self.path)]
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field {field}")
        super().__init__(f"{', '.join(where)}: {reason}")
