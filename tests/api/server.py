"""Run `python -m hosts.api` as a real process on a free loopback port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

PYTHON = sys.executable


def create_key(keys_file: Path, name: str, role: str) -> str:
    """Create a key through the command line, as a user would; return the printed key."""
    done = subprocess.run(
        [
            PYTHON,
            "-m",
            "hosts.api",
            "--keys-file",
            str(keys_file),
            "--create-key",
            name,
            "--role",
            role,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout.strip()


class ApiServer:
    """A uvicorn-served API host in a subprocess; `url` is known once it listens."""

    def __init__(self, directory: Path, keys_file: Path, extra: Sequence[str] = ()) -> None:
        self.directory = directory
        self.command = [
            PYTHON, "-m", "hosts.api",
            "--store", f"sqlite:///{directory / 'events.sqlite'}",
            "--keys-file", str(keys_file),
            "--port", "0",
            "--log-dir", str(directory / "logs"),
            "--trading-hours", "always",
            *extra,
        ]  # fmt: skip
        self.process: subprocess.Popen[str] | None = None
        self.stderr_path = directory / "server.stderr"
        self.url = ""

    @property
    def store_url(self) -> str:
        return f"sqlite:///{self.directory / 'events.sqlite'}"

    def start(self) -> ApiServer:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        # stderr goes to a file: an undrained pipe would block a chatty server.
        self.stderr_path = self.directory / f"server-{time.monotonic_ns()}.stderr"
        with self.stderr_path.open("w") as stderr:
            self.process = subprocess.Popen(
                self.command, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env
            )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if "listening on" not in line:
            self.stop()
            raise RuntimeError(f"the API did not start: {line!r} {self.errors()}")
        self.url = line.rsplit(" ", 1)[-1].strip()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code in (200, 503):
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError(f"the API at {self.url} never answered /health: {self.errors()}")

    def errors(self) -> str:
        return self.stderr_path.read_text() if self.stderr_path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
