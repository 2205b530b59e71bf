"""Exclusive OS file locks on an open descriptor (`flock` on POSIX, `msvcrt.locking` on Windows).

The kernel drops the lock when the process dies (kill -9 included), so a lock file never needs
cleaning up. One module for every adapter that locks a file: the only place in `src/` that
touches `fcntl`, imported only off Windows.
"""

from __future__ import annotations

import os
import sys

__all__ = ["try_lock", "unlock"]


if sys.platform == "win32":
    import errno
    import msvcrt

    _LOCKED = {errno.EACCES, 36}
    """What the C runtime's `_locking` sets when another holder has the bytes (36 is
    Windows' EDEADLOCK)."""

    def try_lock(descriptor: int) -> bool:
        """Take the lock without waiting; False if another holder has it."""
        # msvcrt locks bytes from the current position: always the first byte of the file
        # (locking past the end of a file is allowed on Windows).
        os.lseek(descriptor, 0, os.SEEK_SET)
        try:
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
        except OSError as error:
            if error.errno in _LOCKED:
                return False
            raise
        return True

    def unlock(descriptor: int) -> None:
        """Release a lock taken by `try_lock` (closing the descriptor also does)."""
        os.lseek(descriptor, 0, os.SEEK_SET)
        msvcrt.locking(descriptor, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def try_lock(descriptor: int) -> bool:
        """Take the lock without waiting; False if another holder has it."""
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def unlock(descriptor: int) -> None:
        """Release a lock taken by `try_lock` (closing the descriptor also does)."""
        fcntl.flock(descriptor, fcntl.LOCK_UN)
