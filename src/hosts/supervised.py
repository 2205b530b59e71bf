"""A host started by `tradingcore up` stops cleanly when the supervisor dies, however it dies.

The supervisor passes its pid in TRADINGCORE_SUPERVISOR_PID; `hosts.cli` then starts a
thread that waits for that process to exit (`hosts.lifeline.wait_for_exit`: a pidfd on Linux,
a parent-handle wait on Windows) and asks this host to stop as Ctrl-C/SIGTERM would, so it
flushes and exits; if it has not after `grace` seconds, the process ends anyway. Not
`PR_SET_PDEATHSIG`: that is Linux-only and fires when the spawning *thread* exits.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Mapping
from typing import Final

from hosts.lifeline import EXIT_CODE, wait_for_exit

SUPERVISOR_PID_ENV: Final = "TRADINGCORE_SUPERVISOR_PID"
READY_FILE_ENV: Final = "TRADINGCORE_STOP_HANDLER_FILE"
"""A path the host creates once its stop handler is in: the supervisor asks no stop before."""
GRACE_S: Final = 30.0
"""Time the host has to flush and exit on its own once the supervisor is gone."""


def stop_with_supervisor(environ: Mapping[str, str] = os.environ) -> threading.Thread | None:
    """Start the watch when the supervisor named us its child; return the thread, if any."""
    text = environ.get(SUPERVISOR_PID_ENV, "")
    if not text.isdigit():
        return None
    thread = threading.Thread(
        target=_watch, args=(int(text), GRACE_S), name="supervisor-lifeline", daemon=True
    )
    thread.start()
    return thread


def _watch(supervisor_pid: int, grace: float) -> None:
    wait_for_exit(supervisor_pid)
    _ask_main_thread_to_stop()
    time.sleep(grace)
    os._exit(EXIT_CODE)


def _ask_main_thread_to_stop() -> None:
    if sys.platform == "win32":
        signal.raise_signal(signal.SIGBREAK)
        return
    main = threading.main_thread().ident
    if main is not None:
        # To the main thread itself: a process-wide signal may land on another thread and
        # leave the main thread asleep in a lock wait that only EINTR would end.
        signal.pthread_kill(main, signal.SIGTERM)
