"""A real `tradingcore up` in a temporary folder: free ports, its log, its state, its processes."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

WAIT_S = 240.0
"""Generous: the box is shared and the analytics host imports scikit-learn at start."""


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for item in sockets:
            item.bind(("127.0.0.1", 0))
        return [item.getsockname()[1] for item in sockets]
    finally:
        for item in sockets:
            item.close()


def write_config(folder: Path, **sections: dict[str, Any]) -> Path:
    """Write a tradingcore.toml with free ports, fast backoff and the given overrides."""
    ws, analytics_metrics, capture_metrics, api, supervisor = free_ports(5)
    plain: dict[str, dict[str, Any]] = {
        "capture": {"metrics_port": capture_metrics, "trades": 1_000_000, "rate": 100.0},
        "analytics": {"port": ws, "metrics_port": analytics_metrics},
        "api": {"port": api},
        "risk": {"trading_hours": "always"},
        "supervisor": {
            "metrics_port": supervisor,
            "backoff_initial": 0.5,
            "backoff_max": 4.0,
            "health_timeout": WAIT_S,
            "stop_timeout": 30.0,
        },
    }
    for name, values in sections.items():
        plain.setdefault(name, {}).update(values)
    lines = []
    for name, values in plain.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    path = folder / "tradingcore.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class System:
    """One `tradingcore up` process and what it leaves in its folder."""

    def __init__(self, folder: Path, *arguments: str) -> None:
        self.folder = folder
        self.output = (folder / "up.out").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hosts.cli", "up", "--config", "tradingcore.toml", *arguments],
            cwd=folder,
            stdout=self.output,
            stderr=subprocess.STDOUT,
        )

    def tradingcore(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hosts.cli", *arguments, "--config", "tradingcore.toml"],
            cwd=self.folder,
            capture_output=True,
            text=True,
            check=False,
            timeout=WAIT_S,
        )

    def log(self) -> list[dict[str, Any]]:
        entries = []
        for path in sorted((self.folder / "data/logs/supervisor").glob("*.jsonl")):
            entries += [json.loads(line) for line in path.read_text().splitlines() if line]
        return entries

    def events(self, message: str) -> list[dict[str, Any]]:
        return [entry["context"] for entry in self.log() if entry["message"] == message]

    def state(self) -> dict[str, Any]:
        return dict(json.loads((self.folder / "data/supervisor/state.json").read_text()))

    def printed(self) -> str:
        return (self.folder / "up.out").read_text(errors="replace")

    def wait_for(self, what: str, condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + WAIT_S
        while not condition():
            if self.process.poll() is not None and not condition():
                raise AssertionError(f"up exited ({self.process.returncode}) before {what}:\n"
                                     + self.printed())  # fmt: skip
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n{self.printed()}")
            time.sleep(0.2)

    def wait_started(self) -> None:
        self.wait_for("the system to start", lambda: bool(self.events("system started")))

    def metric(self, name: str, labels: str) -> float | None:
        port = self.state()["metrics"].rsplit(":", 1)[1].split("/")[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
        for line in text.splitlines():
            if line.startswith(f"{name}{{{labels}}} "):
                return float(line.split()[-1])
        return None

    def close(self) -> None:
        """Make sure nothing is left running, whatever the test did."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.output.close()


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    """The pids that still run (zombies count as gone)."""
    running = set()
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if text.rsplit(")", 1)[1].split()[0] != "Z":
            running.add(pid)
    return running


def wait_gone(pids: set[int], timeout: float = 60.0) -> set[int]:
    deadline = time.monotonic() + timeout
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return alive(pids)
