"""Helper processes die with their parent, always: SIGKILL a host at a random moment (seeded)
and no process it started survives it, nor spins.

Real processes: the analytics host with its writer and trainer processes, taking ticks over
WebSocket while it is killed; the API host. The processes of the system are every descendant
of the host seen before the kill (walked in /proc by parent pid, with each one's start time, so
a reused pid is not mistaken for a survivor).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

from tests.analytics.factories import session, tick_json
from tests.api.server import ApiServer, create_key

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="walks /proc (Linux)"),
]

EXIT_BOUND_S = 30.0
"""How long the helpers may take to notice and stop (a liveness bound, not a speed figure:
they normally go within a second)."""
FAST = [
    "--window=20",
    "--momentum-lag=5",
    "--horizon=10",
    "--train-stride=2",
    "--batch-size=40",
    "--update-delay=7",
]

Process = tuple[int, int]
"""(pid, start time in clock ticks since boot)."""


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from the state on


def _alive(process: Process) -> bool:
    fields = _stat(process[0])
    return fields is not None and int(fields[19]) == process[1] and fields[0] not in "ZX"


def _cpu_ticks(process: Process) -> int:
    fields = _stat(process[0])
    return 0 if fields is None else int(fields[11]) + int(fields[12])


def descendants(root: int) -> set[Process]:
    """Every living process below `root` in the process tree."""
    parents: dict[int, list[Process]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        if fields is None or fields[0] in "ZX":
            continue
        parents.setdefault(int(fields[1]), []).append((int(entry.name), int(fields[19])))
    found: set[Process] = set()
    todo = [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.add(child)
            todo.append(child[0])
    return found


def wait_for_descendants(root: int, count: int, bound: float = 60.0) -> set[Process]:
    deadline = time.monotonic() + bound
    while True:
        found = descendants(root)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def assert_all_end(processes: set[Process]) -> None:
    """Every process ends within `EXIT_BOUND_S`; if not, say which and whether it spins."""
    deadline = time.monotonic() + EXIT_BOUND_S
    while time.monotonic() < deadline and any(_alive(p) for p in processes):
        time.sleep(0.05)
    survivors = {p for p in processes if _alive(p)}
    if survivors:
        before = {p: _cpu_ticks(p) for p in survivors}
        time.sleep(1.0)
        report = [
            f"pid {pid}: {_cpu_ticks((pid, start)) - before[(pid, start)]} CPU ticks in 1 s, "
            + Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            for pid, start in survivors
        ]
        for pid, _ in survivors:  # do not leave them to the next test
            os.kill(pid, signal.SIGKILL)
        pytest.fail("survived their parent's SIGKILL:\n" + "\n".join(report))


def start_analytics(tmp_path: Path, writer: str) -> tuple[subprocess.Popen[str], str]:
    command = [
        sys.executable, "-m", "hosts.analytics",
        "--listen=127.0.0.1:0",
        f"--store=sqlite:///{tmp_path / 'events.sqlite'}",
        f"--log-dir={tmp_path / 'logs'}",
        f"--writer={writer}",
        "--trainer=process",
        "--metrics-port=0",
        *FAST,
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    host = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert host.stdout is not None
    line = host.stdout.readline()
    assert line.startswith("analytics listening on ws://"), line
    return host, line.split()[-1]


def send_ticks(url: str, stop: threading.Event) -> None:
    """Send ticks until stopped or the host is gone."""
    try:
        with connect(url) as client:
            for event in session(100_000, seed=5):
                if stop.is_set():
                    return
                client.send(tick_json(event))
    except (OSError, WebSocketException):
        return  # the host was killed


@pytest.mark.parametrize(
    ("writer", "seed"), [("process", 1), ("process", 2), ("split", 3), ("split", 4)]
)
def test_no_helper_of_the_analytics_host_survives_its_sigkill(
    tmp_path: Path, writer: str, seed: int
) -> None:
    rng = random.Random(seed)
    host, url = start_analytics(tmp_path, writer)
    stop = threading.Event()
    sender = threading.Thread(target=send_ticks, args=(url, stop), daemon=True)
    try:
        helpers = wait_for_descendants(host.pid, 2)
        assert len(helpers) >= 2, helpers  # the writer and the trainer
        sender.start()
        time.sleep(rng.uniform(0.0, 3.0))  # a random moment: idle, warming up, or busy
        helpers |= descendants(host.pid)
        host.kill()
        host.wait(timeout=30)
        assert_all_end(helpers)
    finally:
        stop.set()
        if host.poll() is None:
            host.kill()
            host.wait()
        sender.join(timeout=30)


def test_the_writer_process_stops_when_its_host_socket_closes_while_idle(
    tmp_path: Path,
) -> None:
    """The case seen: the host killed with nothing in flight; the writer process spun on the
    closed socket."""
    host, _ = start_analytics(tmp_path, "process")
    try:
        helpers = wait_for_descendants(host.pid, 2)
        assert len(helpers) >= 2, helpers
        time.sleep(1.0)  # both warmed up and idle
        host.kill()
        host.wait(timeout=30)
        assert_all_end(helpers)
    finally:
        if host.poll() is None:
            host.kill()
            host.wait()


@pytest.mark.parametrize("seed", [1, 2])
def test_nothing_the_api_host_started_survives_its_sigkill(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    keys = tmp_path / "keys.json"
    create_key(keys, "trader", "trader")
    server = ApiServer(tmp_path, keys).start()
    assert server.process is not None
    try:
        time.sleep(rng.uniform(0.0, 1.0))
        processes = descendants(server.process.pid)
        server.process.kill()
        server.process.wait(timeout=30)
        assert_all_end(processes)
    finally:
        server.stop()
