"""A helper process's lifeline: when the process that started it dies, the helper ends too.

A helper's first way out is EOF on its socket to the parent (the kernel closes the parent's
end when it dies, even by SIGKILL), and that path ends it cleanly. This is the backstop for a
helper that is busy or stuck elsewhere (warming up, a long training, a store lock) and does
not read its socket: a daemon thread waits for the parent's death and, `grace` seconds later,
ends the process.

How it waits, per platform:
- Linux: a pidfd of the parent (`os.pidfd_open`), which becomes readable when it exits: no
  polling. Not `PR_SET_PDEATHSIG`: Linux sends that signal when the *thread* that started the
  child exits, and the hosts start a new helper from short-lived threads (the restart after a
  helper died), which would kill the new helper at once.
- Other POSIX (macOS): `os.getppid()` checked twice a second (it changes when the parent dies
  and the helper is re-parented).
- Windows: `WaitForSingleObject` on a SYNCHRONIZE handle of the parent (`OpenProcess`). Only
  type-checked here (`mypy --platform win32`): the helper processes run only off Windows
  (`HELPER_PROCESSES`), threads of the host take their place there.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import threading
import time
from typing import Final

GRACE_S: Final = 5.0
"""Time left to the helper's own clean exit (it sees EOF) after the parent died."""
POLL_S: Final = 0.5
EXIT_CODE: Final = 70
"""The helper's exit code when the lifeline ended it (no parent is left to read it)."""


def watch_parent(parent_pid: int, grace: float = GRACE_S) -> threading.Thread:
    """Start the daemon thread that ends this process `grace` seconds after `parent_pid`
    (this process's parent) dies. If it is not our parent any more, it already died."""
    thread = threading.Thread(target=_watch, args=(parent_pid, grace), name="lifeline", daemon=True)
    thread.start()
    return thread


def _watch(parent_pid: int, grace: float) -> None:
    wait_for_exit(parent_pid)
    time.sleep(grace)
    os._exit(EXIT_CODE)


if sys.platform == "win32":
    import ctypes

    SYNCHRONIZE: Final = 0x00100000
    INFINITE: Final = 0xFFFFFFFF

    def wait_for_exit(parent_pid: int) -> None:
        """Return when process `parent_pid` has exited."""
        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(SYNCHRONIZE, False, parent_pid)
        if not handle:
            return  # no such process: it is gone already
        try:
            kernel32.WaitForSingleObject(handle, INFINITE)
        finally:
            kernel32.CloseHandle(handle)

else:

    def wait_for_exit(parent_pid: int) -> None:
        """Return when process `parent_pid`, this process's parent, has exited."""
        descriptor = _pidfd(parent_pid)
        if descriptor is not None:
            try:
                if os.getppid() == parent_pid:  # it was still ours when the pidfd opened
                    select.select([descriptor], [], [])
            finally:
                os.close(descriptor)
            return
        while os.getppid() == parent_pid:
            time.sleep(POLL_S)

    def _pidfd(pid: int) -> int | None:
        """A pidfd of `pid` (Linux 5.3+), or None where there is none."""
        pidfd_open = getattr(os, "pidfd_open", None)
        if pidfd_open is None:
            return None
        with contextlib.suppress(OSError):
            descriptor: int = pidfd_open(pid)
            return descriptor
        return None
