"""An exclusive lock on a projection output: one runner per directory, freed when it dies."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from adapters.filelock import try_lock

LOCK_FILE: Final = "_projection.lock"


class OutputBusy(Exception):
    """Another runner holds the output directory."""


class OutputLock:
    """An OS file lock (`adapters.filelock`): the kernel drops it if the process is killed."""

    def __init__(self, root: Path) -> None:
        self.path = Path(root) / LOCK_FILE
        self._descriptor: int | None = None

    def acquire(self) -> None:
        if self._descriptor is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            locked = try_lock(descriptor)
        except OSError:
            os.close(descriptor)
            raise
        if not locked:
            os.close(descriptor)
            raise OutputBusy(
                f"another projector is writing {self.path.parent} (it holds {self.path}); "
                "stop it first, or project into another directory"
            )
        self._descriptor = descriptor

    def release(self) -> None:
        descriptor, self._descriptor = self._descriptor, None
        if descriptor is not None:
            os.close(descriptor)  # closing the descriptor releases the lock

    @property
    def held(self) -> bool:
        return self._descriptor is not None
