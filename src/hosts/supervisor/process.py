"""Child processes of the supervisor: start one tied to our life, stop it gently, then surely.

Each host runs in its own process group (a new session on POSIX, CREATE_NEW_PROCESS_GROUP on
Windows), so a Ctrl-C in the console reaches only the supervisor, which then stops the hosts
in reverse start order. A host also stops when the supervisor dies, however it dies
(`hosts.supervised`), so no host outlives it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from itertools import count
from pathlib import Path
from typing import IO, Any, Final

from hosts.supervised import READY_FILE_ENV, SUPERVISOR_PID_ENV

Child = subprocess.Popen[bytes]

READY_WAIT_S: Final = 20.0
"""How long a stop waits for a starting host to say its stop handler is in; then it is asked
anyway (and killed after the stop timeout, as any host that does not stop)."""


def spawn(command: Sequence[str], *, env: Mapping[str, str], output: IO[bytes]) -> Child:
    """Start a host; its stdout and stderr go to `output` (a file the supervisor keeps).

    The host learns our pid (TRADINGCORE_SUPERVISOR_PID) and stops when we die
    (`hosts.supervised`)."""
    options: dict[str, Any] = {}
    if sys.platform == "win32":
        options["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
    else:
        options["start_new_session"] = True
    # POSIX: the host starts with SIGTERM blocked (a child inherits the forking thread's mask)
    # and unblocks it once its handler is in (`hosts.cli.exit_cleanly_while_starting`): a stop
    # asked while the interpreter starts waits for it, rather than kill it (exit -15).
    # Everywhere (and the only guard on Windows, which has no signal masks: a CTRL_BREAK that
    # reaches an interpreter still starting ends it with 0xC000013A): the host creates its
    # ready file once its handler is in, and `request_stop` waits for that file.
    ready = _ready_path()
    blocked = _block_sigterm()
    try:
        child = subprocess.Popen(
            list(command),
            env={**env, SUPERVISOR_PID_ENV: str(os.getpid()), READY_FILE_ENV: str(ready)},
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            **options,
        )
    finally:
        _restore_mask(blocked)
    _JOBS[child.pid] = _windows_job(child)
    _READY[child.pid] = ready
    return child


_READY: dict[int, Path] = {}
"""Each host's ready file (`hosts.cli.exit_cleanly_while_starting` creates it)."""
_ready_names = count(1)
_ready_directory: list[Path] = []


def _ready_path() -> Path:
    if not _ready_directory:
        _ready_directory.append(Path(tempfile.mkdtemp(prefix="tradingcore-hosts-")))
    return _ready_directory[0] / f"{os.getpid()}-{next(_ready_names)}.ready"


def wait_until_stoppable(child: Child, timeout: float = READY_WAIT_S) -> bool:
    """Wait until the host's stop handler is in (or it exited); False after `timeout`."""
    ready = _READY.get(child.pid)
    if ready is None:
        return True  # not started by `spawn`: nothing to wait for
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if child.poll() is not None:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def _block_sigterm() -> set[int | signal.Signals] | None:
    if sys.platform == "win32":  # no signal masks: the host's handler covers it from hosts.cli
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})


def _restore_mask(previous: set[int | signal.Signals] | None) -> None:
    if sys.platform != "win32" and previous is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def request_stop(child: Child, ready_timeout: float = READY_WAIT_S) -> None:
    """Ask a host to flush and exit: SIGTERM, or CTRL_BREAK to its group on Windows; a host
    still starting is asked once its handler is in (`wait_until_stoppable`)."""
    if child.poll() is not None:
        return
    wait_until_stoppable(child, ready_timeout)
    if child.poll() is not None:
        return
    try:
        if sys.platform == "win32":
            child.send_signal(signal.CTRL_BREAK_EVENT)
        else:
            child.send_signal(signal.SIGTERM)
    except ProcessLookupError:
        pass


def stop(child: Child, timeout: float) -> int:
    """Ask a host to exit, wait up to `timeout` seconds, then kill it; return its exit code."""
    request_stop(child)
    try:
        return child.wait(timeout)
    except subprocess.TimeoutExpired:
        if not _terminate_job(_JOBS.get(child.pid)):
            child.kill()
        return child.wait()
    finally:
        _close_job(_JOBS.pop(child.pid, None))
        ready = _READY.pop(child.pid, None)
        if ready is not None:
            ready.unlink(missing_ok=True)


_JOBS: dict[int, int | None] = {}
"""Windows: each host's job object. A venv's python.exe is a launcher that runs the real
interpreter as its child; killing the job kills both, where killing the launcher would leave
the interpreter running."""


def _windows_job(child: Child) -> int | None:
    if sys.platform != "win32":  # tells mypy which platform this is checked for
        return None
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.CreateJobObjectW.restype = wintypes.HANDLE
    job = kernel32.CreateJobObjectW(None, None)
    if not job:
        return None
    # The launcher starts the interpreter a moment later, inside the job (children inherit it).
    handle: int = getattr(child, "_handle")  # noqa: B009 - Popen's process handle, Windows only
    if not kernel32.AssignProcessToJobObject(wintypes.HANDLE(job), wintypes.HANDLE(handle)):
        kernel32.CloseHandle(wintypes.HANDLE(job))
        return None
    return int(job)


def _terminate_job(job: int | None) -> bool:
    if sys.platform != "win32" or job is None:
        return False
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    return bool(kernel32.TerminateJobObject(wintypes.HANDLE(job), 1))


def _close_job(job: int | None) -> None:
    if sys.platform != "win32" or job is None:
        return
    import ctypes
    from ctypes import wintypes

    ctypes.WinDLL("kernel32", use_last_error=True).CloseHandle(wintypes.HANDLE(job))


def pid_alive(pid: int) -> bool:
    """Tell whether a process with this id runs (never signals it, on any platform)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """A process that exited but was not yet reaped by its parent (Linux): it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]


def _windows_pid_alive(pid: int) -> bool:
    if sys.platform != "win32":  # tells mypy which platform this is checked for
        return False
    import ctypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    synchronize, still_active = 0x00100000, 259
    query_limited = 0x1000
    handle = kernel32.OpenProcess(synchronize | query_limited, False, pid)
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return False
        return code.value == still_active
    finally:
        kernel32.CloseHandle(handle)


def open_output(directory: Path, name: str) -> IO[bytes]:
    """Open (append) the file a host's console output goes to."""
    directory.mkdir(parents=True, exist_ok=True)
    return (directory / f"{name}.out").open("ab")
