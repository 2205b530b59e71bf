"""A real API process whose SQLite store is on a disk that fills up: a tmpfs of 8 MiB mounted in
a mount namespace of the server's own, filled by the test through /proc/PID/root.

Bounded: at most 40 orders while the disk is full, one after it has room again.
"""

from __future__ import annotations

import errno
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.server import ApiServer, create_key
from tests.api.test_api import SIGNAL
from tests.api.test_server import eventually, order_body

MOUNT = 'mount -t tmpfs -o size=8m tc-disk-full "$0" && exec "$@"'


def can_mount_tmpfs(directory: Path) -> bool:
    try:
        tried = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", MOUNT, str(directory),
             "true"],
            capture_output=True, timeout=10, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return False
    return tried.returncode == 0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ApiServer]:
    disk = tmp_path / "disk"
    disk.mkdir()
    if not can_mount_tmpfs(disk):
        pytest.skip("needs unshare --mount and tmpfs (root, or a user namespace)")
    (tmp_path / "key").write_text(create_key(tmp_path / "keys.json", "alice", "trader"))
    running = ApiServer(tmp_path, tmp_path / "keys.json")
    store = running.command.index("--store") + 1
    running.command[store] = f"sqlite:///{disk / 'events.sqlite'}"
    prefix = ["unshare", "--mount", "--propagation", "private", "sh", "-c", MOUNT, str(disk)]
    running.command = [*prefix, *running.command]
    yield running.start()
    running.stop()


def server_disk(server: ApiServer, tmp_path: Path) -> Path:
    """The tmpfs the server's store is on, as this process sees it (its mount namespace)."""
    assert server.process is not None
    return Path(f"/proc/{server.process.pid}/root") / tmp_path.relative_to("/") / "disk"


def fill(directory: Path) -> Path:
    """Write zeros into `directory` until its file system is full; return the filler file."""
    filler = directory / "filler"
    chunk = bytes(64 * 1024)
    with filler.open("wb", buffering=0) as file:
        for _ in range(1_000):  # bounded: 64 MiB, eight times the disk
            try:
                file.write(chunk)
            except OSError as error:
                assert error.errno == errno.ENOSPC, error
                break
        for size in (4096, 512, 1):  # the last blocks too
            try:
                while True:
                    file.write(bytes(size))
            except OSError:
                pass
    return filler


def test_sqlite_on_a_full_disk_orders_get_503_naming_the_cause_and_health_says_so(
    server: ApiServer, tmp_path: Path
) -> None:
    disk, trader = server_disk(server, tmp_path), {"X-API-Key": (tmp_path / "key").read_text()}
    execute = f"{server.url}/api/v1/execute"
    first = httpx.post(execute, json=order_body(client_order_id="before"), headers=trader)
    filler = fill(disk)

    answers, bodies = [], []
    for number in range(40):  # a write may still fit in space SQLite already holds
        bodies.append(order_body(price=127_000 + 5 * number, client_order_id=f"full-{number}"))
        answers.append(httpx.post(execute, json=bodies[-1], headers=trader))
        if answers[-1].status_code == 503:
            break
    health = httpx.get(f"{server.url}/health", timeout=2)
    filler.unlink()
    retried = httpx.post(execute, json=bodies[-1], headers=trader)  # the refused order again

    assert first.status_code in (201, 422), first.text
    statuses = [answer.status_code for answer in answers]
    assert statuses[-1] == 503, statuses
    assert 500 not in statuses
    assert "full" in answers[-1].json()["detail"], answers[-1].text
    assert health.status_code == 503
    assert health.json()["store"]["ok"] is False
    assert "full" in health.json()["store"]["detail"]
    assert retried.status_code == 201, retried.text  # created now: the 503 had stored nothing
    # The next probe sees the store's newest notification move past the failure: ok again.
    eventually(lambda: httpx.get(f"{server.url}/health", timeout=2).status_code == 200)
    assert "Traceback" not in server.errors()


def test_signal_batch_on_a_full_disk_is_refused_retryably_and_taken_whole_after(
    server: ApiServer, tmp_path: Path
) -> None:
    disk, trader = server_disk(server, tmp_path), {"X-API-Key": (tmp_path / "key").read_text()}
    batch_url = f"{server.url}/api/v1/signals/batch"
    signals = [
        {**SIGNAL, "tick_trade_id": 10 * (number + 1), "features": {"aggressor_flow": number}}
        for number in range(100)
    ]
    filler = fill(disk)

    full = httpx.post(batch_url, json={"signals": signals}, headers=trader, timeout=30)
    filler.unlink()
    again = httpx.post(batch_url, json={"signals": signals}, headers=trader, timeout=30)
    listed = httpx.get(f"{server.url}/api/v1/signals?limit=200", headers=trader, timeout=10).json()[
        "signals"
    ]

    # What the forwarder retries: the whole answer 503, or a 200 naming a 503 for a signal.
    if full.status_code == 200:
        statuses = [result["status"] for result in full.json()["results"]]
        assert 503 in statuses and 500 not in statuses, statuses
    else:
        assert full.status_code == 503, full.text
        assert "full" in full.json()["detail"]
    assert again.status_code == 200, again.text
    assert {result["status"] for result in again.json()["results"]} <= {200, 201}
    assert sorted(signal["tick_trade_id"] for signal in listed) == [
        10 * (number + 1) for number in range(100)
    ]  # each once: what the full disk took is not stored twice
    assert "Traceback" not in server.errors()
