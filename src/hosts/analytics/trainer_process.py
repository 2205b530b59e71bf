"""Model training in a process of its own, so a `partial_fit` never stalls the tick thread.

A batch update holds the GIL for its whole run (~3 ms of sklearn here, more on a busy box),
so on a thread of the host it stops the tick thread once per update. Here the host sends the
model, the rows and the labels (pickle: both ends are our own code; ~0.1 ms), a trainer
process runs the very same `OnlineModel.train` on its copy and sends back the scaler, the
classifier and the accuracy history, which the waiter puts in the host's model. The same code
on the same state gives the same floats, so live and replay stay bit-identical.

If the trainer process dies or cannot be reached, the waiter trains on the calling thread
instead (same result, only slower) and a new trainer process is started.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from hosts.lifeline import watch_parent
from tradingcore.analytics.model import FloatArray, OnlineModel

MAX_OUTSTANDING: Final = 4
"""Trainings sent and not answered beyond which the next trains on the calling thread (the
socket then never fills, so sending never blocks the tick thread)."""
RESTART_SECONDS: Final = 0.2
STOP_SECONDS: Final = 10.0
READY: Final = (-1, None, None)
"""What the trainer process sends once warmed up."""
Result = tuple[Any, Any, Any] | None
"""(scaler, classifier, accuracy history), or None when the training failed or was lost."""


class ProcessTrainer:
    """`train(model, rows, labels)` as the pipeline's `Trainer`, run in a trainer process."""

    def __init__(self, on_failure: Callable[[str], None] | None = None) -> None:
        self.on_failure = on_failure
        self.restarts = 0
        self.local = 0
        """Trainings run on the calling thread because the process could not do them."""
        self._lock = threading.Condition()
        self._results: dict[int, Result] = {}
        self._outstanding: set[int] = set()
        self._next = 0
        self._closing = False
        self._ready = threading.Event()
        self._process: subprocess.Popen[bytes] | None = None
        self._connection: Connection | None = None
        self._reader: threading.Thread | None = None
        self._spawn()

    def ready(self, timeout: float = 30.0) -> bool:
        """Wait until a trainer process has warmed up; return False on timeout."""
        return self._ready.wait(timeout)

    @property
    def pid(self) -> int | None:
        """The trainer process's id (tests kill it)."""
        return None if self._process is None else self._process.pid

    def train(
        self, model: OnlineModel, rows: FloatArray, labels: npt.NDArray[np.int64]
    ) -> Callable[[], None]:
        with self._lock:
            number = self._next
            self._next += 1
            connection = self._connection
            busy = len(self._outstanding) >= MAX_OUTSTANDING
            if not busy and connection is not None:
                self._outstanding.add(number)
        if busy or connection is None:
            return self._train_here(model, rows, labels)
        try:
            connection.send_bytes(pickle.dumps((number, model, rows, labels), protocol=5))
        except OSError:
            with self._lock:
                self._outstanding.discard(number)
            return self._train_here(model, rows, labels)

        def wait() -> None:
            with self._lock:
                self._lock.wait_for(lambda: number in self._results)
                result = self._results.pop(number)
            if result is None:
                self.local += 1
                model.train(rows, labels)  # lost with the process: the same, here
            else:
                model.scaler, model.classifier, model.accuracy_history = result

        return wait

    def close(self) -> None:
        with self._lock:
            self._closing = True
            connection, process = self._connection, self._process
        if connection is not None:
            with contextlib.suppress(OSError):
                connection.send_bytes(pickle.dumps(None))
        if process is not None:
            wait_helper(process)
        if self._reader is not None:
            self._reader.join(STOP_SECONDS)
        if connection is not None:
            connection.close()

    def _train_here(
        self, model: OnlineModel, rows: FloatArray, labels: npt.NDArray[np.int64]
    ) -> Callable[[], None]:
        self.local += 1
        model.train(rows, labels)
        return _done

    def _spawn(self) -> None:
        process, connection = spawn_helper(__name__)
        with self._lock:
            old = self._connection
            self._process, self._connection = process, connection
        if old is not None:
            old.close()
        self._reader = threading.Thread(
            target=self._receive_loop, args=(connection, process), name="trainer-results"
        )
        self._reader.daemon = True
        self._reader.start()

    def _receive_loop(self, connection: Connection, process: subprocess.Popen[bytes]) -> None:
        while True:
            try:
                number, result, error = pickle.loads(connection.recv_bytes())
            except (EOFError, OSError):
                break
            if number == READY[0]:
                self._ready.set()
                continue
            if error is not None and self.on_failure is not None:
                self.on_failure(error)
            with self._lock:
                self._outstanding.discard(number)
                self._results[number] = result
                self._lock.notify_all()
        wait_helper(process)
        with self._lock:
            for number in self._outstanding:  # lost: their waiters train themselves
                self._results[number] = None
            self._outstanding.clear()
            self._connection = None
            self._lock.notify_all()
            closing = self._closing
        if not closing:
            if self.on_failure is not None:
                self.on_failure(f"trainer process exited (code {process.returncode}); restarting")
            self.restarts += 1
            time.sleep(RESTART_SECONDS)
            self._spawn()


HELPER_PROCESSES: Final = sys.platform != "win32"
"""Whether the trainer and writer can run as helper processes here (they are handed one end
of a socket pair by file descriptor, which Windows' `subprocess` cannot do): the defaults
fall back to threads of the host elsewhere."""


def spawn_helper(module: str) -> tuple[subprocess.Popen[bytes], Connection]:
    """Start `python -m MODULE FD PARENT_PID` (a fresh interpreter: not a fork of this
    threaded process, nor multiprocessing's spawn, which re-runs the main script) with one end
    of a socket pair as FD; return the process and our end. The helper ends when we do: EOF on
    its socket, and `helper_main`'s lifeline as the backstop."""
    mine, theirs = socket.socketpair()
    with theirs:
        process = subprocess.Popen(
            [sys.executable, "-m", module, str(theirs.fileno()), str(os.getpid())],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            env=helper_environment(),
        )
    return process, Connection(mine.detach())


def helper_environment() -> dict[str, str]:
    """The environment of a helper process: BLAS and OpenMP on one thread. Their worker
    threads spin-wait after each call, which on a small box takes cores from the tick thread
    (and a 1,000-row batch gains nothing from them)."""
    return {
        **os.environ,
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def yield_to_the_tick_thread() -> None:
    """Put this helper process in Linux's `SCHED_BATCH` class: it keeps its full share of CPU
    but never preempts a running thread when it wakes up. A helper woken by work (a batch to
    train, feature rows to store) otherwise takes the CPU from the tick thread at once, on a
    small box for its whole run (1.5 ms and more), while ticks wait."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))


def warm_up() -> None:
    """Import sklearn and run one small training now, not at the first update (their first
    use costs a CPU for ~1 s on this box, beside the tick thread)."""
    from tradingcore.analytics.config import AnalyticsConfig

    model = OnlineModel(AnalyticsConfig())
    model.train(np.zeros((6, 5)), np.array([0, 1, 2, 0, 1, 2], dtype=np.int64))
    gc.collect()
    gc.freeze()


def _done() -> None:
    """Nothing to wait for."""


def wait_helper(process: subprocess.Popen[bytes]) -> None:
    """Wait for a helper process to end; kill it if it does not within `STOP_SECONDS`."""
    try:
        process.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(STOP_SECONDS)


def helper_main(serve: Callable[[Connection], None]) -> None:
    """A helper process's entry point (`spawn_helper`'s command line): watch the parent, then
    serve on the socket it handed over."""
    watch_parent(int(sys.argv[2]))
    serve(Connection(int(sys.argv[1])))


def serve(host: Connection) -> None:
    """Run in the trainer process: warm up, then train what comes, send back the results."""
    yield_to_the_tick_thread()
    warm_up()
    try:
        host.send_bytes(pickle.dumps(READY))
    except OSError:
        return
    while True:
        try:
            job = pickle.loads(host.recv_bytes())
        except (EOFError, OSError):
            return
        if job is None:
            return
        number, model, rows, labels = job
        answer: tuple[int, Result, str | None]
        try:
            model.train(rows, labels)
            answer = (number, (model.scaler, model.classifier, model.accuracy_history), None)
        except Exception as error:  # the host trains it itself and reports the error
            answer = (number, None, f"{type(error).__name__}: {error}")
        try:
            host.send_bytes(pickle.dumps(answer, protocol=5))
        except OSError:
            return


if __name__ == "__main__":
    helper_main(serve)
